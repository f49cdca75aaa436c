"""Karpenter v1 EC2NodeClass and NodePool manifests for the IPv6 EKS cluster of the talk.

Pure Python: the specs are frozen dataclasses validated on construction, and the builders return
plain dictionaries (with CDK tokens where a value is only known at deploy time) that the
`Karpenter` construct applies through `KubernetesManifest`. Field names follow the v1 CRDs of
Karpenter 1.14.1 (`karpenter.sh_nodepools.yaml`, `karpenter.k8s.aws_ec2nodeclasses.yaml` in
aws/karpenter-provider-aws `pkg/apis/crds`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Well-known labels that Karpenter schedules on (https://karpenter.sh/docs/concepts/scheduling/).
ARCH_LABEL = "kubernetes.io/arch"
CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
INSTANCE_CATEGORY_LABEL = "karpenter.k8s.aws/instance-category"
INSTANCE_FAMILY_LABEL = "karpenter.k8s.aws/instance-family"
INSTANCE_GENERATION_LABEL = "karpenter.k8s.aws/instance-generation"
INSTANCE_HYPERVISOR_LABEL = "karpenter.k8s.aws/instance-hypervisor"
GPU_MANUFACTURER_LABEL = "karpenter.k8s.aws/instance-gpu-manufacturer"
GPU_RESOURCE = "nvidia.com/gpu"

ARCHITECTURES = ("amd64", "arm64")
CAPACITY_TYPES = ("spot", "on-demand")
CONSOLIDATION_POLICIES = ("WhenEmpty", "WhenEmptyOrUnderutilized")
# The duration patterns of the v1 CRDs (`expireAfter`, `consolidateAfter`).
_DURATION = re.compile(r"^(([0-9]+(s|m|h))+|Never)$")
# `terminationGracePeriod` takes no `Never`.
_GRACE = re.compile(r"^([0-9]+(s|m|h))+$")
# Budget `nodes`: a percentage or a count, as in the NodePool CRD.
_BUDGET_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")
# A Kubernetes object name (RFC 1123 subdomain, kept to one DNS label here for readability).
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_FAMILY = re.compile(r"^[a-z][a-z0-9-]*$")
# Bottlerocket releases are tagged vMAJOR.MINOR.PATCH; Karpenter's alias takes exactly that.
_BOTTLEROCKET_VERSION = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+$")
# The first Bottlerocket release with `aws-k8s-<version>` images, from Bottlerocket's CHANGELOG:
# v1.53.0 added the Kubernetes 1.35 variants, v1.61.0 the 1.36 ones. With an older alias Karpenter
# finds no image for the cluster's version and launches nothing.
FIRST_BOTTLEROCKET_RELEASE = {"1.35": "v1.53.0", "1.36": "v1.61.0"}
# The pinned release of Karpenter's nodes. v1.65.0 (2026-09): has images for Kubernetes 1.35 and 1.36.
BOTTLEROCKET_VERSION = "v1.65.0"
BOTTLEROCKET_VERSION_PATTERN = _BOTTLEROCKET_VERSION.pattern.removeprefix("^").removesuffix("$")


def check_bottlerocket_release(
    bottlerocket_version: str, kubernetes_version: str, key: str = "node_class.bottlerocket_version"
) -> None:
    """Raise if the pinned Bottlerocket release has no images for `kubernetes_version`."""
    first = FIRST_BOTTLEROCKET_RELEASE.get(kubernetes_version)
    if first is not None and _release(bottlerocket_version) < _release(first):
        raise ValueError(
            f"{key} must be {first} or newer for Kubernetes {kubernetes_version} (older releases have "
            f"no aws-k8s-{kubernetes_version} images), got {bottlerocket_version!r}"
        )


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.removeprefix("v").split("."))


def _check_name(prop: str, value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(f"{prop} must be a lowercase DNS label (a-z, 0-9, '-'), got {value!r}")


def _check_choices(prop: str, values: Sequence[str], choices: Sequence[str]) -> None:
    if not values:
        raise ValueError(f"{prop} must not be empty, got {tuple(values)!r}")
    unknown = [v for v in values if v not in choices]
    if unknown:
        raise ValueError(f"{prop} must be a subset of {', '.join(choices)}, got {tuple(values)!r}")


def _check_duration(prop: str, value: str) -> None:
    if not _DURATION.match(value):
        raise ValueError(f"{prop} must be a duration like 720h, 30m or Never, got {value!r}")


def _check_grace(prop: str, value: str) -> None:
    if not _GRACE.match(value):
        raise ValueError(f"{prop} must be a duration like 5m or 1h, got {value!r}")


def _check_positive(prop: str, value: int | None) -> None:
    if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{prop} must be a positive whole number, got {value!r}")


@dataclass(frozen=True)
class NodeClassSpec:
    """The one EC2NodeClass that both node pools launch from.

    Bottlerocket through a pinned alias: `bottlerocket@latest` would drift every node on each
    Bottlerocket release, so the version is explicit and moving it is a reviewed change that
    Karpenter rolls out as drift. The alias picks the standard, arm64 or `-nvidia` image per
    instance type. Volumes are gp3 and encrypted (the account's default EBS key); IMDSv2 is
    required with a hop limit of 1, so pods cannot reach the node role through IMDS.
    """

    name: str = "default"
    bottlerocket_version: str = BOTTLEROCKET_VERSION
    # Bottlerocket keeps the OS on /dev/xvda and images and container storage on /dev/xvdb.
    root_volume_gib: int = 4
    data_volume_gib: int = 40
    # Tags that Karpenter puts on every instance, volume, ENI and launch template it creates.
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_name("name", self.name)
        if not _BOTTLEROCKET_VERSION.match(self.bottlerocket_version):
            raise ValueError(
                "bottlerocket_version must be a pinned release like v1.65.0 (not latest), "
                f"got {self.bottlerocket_version!r}"
            )
        _check_positive("root_volume_gib", self.root_volume_gib)
        _check_positive("data_volume_gib", self.data_volume_gib)
        # Karpenter owns these tags and the EC2NodeClass CRD rejects them in spec.tags.
        reserved = [
            key
            for key in self.tags
            if key.startswith(("kubernetes.io/cluster/", "karpenter.sh/", "karpenter.k8s.aws/"))
            or key == "eks:eks-cluster-name"
        ]
        if reserved:
            raise ValueError(f"tags must not set Karpenter's own tag keys, got {sorted(reserved)!r}")


@dataclass(frozen=True)
class NodePoolSpec:
    """The general-purpose NodePool: Graviton and x86, spot and on-demand, Nitro only.

    Karpenter prefers spot and the cheapest fitting instance; `cpu_limit` and `memory_limit_gib`
    cap what the pool may launch in total, a guard on the bill if a workload misbehaves.
    Consolidation (`WhenEmptyOrUnderutilized` after `consolidate_after`) removes and replaces
    nodes that are empty or underused; `expire_after` recycles every node at least that often so
    nodes pick up new images, with at most `disruption_budget` of them disrupted at once.
    """

    name: str = "general"
    architectures: tuple[str, ...] = ("arm64", "amd64")
    capacity_types: tuple[str, ...] = ("spot", "on-demand")
    # c (compute), m (general), r (memory) families of generation 6 and later.
    instance_categories: tuple[str, ...] = ("c", "m", "r")
    min_instance_generation: int = 6
    cpu_limit: int = 16
    memory_limit_gib: int = 64
    consolidation_policy: str = "WhenEmptyOrUnderutilized"
    consolidate_after: str = "1m"
    expire_after: str = "720h"
    disruption_budget: str = "10%"
    # The longest a node may take to drain, PodDisruptionBudgets included. Without it a blocked
    # drain would hold the NodePool's delete past the kubectl handler's 15 minutes and fail the
    # stack delete; it also lets expired or drifted nodes go even when a PDB would block them.
    termination_grace_period: str = "5m"

    def __post_init__(self) -> None:
        _check_name("name", self.name)
        _check_choices("architectures", self.architectures, ARCHITECTURES)
        _check_choices("capacity_types", self.capacity_types, CAPACITY_TYPES)
        if not self.instance_categories:
            raise ValueError(f"instance_categories must not be empty, got {self.instance_categories!r}")
        bad = [c for c in self.instance_categories if not re.match(r"^[a-z]+$", c)]
        if bad:
            raise ValueError(f"instance_categories must be letters like c, m, r, got {bad!r}")
        _check_positive("min_instance_generation", self.min_instance_generation)
        _check_positive("cpu_limit", self.cpu_limit)
        _check_positive("memory_limit_gib", self.memory_limit_gib)
        if self.consolidation_policy not in CONSOLIDATION_POLICIES:
            raise ValueError(
                f"consolidation_policy must be one of {', '.join(CONSOLIDATION_POLICIES)}, "
                f"got {self.consolidation_policy!r}"
            )
        _check_duration("consolidate_after", self.consolidate_after)
        _check_duration("expire_after", self.expire_after)
        _check_grace("termination_grace_period", self.termination_grace_period)
        if not _BUDGET_NODES.match(self.disruption_budget):
            raise ValueError(
                f"disruption_budget must be a percentage or a count, got {self.disruption_budget!r}"
            )


@dataclass(frozen=True)
class GpuNodePoolSpec:
    """An NVIDIA GPU NodePool, off by default (GPU instances cost dollars per hour).

    Nodes carry the taint `nvidia.com/gpu=true:NoSchedule`, so only pods that tolerate it and
    request `nvidia.com/gpu` land there. `gpu_limit` and `cpu_limit` are required when enabled:
    a GPU pool without limits could launch GPU instances without bound. Bottlerocket's `-nvidia`
    images ship the driver and the device plugin, so no GPU operator is needed.
    """

    enabled: bool = False
    name: str = "gpu"
    # NVIDIA families (g6: L4, g6e: L40S, g5: A10G); the pool also requires the GPU manufacturer
    # to be nvidia, so an AMD or Inferentia family in this list would simply never match.
    instance_families: tuple[str, ...] = ("g6", "g6e", "g5")
    architectures: tuple[str, ...] = ("amd64",)
    capacity_types: tuple[str, ...] = ("on-demand",)
    gpu_limit: int | None = None
    cpu_limit: int | None = None
    memory_limit_gib: int | None = None
    consolidate_after: str = "5m"
    expire_after: str = "168h"
    # See NodePoolSpec.termination_grace_period: it bounds the drain, and so the teardown.
    termination_grace_period: str = "5m"

    def __post_init__(self) -> None:
        _check_name("name", self.name)
        if not self.instance_families:
            raise ValueError(f"instance_families must not be empty, got {self.instance_families!r}")
        bad = [f for f in self.instance_families if not _FAMILY.match(f)]
        if bad:
            raise ValueError(f"instance_families must be family names like g6, got {bad!r}")
        _check_choices("architectures", self.architectures, ARCHITECTURES)
        _check_choices("capacity_types", self.capacity_types, CAPACITY_TYPES)
        _check_duration("consolidate_after", self.consolidate_after)
        _check_duration("expire_after", self.expire_after)
        _check_grace("termination_grace_period", self.termination_grace_period)
        if self.enabled:
            # A GPU pool without limits could launch GPU instances without bound.
            for prop, value in (("gpu_limit", self.gpu_limit), ("cpu_limit", self.cpu_limit)):
                if value is None:
                    raise ValueError(f"{prop} must be set when the GPU pool is enabled, got None")
                _check_positive(prop, value)
        if self.memory_limit_gib is not None:
            _check_positive("memory_limit_gib", self.memory_limit_gib)


def _requirement(key: str, operator: str, values: Sequence[str]) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values)}


def _node_class_ref(node_class: NodeClassSpec) -> dict[str, str]:
    return {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class.name}


def ec2_node_class_manifest(
    spec: NodeClassSpec,
    *,
    role_name: str,
    cluster_name: str,
    discovery_tag: tuple[str, str],
    ipv6: bool = True,
) -> dict[str, Any]:
    """The EC2NodeClass: Bottlerocket, discovered subnets and cluster security group, IMDSv2.

    Subnets: the private subnets tagged `discovery_tag` (`karpenter.sh/discovery=<value>`).
    Security group: the cluster security group that EKS creates and tags itself with
    `aws:eks:cluster-name=<cluster>` (https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html);
    CloudFormation cannot tag that group, and `kubernetes.io/cluster/<cluster>=owned` may sit on
    other groups too, so the EKS tag is the one that selects exactly this group at deploy time.
    `role` makes Karpenter create, tag and later delete the instance profile for the node role.
    """
    tag_key, tag_value = discovery_tag
    manifest: dict[str, Any] = {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": spec.name},
        "spec": {
            "role": role_name,
            "amiSelectorTerms": [{"alias": f"bottlerocket@{spec.bottlerocket_version}"}],
            "subnetSelectorTerms": [{"tags": {tag_key: tag_value}}],
            "securityGroupSelectorTerms": [{"tags": {"aws:eks:cluster-name": cluster_name}}],
            # IMDSv2 only, and a hop limit of 1 so that pods (one hop further) cannot read the
            # node role's credentials. On an IPv6 cluster the IMDS IPv6 endpoint is turned on
            # explicitly rather than left to Karpenter's detection of the cluster's IP family.
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "enabled" if ipv6 else "disabled",
                "httpTokens": "required",
                "httpPutResponseHopLimit": 1,
            },
            "blockDeviceMappings": [
                _ebs("/dev/xvda", spec.root_volume_gib),
                _ebs("/dev/xvdb", spec.data_volume_gib),
            ],
        },
    }
    if spec.tags:
        manifest["spec"]["tags"] = dict(spec.tags)
    return manifest


def _ebs(device: str, size_gib: int) -> dict[str, Any]:
    return {
        "deviceName": device,
        "ebs": {
            "volumeSize": f"{size_gib}Gi",
            "volumeType": "gp3",
            "encrypted": True,
            "deleteOnTermination": True,
        },
    }


def _node_pool(
    spec: NodePoolSpec | GpuNodePoolSpec,
    node_class: NodeClassSpec,
    *,
    requirements: list[dict[str, Any]],
    limits: dict[str, str],
    consolidation_policy: str,
    budget_nodes: str,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A `karpenter.sh/v1` NodePool named `spec.name` on `node_class`, with `spec`'s node expiry,
    drain grace period and consolidation delay; keys in the order of Karpenter's own examples."""
    template: dict[str, Any] = {"metadata": {"labels": labels}} if labels else {}
    template["spec"] = {
        "nodeClassRef": _node_class_ref(node_class),
        **({"taints": taints} if taints else {}),
        "requirements": requirements,
        "expireAfter": spec.expire_after,
        "terminationGracePeriod": spec.termination_grace_period,
    }
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": spec.name},
        "spec": {
            "template": template,
            "limits": limits,
            "disruption": {
                "consolidationPolicy": consolidation_policy,
                "consolidateAfter": spec.consolidate_after,
                "budgets": [{"nodes": budget_nodes}],
            },
        },
    }


