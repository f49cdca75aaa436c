"""IPv6 EKS with Bottlerocket node groups and dual-stack ingress (Karpenter lives in `karpenter/`)."""

from .cluster import Ipv6Cluster, Ipv6ClusterProps, control_plane_log_group_name
from .ingress import DualStackWebApp, DualStackWebAppProps
from .load_balancer_cleanup import LoadBalancerControllerCleanup
from .log_key import LogEncryptionKey
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
    "LogEncryptionKey",
    "control_plane_log_group_name",
]
