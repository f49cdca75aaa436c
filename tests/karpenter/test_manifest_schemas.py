"""The EC2NodeClass and NodePools validate against Karpenter's own v1 schemas.

The schemas come from the npm package `@kubernetes-models/karpenter` (installed by `make setup`
from package-lock.json), generated from Karpenter's Go API types: required fields, enums
(operators, consolidation policy, volume types, IMDS options) and patterns (durations, budgets).
The deploy-time values in the manifests (node role name) are replaced by realistic strings first.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.eks.karpenter.node_pools import (
    GpuNodePoolSpec,
    NodeClassSpec,
    NodePoolSpec,
    ec2_node_class_manifest,
    general_node_pool_manifest,
    gpu_node_pool_manifest,
)
from tests.helpers import logical_id

from .conftest import CLUSTER_NAME, DISCOVERY, ROOT, Built

SCRIPT = Path(__file__).with_name("validate_manifests.mjs")
PACKAGE = ROOT / "node_modules" / "@kubernetes-models" / "karpenter"
ROLE_NAME = "Eks-KarpenterNodeRoleEDDDDC23-4Vq1Xh0ZkYbA"


def _node() -> str:
    bundled = ROOT / ".venv" / "node" / "bin" / "node"
    found = str(bundled) if bundled.exists() else shutil.which("node")
    if not found or not PACKAGE.exists():
        pytest.fail("node and node_modules/@kubernetes-models/karpenter are needed: run `make setup`")
    return found


def validate(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [_node(), str(SCRIPT)],
        input=json.dumps(manifests),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


def _synthesized_manifests(built: Built) -> list[dict[str, Any]]:
    """Every Karpenter object the construct applies, as CloudFormation will hand it to kubectl."""
    resources = built.template.to_json()["Resources"]
    manifests: list[dict[str, Any]] = []
    karpenter = built.karpenter
    for construct in [karpenter.node_class_manifest, *karpenter.node_pool_manifests.values()]:
        value = resources[logical_id(construct)]["Properties"]["Manifest"]
        if isinstance(value, dict):
            # The only token is the node role's name (a Ref); put a realistic role name there.
            value = "".join(p if isinstance(p, str) else ROLE_NAME for p in value["Fn::Join"][1])
        manifests.extend(json.loads(value))
    return manifests


def test_synthesized_node_class_and_pools_validate_against_karpenter_schemas(built: Built) -> None:
    manifests = _synthesized_manifests(built)
    assert sorted((m["kind"], m["metadata"]["name"]) for m in manifests) == [
        ("EC2NodeClass", "default"),
        ("NodePool", "general"),
        ("NodePool", "gpu"),
    ]
    results = validate(manifests)
    assert [r["errors"] for r in results] == [[], [], []], results


def _valid_set() -> list[dict[str, Any]]:
    node_class = NodeClassSpec(tags={"team": "platform"})
    return [
        ec2_node_class_manifest(
            node_class,
            role_name=ROLE_NAME,
            cluster_name=CLUSTER_NAME,
            discovery_tag=("karpenter.sh/discovery", DISCOVERY),
        ),
        general_node_pool_manifest(NodePoolSpec(), node_class),
        gpu_node_pool_manifest(
            GpuNodePoolSpec(enabled=True, gpu_limit=1, cpu_limit=8, memory_limit_gib=64), node_class
        ),
    ]


def test_builder_variants_validate_against_karpenter_schemas() -> None:
    results = validate(_valid_set())
    assert [r["errors"] for r in results] == [[], [], []], results


def _broken(index: int, path: list[str | int], value: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(_valid_set()[index])
    target: Any = manifest
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return manifest


@pytest.mark.parametrize(
    ("manifest", "fragment"),
    [
        (_broken(1, ["spec", "template", "spec", "requirements", 0, "operator"], "Within"), "operator"),
        (_broken(1, ["spec", "template", "spec", "expireAfter"], "30 days"), "expireAfter"),
        (_broken(1, ["spec", "disruption", "consolidationPolicy"], "Always"), "consolidationPolicy"),
        (_broken(1, ["spec", "template", "spec", "nodeClassRef"], KeyError), "nodeClassRef"),
        (_broken(2, ["spec", "template", "spec", "taints", 0, "effect"], "Never"), "effect"),
        (_broken(0, ["spec", "metadataOptions", "httpTokens"], "sometimes"), "httpTokens"),
        (_broken(0, ["spec", "blockDeviceMappings", 0, "ebs", "volumeType"], "gp9"), "volumeType"),
        (_broken(0, ["spec", "subnetSelectorTerms"], KeyError), "subnetSelectorTerms"),
    ],
    ids=[
        "operator",
        "expire-after",
        "consolidation",
        "node-class-ref",
        "taint",
        "imds",
        "volume",
        "subnets",
    ],
)
def test_fails_when_a_manifest_breaks_the_schema(manifest: dict[str, Any], fragment: str) -> None:
    (result,) = validate([manifest])
    assert result["errors"], f"the schema accepted an invalid {result['kind']}"
    assert fragment in result["errors"][0]
