"""Configuration of the Eks stack: IPv6 cluster, Bottlerocket, Karpenter, dual-stack ingress."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from constructs_lib.eks.karpenter import (
    BOTTLEROCKET_VERSION,
    BOTTLEROCKET_VERSION_PATTERN,
    FIRST_BOTTLEROCKET_RELEASE,
    GpuNodePoolSpec,
    NodePoolSpec,
    check_bottlerocket_release,
)
from stacks.config.eks_fargate import ContainerInsightsConfig, FargateConfig
from stacks.config.loader import fail, setting

# Kubernetes versions this project can build, newest last. A version must be supported by all of:
# - Amazon EKS: 1.34 leaves standard support on 2026-12-02, 1.35 and 1.36 are in standard support
#   (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html);
# - Karpenter 1.14: Kubernetes 1.36 needs Karpenter >= 1.13 and 1.14 supports nothing newer
#   (karpenter-provider-aws v1.14.1, website/content/en/v1.14/upgrading/compatibility.md);
# - the kubectl layer: the project ships `lambda-layer-kubectl-v36` (kubectl 1.36), and kubectl
#   supports one minor version of skew with the API server (https://kubernetes.io/releases/version-skew-policy/),
#   so 1.34 is out of reach of this layer.
KUBERNETES_VERSIONS = ("1.35", "1.36")

# Control-plane log types EKS accepts (CreateCluster `logging.clusterLogging[].types`).
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# The minimum the stack keeps on: who called the API, what they did, and how they authenticated.
REQUIRED_CONTROL_PLANE_LOGS = ("api", "audit", "authenticator")

# Add-ons whose version may be pinned; unpinned ones get EKS's default for the cluster version.
ADDON_NAMES = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent")

INSTANCE_TYPE_PATTERN = r"[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+"
GRAVITON_PATTERN = r"[a-z]+\d+g[a-z]*\.[a-z0-9]+"
# NVIDIA GPU families on Nitro (IPv6 nodes must be Nitro) that Bottlerocket's NVIDIA variants
# and CDK's node group AMI checks both know; g5g is the Graviton one.
GPU_NODE_FAMILIES = ("g4dn", "g5", "g5g", "g6", "g6e", "p3dn", "p4d", "p4de")
# An EC2 instance family as Karpenter's `karpenter.k8s.aws/instance-family` label spells it.
IAM_PRINCIPAL_ARN_PATTERN = r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+"


@dataclass(frozen=True)
class EndpointConfig:
    """Who can reach the cluster's Kubernetes API endpoint."""

    # `public_and_private`: reachable from the internet (from `public_access_cidrs` only) and from
    # the VPC; `private`: from the VPC only, so kubectl must run in the VPC (or over VPN/peering).
    access: str = setting("public_and_private", choices=("public_and_private", "private"))
    # The sandbox default is open to the internet so that `kubectl` works from a laptop without
    # further set-up; every request still needs IAM credentials mapped by an access entry. Narrow
    # it to your own address range (for example `203.0.113.0/24`) where you can.
    public_access_cidrs: tuple[str, ...] = setting(("0.0.0.0/0",), max_items=40)

    def check(self, path: str) -> None:
        for i, cidr in enumerate(self.public_access_cidrs):
            try:
                # IPv6 blocks too: the endpoint of an IPv6 cluster is dual-stack.
                ipaddress.ip_network(cidr)
            except ValueError:
                fail(
                    f"{path}.public_access_cidrs[{i}]",
                    "must be a CIDR block such as 203.0.113.0/24 or 2001:db8::/32",
                    cidr,
                )
        if self.access == "private" and self.public_access_cidrs != ("0.0.0.0/0",):
            # The public endpoint is off: these blocks would be dropped, and nobody could use them.
            fail(
                f"{path}.public_access_cidrs",
                "must be left out when access is private (there is no public endpoint to open)",
                list(self.public_access_cidrs),
            )
        if self.access == "public_and_private" and not self.public_access_cidrs:
            fail(
                f"{path}.public_access_cidrs",
                "must list at least one CIDR block when access is public_and_private",
                [],
            )


