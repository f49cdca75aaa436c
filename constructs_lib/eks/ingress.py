"""A sample web workload behind an internet-facing dual-stack ALB, on nodes Karpenter launches.

The AWS Load Balancer Controller turns the Ingress into an ALB. On an IPv6 cluster pods have
IPv6 addresses only, so the targets must be the pods themselves (`target-type: ip`; instance
targets would need IPv4 NodePorts), and the ALB must be dual-stack to forward to IPv6 targets
while still answering IPv4 clients:
https://docs.aws.amazon.com/eks/latest/userguide/alb-ingress.html and
https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/.

The pods select a Karpenter NodePool and request resources, and nothing else in the cluster can
hold them (the system nodes are tainted), so deploying the workload makes Karpenter launch a
node: `kubectl get nodeclaims -w` shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

# Karpenter labels every node with the NodePool that launched it.
NODEPOOL_LABEL = "karpenter.sh/nodepool"


@dataclass(frozen=True)
class DualStackWebAppProps:
    """Settings of a `DualStackWebApp`.

    The default image is multi-arch (arm64 and amd64), so the pods run on whatever architecture
    Karpenter picks; the official nginx image listens on `[::]:80` when the pod has IPv6.
    """

    name: str = "web"
    namespace: str = "sample"
    image: str = "public.ecr.aws/nginx/nginx:1.28"
    replicas: int = 2
    container_port: int = 80
    # Requests make Karpenter size the node; without them it could not tell what to launch.
    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    # Which nodes may run the pods: by default any node of Karpenter's `general` NodePool.
    node_selector: Mapping[str, str] = field(default_factory=lambda: {NODEPOOL_LABEL: "general"})
    health_check_path: str = "/"


class DualStackWebApp(Construct):
    """Namespace, Deployment, Service and Ingress of the sample, applied as one manifest.

    One `KubernetesManifest`, so one delete: `kubectl delete` waits until the controller has
    removed the ALB (the Ingress carries its finalizer). Make this construct depend on the Load
    Balancer Controller and on the NodePools, so CloudFormation deletes it before either.

    Attributes: `manifest`, `ingress_name`, `namespace`, `load_balancer_address` (the ALB's DNS
    name, read from the Ingress status once the controller has created the ALB).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, cluster: eks.ICluster, props: DualStackWebAppProps
    ) -> None:
        super().__init__(scope, construct_id)
        if props.replicas < 1:
            raise ValueError(f"replicas must be at least 1, got {props.replicas}")
        if not props.node_selector:
            raise ValueError(f"node_selector must select Karpenter's nodes, got {dict(props.node_selector)}")
        self.ingress_name = props.name
        self.namespace = props.namespace
        self.manifest = eks.KubernetesManifest(
            self,
            "Resource",
            cluster=cluster,
            manifest=render_manifests(props),
        )
        # Read through the same kubectl provider (no extra Lambda function); the controller
        # creates the ALB within a minute or two of the Ingress, whether or not pods are ready.
        address = eks.KubernetesObjectValue(
            self,
            "LoadBalancerAddress",
            cluster=cluster,
            object_type="ingress",
            object_name=props.name,
            object_namespace=props.namespace,
            json_path=".status.loadBalancer.ingress[0].hostname",
            timeout=cdk.Duration.minutes(10),
        )
        address.node.add_dependency(self.manifest)
        self.load_balancer_address = address.value


def render_manifests(props: DualStackWebAppProps) -> list[dict[str, Any]]:
    """The Kubernetes objects of the sample, in the order they are applied."""
    labels = {"app.kubernetes.io/name": props.name}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": props.namespace}}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": props.name, "namespace": props.namespace, "labels": labels},
        "spec": {
            "replicas": props.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": dict(props.node_selector),
                    "containers": [
                        {
                            "name": props.name,
                            "image": props.image,
                            "ports": [{"containerPort": props.container_port, "name": "http"}],
                            "resources": {
                                "requests": {"cpu": props.cpu_request, "memory": props.memory_request},
                                "limits": {"memory": props.memory_request},
                            },
                            "readinessProbe": {
                                "httpGet": {"path": props.health_check_path, "port": "http"},
                                "periodSeconds": 5,
                            },
                            "securityContext": {"allowPrivilegeEscalation": False},
                        }
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": props.name, "namespace": props.namespace, "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "selector": labels,
            "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP", "name": "http"}],
        },
    }
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": props.name,
            "namespace": props.namespace,
            "labels": labels,
            "annotations": {
                "alb.ingress.kubernetes.io/scheme": "internet-facing",
                "alb.ingress.kubernetes.io/target-type": "ip",
                "alb.ingress.kubernetes.io/ip-address-type": "dualstack",
                "alb.ingress.kubernetes.io/healthcheck-path": props.health_check_path,
            },
        },
        "spec": {
            # The IngressClass that the controller's chart creates.
            "ingressClassName": "alb",
            "defaultBackend": {"service": {"name": props.name, "port": {"number": 80}}},
        },
    }
    return [namespace, deployment, service, ingress]
