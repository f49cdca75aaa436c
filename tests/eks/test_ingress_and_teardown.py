"""Items 5 and 6: the Load Balancer Controller, the dual-stack sample, and the delete order."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from constructs_lib.eks import DualStackWebAppProps
from constructs_lib.eks.ingress import render_manifests
from tests.eks.conftest import EksSynth
from tests.helpers import logical_id, parse_json_property

HELM = "Custom::AWSCDK-EKS-HelmChart"
MANIFEST = "Custom::AWSCDK-EKS-KubernetesResource"


def _sample_objects(synth: EksSynth) -> dict[str, dict[str, Any]]:
    assert synth.stack.sample is not None
    resource = synth.json["Resources"][logical_id(synth.stack.sample.manifest)]
    objects = json.loads(resource["Properties"]["Manifest"])
    return {obj["kind"]: obj for obj in objects}


def test_load_balancer_controller_runs_on_system_nodes_from_public_ecr(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.has_resource_properties(
        HELM,
        {
            "Chart": "aws-load-balancer-controller",
            "Repository": "https://aws.github.io/eks-charts",
            "Version": "3.2.2",
            "Namespace": "kube-system",
            "Wait": True,
            "Values": Match.any_value(),
        },
    )
    chart = eks_sandbox.stack.cluster.alb_controller
    assert chart is not None
    values = eks_sandbox.json["Resources"][logical_id(chart.node.find_child("Resource"))]["Properties"][
        "Values"
    ]
    parsed = parse_json_property(values)
    assert parsed["nodeSelector"] == {"role": "system"}
    assert {"key": "CriticalAddonsOnly", "operator": "Exists"} in [
        {k: t[k] for k in ("key", "operator") if k in t} for t in parsed["tolerations"]
    ]
    assert parsed["enableServiceMutatorWebhook"] is False
    assert parsed["image"]["repository"] == "public.ecr.aws/eks/aws-load-balancer-controller"
    assert parsed["image"]["tag"] == "v3.2.2"


def test_load_balancer_controller_uses_irsa_on_the_native_oidc_provider(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.resource_count_is("AWS::IAM::OIDCProvider", 1)
    eks_sandbox.template.resource_count_is("Custom::AWSCDKOpenIdConnectProvider", 0)
    eks_sandbox.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Principal": {
                                "Federated": {"Ref": Match.string_like_regexp("OidcProviderNative")}
                            },
                        }
                    )
                ]
            }
        },
    )


def test_sample_ingress_is_an_internet_facing_dual_stack_alb_with_ip_targets(eks_sandbox: EksSynth) -> None:
    ingress = _sample_objects(eks_sandbox)["Ingress"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert ingress["metadata"]["annotations"] == {
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/ip-address-type": "dualstack",
        "alb.ingress.kubernetes.io/healthcheck-path": "/",
    }
    assert ingress["spec"]["defaultBackend"] == {"service": {"name": "web", "port": {"number": 80}}}


def test_sample_pods_request_resources_and_select_karpenters_general_pool(eks_sandbox: EksSynth) -> None:
    objects = _sample_objects(eks_sandbox)
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {
        "karpenter.sh/nodepool": eks_sandbox.stack.karpenter.general_node_pool_name
    }
    assert "tolerations" not in pod  # so the tainted system nodes cannot take them
    requests = pod["containers"][0]["resources"]["requests"]
    assert requests == {"cpu": "250m", "memory": "256Mi"}
    assert objects["Service"]["spec"]["type"] == "ClusterIP"


def test_sample_url_is_read_from_the_ingress_status(eks_sandbox: EksSynth) -> None:
    eks_sandbox.template.has_resource_properties(
        "Custom::AWSCDK-EKS-KubernetesObjectValue",
        {"ObjectType": "ingress", "ObjectName": "web", "ObjectNamespace": "sample"},
    )
    eks_sandbox.template.has_output(
        "SampleUrl", {"Value": {"Fn::Join": ["", ["http://", Match.any_value()]]}}
    )


def test_sample_is_deleted_before_the_node_pools_and_the_load_balancer_controller(
    eks_sandbox: EksSynth,
) -> None:
    stack = eks_sandbox.stack
    assert stack.sample is not None
    deps = eks_sandbox.depends_on(stack.sample.manifest)
    assert stack.cluster.alb_controller is not None
    assert logical_id(stack.cluster.alb_controller.node.find_child("Resource")) in deps
    for pool in stack.karpenter.node_pool_manifests.values():
        assert logical_id(pool) in deps


def test_karpenter_is_deleted_before_the_system_nodes_and_coredns(eks_sandbox: EksSynth) -> None:
    stack = eks_sandbox.stack
    deps = eks_sandbox.depends_on(stack.karpenter.chart)
    assert logical_id(stack.cluster.system_nodes.nodegroup) in deps
    assert logical_id(stack.cluster.addons["coredns"]) in deps
    # ... and its NodePools before its controller (the Karpenter construct's own edge).
    for pool in stack.karpenter.node_pool_manifests.values():
        assert logical_id(stack.karpenter.chart) in eks_sandbox.depends_on(
            stack.karpenter.node_class_manifest
        ) or logical_id(stack.karpenter.node_class_manifest) in eks_sandbox.depends_on(pool)


def test_load_balancer_controller_is_deleted_before_nodes_and_coredns(eks_sandbox: EksSynth) -> None:
    stack = eks_sandbox.stack
    assert stack.cluster.alb_controller is not None
    deps = eks_sandbox.depends_on(stack.cluster.alb_controller.node.find_child("Resource"))
    assert logical_id(stack.cluster.system_nodes.nodegroup) in deps
    assert logical_id(stack.cluster.addons["coredns"]) in deps


def test_gpu_node_pool_also_outlives_the_sample(eks_variant: EksSynth) -> None:
    pools = eks_variant.stack.karpenter.node_pool_manifests
    assert set(pools) == {"general", "gpu"}
    assert eks_variant.stack.sample is not None
    deps = eks_variant.depends_on(eks_variant.stack.sample.manifest)
    assert {logical_id(pool) for pool in pools.values()} <= deps


def test_fails_when_the_sample_selects_no_nodes() -> None:
    import aws_cdk as cdk
    import pytest

    from constructs_lib.eks import DualStackWebApp

    stack = cdk.Stack(cdk.App(), "Props")
    with pytest.raises(ValueError, match="node_selector must select Karpenter's nodes"):
        DualStackWebApp(stack, "Web", cluster=None, props=DualStackWebAppProps(node_selector={}))  # type: ignore[arg-type]


def test_manifests_are_namespace_first_then_workload() -> None:
    kinds = [obj["kind"] for obj in render_manifests(DualStackWebAppProps())]
    assert kinds == ["Namespace", "Deployment", "Service", "Ingress"]