@dataclass(frozen=True)
class NodeGroupConfig:
    """A Bottlerocket managed node group; as such, the system nodes (Graviton)."""

    enabled: bool = True
    instance_types: tuple[str, ...] = setting(
        ("t4g.medium",), pattern=INSTANCE_TYPE_PATTERN, example="m7g.large", max_items=20
    )
    min_size: int = setting(2, minimum=0, maximum=100)
    desired_size: int = setting(2, minimum=0, maximum=100)
    max_size: int = setting(3, minimum=1, maximum=100)
    # The data volume (`/dev/xvdb`) that holds images and container storage.
    disk_size_gib: int = setting(20, minimum=20, maximum=1000)

    def check(self, path: str) -> None:
        if not self.instance_types:
            fail(f"{path}.instance_types", "must list at least one instance type", [])
        if not self.min_size <= self.desired_size <= self.max_size:
            fail(
                f"{path}.desired_size",
                f"must lie between min_size ({self.min_size}) and max_size ({self.max_size})",
                self.desired_size,
            )
        self.check_instance_types(path)

    def check_instance_types(self, path: str) -> None:
        # BOTTLEROCKET_ARM_64 runs on Graviton only: t4g, m7g, c7gn, r8g, ... (a `g` after the generation).
        for i, instance_type in enumerate(self.instance_types):
            if not re.fullmatch(GRAVITON_PATTERN, instance_type):
                fail(
                    f"{path}.instance_types[{i}]",
                    "must be a Graviton (arm64) type such as t4g.medium",
                    instance_type,
                )


@dataclass(frozen=True)
class GpuNodeGroupConfig(NodeGroupConfig):
    """The optional NVIDIA Bottlerocket managed node group: off by default (g6.xlarge: about 1 USD/h).

    The system nodes' settings and bounds with other defaults, an example of its own, and NVIDIA
    families instead of Graviton.
    """

    enabled: bool = False
    # One architecture per group: x86_64 (g4dn, g5, g6, g6e) or arm64 (g5g).
    instance_types: tuple[str, ...] = setting(
        ("g6.xlarge",), pattern=INSTANCE_TYPE_PATTERN, example="g6.xlarge", max_items=20
    )
    min_size: int = 0
    desired_size: int = 1
    max_size: int = 2
    disk_size_gib: int = 80

    def check_instance_types(self, path: str) -> None:
        for i, instance_type in enumerate(self.instance_types):
            if instance_type.split(".")[0] not in GPU_NODE_FAMILIES:
                fail(
                    f"{path}.instance_types[{i}]",
                    f"must be of an NVIDIA family ({', '.join(GPU_NODE_FAMILIES)})",
                    instance_type,
                )
        arm = [instance_type.startswith("g5g.") for instance_type in self.instance_types]
        if any(arm) and not all(arm):
            fail(f"{path}.instance_types", "must all be arm64 (g5g) or all x86_64", list(self.instance_types))


@dataclass(frozen=True)
class KarpenterConfig:
    """Karpenter: just-in-time nodes chosen from the pending pods' needs.

    The pools are the construct's own props types (`NodePoolSpec`, `GpuNodePoolSpec`): their
    fields are the keys under `general` and `gpu`, their defaults the sandbox's, and their checks
    (which a copied construct keeps) the configuration's.
    """

    # Bottlerocket release for Karpenter's nodes (`amiSelectorTerms: [{alias: bottlerocket@<version>}]`).
    # Pinned: `latest` would replace every node on each Bottlerocket release (drift).
    bottlerocket_version: str = setting(BOTTLEROCKET_VERSION, pattern=BOTTLEROCKET_VERSION_PATTERN)
    general: NodePoolSpec = field(default_factory=NodePoolSpec)
    gpu: GpuNodePoolSpec = field(default_factory=GpuNodePoolSpec)


