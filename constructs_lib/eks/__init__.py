"""IPv6 EKS with Bottlerocket node groups and dual-stack ingress (Karpenter lives in `karpenter/`)."""

from .cluster import Ipv6Cluster, Ipv6ClusterProps
from .ingress import DualStackWebApp, DualStackWebAppProps
from .load_balancer_cleanup import LoadBalancerControllerCleanup
from .nodegroups import (
    GPU_NODE_TAINT,
    GPU_SETTINGS_TOML,
    SYSTEM_NODE_LABELS,
    SYSTEM_NODE_TAINT,
    SYSTEM_POD_TOLERATIONS,
    BottlerocketNodegroup,
    BottlerocketNodegroupProps,
)

__all__ = [
    "GPU_NODE_TAINT",
    "GPU_SETTINGS_TOML",
    "SYSTEM_NODE_LABELS",
    "SYSTEM_NODE_TAINT",
    "SYSTEM_POD_TOLERATIONS",
    "BottlerocketNodegroup",
    "BottlerocketNodegroupProps",
    "DualStackWebApp",
    "DualStackWebAppProps",
    "Ipv6Cluster",
    "Ipv6ClusterProps",
    "LoadBalancerControllerCleanup",
]
