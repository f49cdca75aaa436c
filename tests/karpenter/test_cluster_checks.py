"""Karpenter refuses, at synth and in one line, a cluster it could not work on (nothing synthesized)."""

from __future__ import annotations

from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk.lambda_layer_kubectl_v36 import KubectlV36Layer

from constructs_lib.eks.karpenter import Karpenter, KarpenterProps


def _cluster(**options: Any) -> eks.Cluster:
    stack = cdk.Stack(cdk.App(), "ClusterChecks", env=cdk.Environment(region="ap-northeast-1"))
    return eks.Cluster(
        stack,
        "Cluster",
        cluster_name="checks",
        version=eks.KubernetesVersion.V1_36,
        kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV36Layer(stack, "Kubectl")),
        **options,
    )


def _karpenter(cluster: eks.Cluster) -> Karpenter:
    return Karpenter(
        cluster.stack, "Karpenter", cluster=cluster, props=KarpenterProps(discovery_tag_value="x")
    )


def test_fails_when_the_cluster_uses_eks_auto_mode() -> None:
    # aws_eks_v2's default: Auto Mode, whose own Karpenter would fight this one over the same pods.
    cluster = _cluster()
    with pytest.raises(ValueError, match=r"^cluster must not use EKS Auto Mode") as error:
        _karpenter(cluster)
    assert "\n" not in str(error.value)


def test_fails_when_no_node_group_carries_the_controllers_label() -> None:
    cluster = _cluster(default_capacity_type=eks.DefaultCapacityType.NODEGROUP, default_capacity=0)
    eks.Nodegroup(cluster.stack, "Other", cluster=cast(eks.ICluster, cluster), labels={"role": "apps"})
    with pytest.raises(ValueError) as error:
        _karpenter(cluster)
    assert str(error.value) == (
        "controller_node_selector must match the labels of a managed node group of the cluster added "
        "before Karpenter (the controller runs there), got {'karpenter.sh/controller': 'true'} with node "
        "groups labelled [{'role': 'apps'}]"
    )


def test_accepts_a_node_group_that_carries_the_controllers_label() -> None:
    cluster = _cluster(default_capacity_type=eks.DefaultCapacityType.NODEGROUP, default_capacity=0)
    eks.Nodegroup(
        cluster.stack,
        "System",
        cluster=cast(eks.ICluster, cluster),
        labels={"karpenter.sh/controller": "true", "role": "system"},
    )
    assert _karpenter(cluster).namespace == "kube-system"