@dataclass(frozen=True)
class SampleAppConfig:
    """The sample web workload behind an internet-facing dual-stack ALB."""

    enabled: bool = True
    replicas: int = setting(2, minimum=1, maximum=50)
    # Multi-arch (arm64 and amd64), so it runs on whatever Karpenter launches; the official nginx
    # image listens on IPv6 too (its entrypoint enables `listen [::]:80` when the host has IPv6).
    image: str = setting(
        "public.ecr.aws/nginx/nginx:1.28",
        pattern=r"[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?",
    )


@dataclass(frozen=True)
class EksConfig:
    """The IPv6 EKS cluster and what runs on it."""

    enabled: bool = True
    # Default: the newest version that EKS, Karpenter 1.14 and the kubectl layer all support.
    kubernetes_version: str = setting("1.36", choices=KUBERNETES_VERSIONS)
    # None: `containers-update-<stage>`. The name appears in Karpenter's IAM conditions and tags.
    cluster_name: str | None = setting(
        None, pattern=r"[A-Za-z][A-Za-z0-9_-]{0,99}", example="containers-update-dev"
    )
    # The IAM role or user given cluster admin through an access entry. None: the stack creates a
    # `ClusterAdmin` role that principals of this account may assume, and prints how to use it.
    admin_principal_arn: str | None = setting(
        None, pattern=IAM_PRINCIPAL_ARN_PATTERN, example="arn:aws:iam::111122223333:role/PlatformAdmin"
    )
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    control_plane_logs: tuple[str, ...] = setting(
        REQUIRED_CONTROL_PLANE_LOGS, choices=CONTROL_PLANE_LOG_TYPES
    )
    # Add-on versions such as `{vpc-cni: v1.21.1-eksbuild.1}`; unlisted add-ons get the default
    # version EKS chooses for the cluster's Kubernetes version at creation.
    addon_versions: Mapping[str, str] = field(default_factory=dict)
    system_nodes: NodeGroupConfig = field(default_factory=NodeGroupConfig)
    gpu_nodes: GpuNodeGroupConfig = field(default_factory=GpuNodeGroupConfig)
    karpenter: KarpenterConfig = field(default_factory=KarpenterConfig)
    sample_app: SampleAppConfig = field(default_factory=SampleAppConfig)
    fargate: FargateConfig = field(default_factory=FargateConfig)
    container_insights: ContainerInsightsConfig = field(default_factory=ContainerInsightsConfig)

    def check(self, path: str) -> None:
        missing = [log for log in REQUIRED_CONTROL_PLANE_LOGS if log not in self.control_plane_logs]
        if missing:
            fail(
                f"{path}.control_plane_logs",
                f"must include {', '.join(missing)}",
                list(self.control_plane_logs),
            )
        for name, version in self.addon_versions.items():
            if name not in ADDON_NAMES:
                fail(f"{path}.addon_versions", f"may name only {', '.join(ADDON_NAMES)}", name)
            if not re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", version):
                fail(f"{path}.addon_versions.{name}", "must look like v1.2.3-eksbuild.1", version)
        try:
            check_bottlerocket_release(self.karpenter.bottlerocket_version, self.kubernetes_version)
        except ValueError:
            fail(
                f"{path}.karpenter.bottlerocket_version",
                f"must be {FIRST_BOTTLEROCKET_RELEASE[self.kubernetes_version]} or newer for "
                f"kubernetes_version {self.kubernetes_version} (older releases have no images for it)",
                self.karpenter.bottlerocket_version,
            )
        if not self.system_nodes.enabled:
            fail(f"{path}.system_nodes.enabled", "must be true (Karpenter and CoreDNS run there)", False)
        if self.system_nodes.desired_size < 1:
            fail(f"{path}.system_nodes.desired_size", "must be at least 1 (Karpenter runs there)", 0)
        if self.container_insights.ec2_nodes and not self.fargate.enabled:
            # The add-on and the Container Insights log groups are part of the Fargate construct.
            fail(f"{path}.container_insights.ec2_nodes", "needs eks.fargate.enabled: true", True)
