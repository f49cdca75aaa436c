"""Nodes keep their IPv6 CNI permissions for as long as they run, and the controller its region."""

from __future__ import annotations

from stacks.config.eks import EndpointConfig
from stacks.config.loader import build
from tests.eks.conftest import EksSynth
from tests.helpers import logical_id, parse_json_property


def test_system_nodes_join_after_and_leave_before_their_ipv6_cni_policy(eks_sandbox: EksSynth) -> None:
    nodes = eks_sandbox.stack.cluster.system_nodes
    policy = nodes.node.find_child("NodeRoleIpv6Cni")
    assert logical_id(policy) in eks_sandbox.depends_on(nodes.nodegroup)


def test_karpenter_node_class_outlives_nothing_its_nodes_need(eks_sandbox: EksSynth) -> None:
    karpenter = eks_sandbox.stack.karpenter
    assert karpenter.node_cni_policy is not None
    assert logical_id(karpenter.node_cni_policy) in eks_sandbox.depends_on(karpenter.node_class_manifest)


def test_karpenter_controller_gets_its_region_from_the_stack_not_imds(eks_sandbox: EksSynth) -> None:
    chart = eks_sandbox.json["Resources"][logical_id(eks_sandbox.stack.karpenter.chart)]
    values = parse_json_property(chart["Properties"]["Values"])
    assert values["controller"]["env"] == [{"name": "AWS_REGION", "value": "ap-northeast-1"}]


def test_endpoint_allow_list_accepts_ipv6_blocks() -> None:
    endpoint = build(
        EndpointConfig, {"public_access_cidrs": ["203.0.113.0/24", "2001:db8::/32"]}, "eks.endpoint"
    )
    assert endpoint.public_access_cidrs == ("203.0.113.0/24", "2001:db8::/32")
