"""Self-managed Karpenter 1.14.1 for an IPv6 `aws_eks_v2.Cluster`: one copyable folder.

Copy `constructs_lib/eks/karpenter/` (with its `runtime/`) into another project; it depends only on
`aws_cdk` and `constructs`.
"""

from .karpenter import Karpenter, KarpenterProps
from .node_pools import GpuNodePoolSpec, NodeClassSpec, NodePoolSpec

__all__ = ["GpuNodePoolSpec", "Karpenter", "KarpenterProps", "NodeClassSpec", "NodePoolSpec"]
