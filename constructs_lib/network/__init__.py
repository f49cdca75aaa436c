"""A dual-stack (IPv4 and IPv6) VPC ready for IPv6 EKS, Fargate and load balancers."""

from .dual_stack_vpc import DualStackVpc, DualStackVpcProps

__all__ = ["DualStackVpc", "DualStackVpcProps"]
