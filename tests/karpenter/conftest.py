"""A small stack for the Karpenter construct tests: a dual-stack VPC, an IPv6 cluster, Karpenter."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk.assertions import Template
from aws_cdk.lambda_layer_kubectl_v36 import KubectlV36Layer

from constructs_lib.eks.karpenter import GpuNodePoolSpec, Karpenter, KarpenterProps
from constructs_lib.network import DualStackVpc, DualStackVpcProps

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_NAME = "containers-update"
DISCOVERY = "containers-update"


@dataclass
class Built:
    stack: cdk.Stack
    cluster: eks.Cluster
    karpenter: Karpenter
    template: Template
    workload: eks.KubernetesManifest


def app_context() -> dict[str, object]:
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


def build(*, cluster_name: str | None = CLUSTER_NAME, gpu: bool = True, app: cdk.App | None = None) -> Built:
    """The test stack in `app` (a new one with the project's context by default)."""
    app = app or cdk.App(context=app_context())
    stack = cdk.Stack(app, "KarpenterTest", env=cdk.Environment(region="ap-northeast-1"))
    vpc = DualStackVpc(
        stack, "Vpc", props=DualStackVpcProps(private_subnet_tags={"karpenter.sh/discovery": DISCOVERY})
    ).vpc
    cluster = eks.Cluster(
        stack,
        "Cluster",
        cluster_name=cluster_name,
        version=eks.KubernetesVersion.V1_36,
        vpc=vpc,
        ip_family=eks.IpFamily.IP_V6,
        default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
        default_capacity=0,
        kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV36Layer(stack, "Kubectl")),
    )
    # The controller's nodes: Karpenter refuses a cluster without a node group that carries its label.
    eks.Nodegroup(
        stack,
        "ControllerNodes",
        cluster=cast(eks.ICluster, cluster),
        min_size=1,
        labels={"karpenter.sh/controller": "true"},
    )
    gpu_pool = GpuNodePoolSpec(enabled=True, gpu_limit=2, cpu_limit=32) if gpu else GpuNodePoolSpec()
    karpenter = Karpenter(
        stack,
        "Karpenter",
        cluster=cluster,
        props=KarpenterProps(discovery_tag_value=DISCOVERY, gpu_node_pool=gpu_pool),
    )
    workload = eks.KubernetesManifest(
        stack,
        "Workload",
        cluster=cast(eks.ICluster, cluster),
        manifest=[
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w", "namespace": "default"}}
        ],
    )
    karpenter.add_workload(workload)
    return Built(stack, cluster, karpenter, Template.from_stack(stack), workload)


@pytest.fixture(scope="package")
def built() -> Built:
    return build()
