"""Items 3, 4 composed: the stack maps the `eks.karpenter` settings onto the Karpenter construct."""

from __future__ import annotations

import json
from typing import Any

from tests.eks.conftest import EksSynth
from tests.helpers import logical_id, parse_json_property


def _pool(synth: EksSynth, name: str) -> dict[str, Any]:
    manifest = synth.stack.karpenter.node_pool_manifests[name]
    [pool] = json.loads(synth.json["Resources"][logical_id(manifest)]["Properties"]["Manifest"])
    return pool


def _requirements(pool: dict[str, Any]) -> dict[str, list[str]]:
    return {r["key"]: r["values"] for r in pool["spec"]["template"]["spec"]["requirements"]}


def test_general_pool_follows_the_configuration(eks_sandbox: EksSynth) -> None:
    pool = _pool(eks_sandbox, "general")
    assert pool["spec"]["limits"] == {"cpu": "16", "memory": "64Gi"}
    requirements = _requirements(pool)
    assert requirements["kubernetes.io/arch"] == ["arm64", "amd64"]
    assert requirements["karpenter.sh/capacity-type"] == ["spot", "on-demand"]
    assert requirements["karpenter.k8s.aws/instance-category"] == ["c", "m", "r"]
    assert requirements["karpenter.k8s.aws/instance-hypervisor"] == ["nitro"]
    assert set(eks_sandbox.stack.karpenter.node_pool_manifests) == {"general"}


def test_gpu_pool_is_on_with_its_limits_when_configured(eks_variant: EksSynth) -> None:
    pool = _pool(eks_variant, "gpu")
    assert pool["spec"]["limits"] == {"cpu": "32", "nvidia.com/gpu": "4"}
    assert _requirements(pool)["karpenter.k8s.aws/instance-family"] == ["g6", "g6e", "g5"]


def test_node_class_uses_the_pinned_bottlerocket_alias(eks_sandbox: EksSynth) -> None:
    manifest = eks_sandbox.stack.karpenter.node_class_manifest
    prop = eks_sandbox.json["Resources"][logical_id(manifest)]["Properties"]["Manifest"]
    # The node role's name is a token, so the manifest is an Fn::Join.
    [node_class] = parse_json_property(prop)
    assert node_class["spec"]["amiSelectorTerms"] == [{"alias": "bottlerocket@v1.65.0"}]
    assert node_class["spec"]["subnetSelectorTerms"] == [
        {"tags": {"karpenter.sh/discovery": "containers-update"}}
    ]


def test_controller_runs_on_the_system_nodes(eks_sandbox: EksSynth) -> None:
    chart = eks_sandbox.json["Resources"][logical_id(eks_sandbox.stack.karpenter.chart)]
    parsed = parse_json_property(chart["Properties"]["Values"])
    assert parsed["nodeSelector"] == {"kubernetes.io/os": "linux", "role": "system"}
    assert parsed["replicas"] == 2  # two system nodes, so the replicas can sit on different hosts


def test_kubectl_provider_logs_are_deleted_with_the_stack_and_after_the_last_kubectl_call(
    eks_sandbox: EksSynth,
) -> None:
    resources = eks_sandbox.json["Resources"]
    provider_groups = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Logs::LogGroup" and logical_id.startswith("ClusterKubectlProvider")
    }
    assert len(provider_groups) == 2
    for group_id in provider_groups:
        assert resources[group_id]["DeletionPolicy"] == "Delete"
        assert resources[group_id]["Properties"]["RetentionInDays"] == 7
    barrier = eks_sandbox.stack.cluster.cluster.node.find_child("KubectlReadyBarrier")
    assert provider_groups <= eks_sandbox.depends_on(barrier)
