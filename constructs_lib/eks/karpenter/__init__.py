"""Self-managed Karpenter 1.14.1 for an IPv6 `aws_eks_v2.Cluster`: one copyable folder.

Copy `constructs_lib/eks/karpenter/` (with its `runtime/`) into another project; it depends only on
`aws_cdk` and `constructs`.
"""

from .karpenter import Karpenter, KarpenterProps
from .node_pools import (
    BOTTLEROCKET_VERSION,
    BOTTLEROCKET_VERSION_PATTERN,
    FIRST_BOTTLEROCKET_RELEASE,
    GpuNodePoolSpec,
    NodeClassSpec,
    NodePoolSpec,
    check_bottlerocket_release,
)

__all__ = [
    "BOTTLEROCKET_VERSION",
    "BOTTLEROCKET_VERSION_PATTERN",
    "FIRST_BOTTLEROCKET_RELEASE",
    "GpuNodePoolSpec",
    "Karpenter",
    "KarpenterProps",
    "NodeClassSpec",
    "NodePoolSpec",
    "check_bottlerocket_release",
]
