"""Fixtures of the EKS tests: the Eks stack of each session stage, and one variant synthesized here.

The stages' Eks templates come from the session's synthesis of the whole app (`sandbox`,
`production` in tests/conftest.py): the Eks stack reads nothing but the network from the other
stacks, so its template is the same there as in an app of Network and Eks alone. The variant
(Network and Eks only, with cdk-nag plugged in) turns on what both stages leave off: GPU node
group and pool, an existing admin, pinned add-ons, 1.35.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stacks.config import AppConfig
from stacks.config.loader import build
from stacks.eks_stack import EksStack
from tests.conftest import Synthesized, synthesize
from tests.helpers import logical_id

ADMIN_ARN = "arn:aws:iam::123456789012:role/PlatformAdmin"

# Everything the sandbox leaves off, on: private endpoint, existing admin, GPU group and pool,
# pinned add-ons, the older supported Kubernetes version.
VARIANT_EKS: dict[str, Any] = {
    "kubernetes_version": "1.35",
    "cluster_name": "ml-experiments",
    "admin_principal_arn": ADMIN_ARN,
    "endpoint": {"access": "private"},
    "control_plane_logs": ["api", "audit", "authenticator", "scheduler"],
    "addon_versions": {"vpc-cni": "v1.20.4-eksbuild.2", "eks-pod-identity-agent": "v1.3.8-eksbuild.2"},
    "gpu_nodes": {"enabled": True, "instance_types": ["g5g.xlarge"]},
    "karpenter": {"gpu": {"enabled": True, "gpu_limit": 4, "cpu_limit": 32}},
}


def eks_only(config: AppConfig) -> AppConfig:
    """The same configuration with the other feature stacks off: Network and Eks remain."""
    return dataclasses.replace(
        config,
        registry=dataclasses.replace(config.registry, enabled=False),
        ecs=dataclasses.replace(config.ecs, enabled=False),
        ecs_anywhere=dataclasses.replace(config.ecs_anywhere, enabled=False),
    )


class EksSynth:
    """One synthesis: the Eks stack object (for logical ids) and its template."""

    def __init__(self, result: Synthesized) -> None:
        self.result = result
        stack = result.stacks["Eks"]
        assert isinstance(stack, EksStack)
        self.stack = stack
        self.template = result.template("Eks")
        self.json = result.template_json("Eks")

    def depends_on(self, construct: Any) -> set[str]:
        return set(self.json["Resources"][logical_id(construct)].get("DependsOn", []))


@pytest.fixture(scope="session")
def eks_sandbox(sandbox: Synthesized) -> EksSynth:
    return EksSynth(sandbox)


@pytest.fixture(scope="session")
def eks_variant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EksSynth]:
    config = eks_only(build(AppConfig, {"eks": VARIANT_EKS}))
    yield EksSynth(synthesize(config, outdir=Path(tmp_path_factory.mktemp("eks-variant-"))))


@pytest.fixture(scope="session")
def eks_production(production: Synthesized) -> EksSynth:
    return EksSynth(production)