def general_node_pool_manifest(spec: NodePoolSpec, node_class: NodeClassSpec) -> dict[str, Any]:
    """The general NodePool; Nitro only, because IPv6 nodes must be Nitro instances.

    https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html ("Nitro-based EC2 nodes
    required") and Karpenter's FAQ ("Does Karpenter support IPv6?").
    """
    return _node_pool(
        spec,
        node_class,
        requirements=[
            _requirement(ARCH_LABEL, "In", spec.architectures),
            _requirement(CAPACITY_TYPE_LABEL, "In", spec.capacity_types),
            _requirement(INSTANCE_CATEGORY_LABEL, "In", spec.instance_categories),
            _requirement(INSTANCE_GENERATION_LABEL, "Gt", [str(spec.min_instance_generation - 1)]),
            _requirement(INSTANCE_HYPERVISOR_LABEL, "In", ["nitro"]),
        ],
        limits={"cpu": str(spec.cpu_limit), "memory": f"{spec.memory_limit_gib}Gi"},
        consolidation_policy=spec.consolidation_policy,
        budget_nodes=spec.disruption_budget,
    )


def gpu_node_pool_manifest(spec: GpuNodePoolSpec, node_class: NodeClassSpec) -> dict[str, Any]:
    """The GPU NodePool: NVIDIA families, tainted, limited in GPUs and vCPUs."""
    if not spec.enabled:
        raise ValueError("spec.enabled must be true to build the GPU pool's manifest, got False")
    assert spec.gpu_limit is not None and spec.cpu_limit is not None  # checked in __post_init__
    limits: dict[str, str] = {"cpu": str(spec.cpu_limit), GPU_RESOURCE: str(spec.gpu_limit)}
    if spec.memory_limit_gib is not None:
        limits["memory"] = f"{spec.memory_limit_gib}Gi"
    return _node_pool(
        spec,
        node_class,
        labels={"workload-type": "gpu"},
        taints=[{"key": GPU_RESOURCE, "value": "true", "effect": "NoSchedule"}],
        requirements=[
            _requirement(INSTANCE_FAMILY_LABEL, "In", spec.instance_families),
            _requirement(GPU_MANUFACTURER_LABEL, "In", ["nvidia"]),
            _requirement(ARCH_LABEL, "In", spec.architectures),
            _requirement(CAPACITY_TYPE_LABEL, "In", spec.capacity_types),
            _requirement(INSTANCE_HYPERVISOR_LABEL, "In", ["nitro"]),
        ],
        limits=limits,
        consolidation_policy="WhenEmpty",
        budget_nodes="1",
    )
