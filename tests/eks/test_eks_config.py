"""Configuration of the Eks stack: bad input fails with one line naming the key and the value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from constructs_lib.eks.karpenter import GpuNodePoolSpec, NodeClassSpec, NodePoolSpec
from stacks.config import AppConfig, load_config
from stacks.config.loader import build
from tests.helpers import one_line_error, run_python


def test_defaults_are_the_newest_supported_version_and_cheap_sandbox_sizes() -> None:
    eks = load_config(stage="sandbox").eks
    assert eks.kubernetes_version == "1.36"
    assert eks.endpoint.access == "public_and_private"
    assert (eks.system_nodes.instance_types, eks.system_nodes.desired_size) == (("t4g.medium",), 2)
    assert not eks.gpu_nodes.enabled and not eks.karpenter.gpu.enabled
    assert eks.karpenter.bottlerocket_version.startswith("v")


def test_production_keeps_the_endpoint_private() -> None:
    eks = load_config(stage="production").eks
    assert eks.endpoint.access == "private"


@pytest.mark.parametrize(
    ("eks", "message"),
    [
        ({"kubernetes_version": "1.34"}, "eks.kubernetes_version must be one of '1.35', '1.36', got '1.34'"),
        (
            {"karpenter": {"bottlerocket_version": "v1.51.0"}},
            "eks.karpenter.bottlerocket_version must be v1.61.0 or newer for kubernetes_version 1.36 "
            "(older releases have no images for it), got 'v1.51.0'",
        ),
        (
            {"kubernetes_version": 1.36},
            "eks.kubernetes_version must be a string (quote it in YAML), got 1.36",
        ),
        (
            {"karpenter": {"gpu": {"instance_families": []}}},
            "eks.karpenter.gpu.instance_families must not be empty, got ()",
        ),
        (
            {"karpenter": {"general": {"instance_categories": []}}},
            "eks.karpenter.general.instance_categories must not be empty, got ()",
        ),
        (
            {"karpenter": {"general": {"architectures": ["arm64", "riscv64"]}}},
            "eks.karpenter.general.architectures must be a subset of amd64, arm64, got ('arm64', 'riscv64')",
        ),
        (
            {"karpenter": {"gpu": {"enabled": True}}},
            "eks.karpenter.gpu.gpu_limit must be set when the GPU pool is enabled",
        ),
        (
            {"karpenter": {"gpu": {"enabled": True, "gpu_limit": 2}}},
            "eks.karpenter.gpu.cpu_limit must be set when the GPU pool is enabled",
        ),
        (
            {"karpenter": {"general": {"cpu_limit": 0}}},
            "eks.karpenter.general.cpu_limit must be a positive whole number, got 0",
        ),
        (
            {"karpenter": {"bottlerocket_version": "latest"}},
            "eks.karpenter.bottlerocket_version must look like 'v1.65.0', got 'latest'",
        ),
        (
            {"karpenter": {"general": {"expire_after": "30d"}}},
            "eks.karpenter.general.expire_after must be a duration like 720h, 30m or Never, got '30d'",
        ),
        (
            {"endpoint": {"public_access_cidrs": ["10.0.0.0/33"]}},
            "eks.endpoint.public_access_cidrs[0] must be a CIDR block such as 203.0.113.0/24 or "
            "2001:db8::/32",
        ),
        (
            {"endpoint": {"public_access_cidrs": []}},
            "eks.endpoint.public_access_cidrs must list at least one CIDR block when access is public",
        ),
        ({"endpoint": {"access": "public"}}, "eks.endpoint.access must be one of"),
        ({"control_plane_logs": ["api", "audit"]}, "eks.control_plane_logs must include authenticator"),
        ({"control_plane_logs": ["api", "bogus"]}, "eks.control_plane_logs[1] must be one of"),
        ({"addon_versions": {"aws-ebs-csi-driver": "v1.0.0-eksbuild.1"}}, "eks.addon_versions may name only"),
        (
            {"addon_versions": {"vpc-cni": "latest"}},
            "eks.addon_versions.vpc-cni must look like v1.2.3-eksbuild.1",
        ),
        (
            {"admin_principal_arn": "PlatformAdmin"},
            "eks.admin_principal_arn must look like 'arn:aws:iam::111122223333:role/PlatformAdmin'",
        ),
        ({"system_nodes": {"instance_types": []}}, "eks.system_nodes.instance_types must list at least one"),
        (
            {"system_nodes": {"min_size": 1, "desired_size": 0}},
            "eks.system_nodes.desired_size must lie between min_size (1) and max_size (3), got 0",
        ),
        ({"system_nodes": {"enabled": False}}, "eks.system_nodes.enabled must be true"),
        (
            {"system_nodes": {"instance_types": ["t4g.medium", "t3.medium"]}},
            "eks.system_nodes.instance_types[1] must be a Graviton (arm64) type such as t4g.medium, "
            "got 't3.medium'",
        ),
        (
            {"gpu_nodes": {"enabled": True, "instance_types": ["inf2.xlarge"]}},
            "eks.gpu_nodes.instance_types[0] must be of an NVIDIA family",
        ),
        (
            {"gpu_nodes": {"enabled": True, "instance_types": ["g5g.xlarge", "g6.xlarge"]}},
            "eks.gpu_nodes.instance_types must all be arm64 (g5g) or all x86_64",
        ),
        # Only the defaults are the GPU group's own: the bounds are the system nodes'.
        ({"gpu_nodes": {"disk_size_gib": 10}}, "eks.gpu_nodes.disk_size_gib must be at least 20, got 10"),
        ({"sample_app": {"replica": 3}}, "eks.sample_app.replica is not a known setting"),
        (
            {"karpenter": {"general": {"disruption_budget": "all"}}},
            "eks.karpenter.general.disruption_budget must be a percentage or a count, got 'all'",
        ),
        ({"karpenter": {"gpu": {"gpu_limits": 2}}}, "eks.karpenter.gpu.gpu_limits is not a known setting"),
    ],
)
def test_fails_cleanly_on_bad_eks_configuration(eks: dict[str, Any], message: str) -> None:
    text = one_line_error(lambda: build(AppConfig, {"eks": eks}))
    assert text.startswith(message), text


def test_fails_on_an_unsupported_version_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("eks:\n  kubernetes_version: '1.37'\n")
    result = run_python(
        "app.py", env={"PATH": "/usr/bin:/bin", "CDK_CONTEXT_JSON": f'{{"config": "{config}"}}'}, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: eks.kubernetes_version must be one of '1.35', '1.36', got '1.37'"
    )
    assert "Traceback" not in result.stderr


def test_karpenter_pools_are_configured_with_the_constructs_own_props() -> None:
    # One schema per setting: the keys, defaults and checks of a pool are the construct's.
    karpenter = load_config(stage="sandbox").eks.karpenter
    assert type(karpenter.general) is NodePoolSpec
    assert type(karpenter.gpu) is GpuNodePoolSpec
    assert karpenter.bottlerocket_version == NodeClassSpec().bottlerocket_version
