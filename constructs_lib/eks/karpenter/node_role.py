"""The role of the nodes Karpenter launches (instance profile made by Karpenter), with its IPv6 CNI policy."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from ..._shared.nag import acknowledge_resource
from ..._shared.resources import service_role

# The node role's AWS managed policies; SSM Session Manager is the way into Bottlerocket's
# control container.
_NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)


def node_role(scope: Construct, *, ipv6: bool) -> tuple[iam.Role, iam.Policy | None]:
    """Children `NodeRole` (and `NodeCniIpv6Policy` on IPv6) of `scope`: the role and its CNI policy."""
    # The IPv4 CNI has an AWS managed policy; the IPv6 one is the inline policy below.
    policies = _NODE_POLICIES + (() if ipv6 else ("AmazonEKS_CNI_Policy",))
    role = service_role(
        scope,
        "NodeRole",
        "ec2.amazonaws.com",
        description="Role of the nodes that Karpenter launches (instance profile made by Karpenter)",
        managed_policies={
            name: f"{name} is one of the node role policies that the EKS user guide and Karpenter's "
            "getting-started template attach; AWS keeps it current with EKS, ECR and SSM."
            for name in policies
        },
    )
    cni: iam.Policy | None = None
    if ipv6:
        # The VPC CNI on these nodes uses the node role.
        cni = iam.Policy(
            scope,
            "NodeCniIpv6Policy",
            roles=[role],
            statements=ipv6_cni_statements(),
        )
        acknowledge_resource(
            cni,
            {
                "AwsSolutions-IAM5[Resource::*]": (
                    "The IPv6 CNI policy of the EKS user guide: the CNI assigns addresses and "
                    "describes the node's own instance and interfaces, unknown in advance."
                ),
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:*:*:network-interface/*]": (
                    "The CNI tags the network interfaces it creates at run time, as the EKS user "
                    "guide's IPv6 policy grants."
                ),
            },
        )
    return role, cni


def ipv6_cni_statements() -> list[iam.PolicyStatement]:
    """The Amazon VPC CNI's permissions for an IPv6 cluster, exactly as the EKS user guide lists them.

    Also used by `eks/nodegroups.py` (the parent unit may use this one; not the other way round).

    https://docs.aws.amazon.com/eks/latest/userguide/cni-iam-role.html#cni-iam-role-create-ipv6-policy
    (also amazon-vpc-cni-k8s `docs/iam-policy.md`, "IPv6 mode"). There is no AWS managed policy
    for IPv6; `AmazonEKS_CNI_Policy` holds the IPv4 actions, which an IPv6 cluster does not use.
    """
    return [
        iam.PolicyStatement(
            actions=[
                "ec2:AssignIpv6Addresses",
                "ec2:DescribeInstances",
                "ec2:DescribeTags",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeInstanceTypes",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            actions=["ec2:CreateTags"],
            resources=[f"arn:{cdk.Aws.PARTITION}:ec2:*:*:network-interface/*"],
        ),
    ]
