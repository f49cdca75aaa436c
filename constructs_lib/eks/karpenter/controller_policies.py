"""The Karpenter controller's IAM: the six policies of the upstream v1.14.1 getting-started template.

Source of every action, resource and condition below: aws/karpenter-provider-aws v1.14.1,
`website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml`
(NodeLifecycle, IAMIntegration, EKSIntegration, Interruption, ZonalShift, ResourceDiscovery).
Statement ids are kept so that a reviewer can diff them against upstream.

Upstream writes its documents as JSON strings because the cluster name sits inside condition
keys (`aws:ResourceTag/kubernetes.io/cluster/${ClusterName}`), which CloudFormation cannot
substitute in a key. With a plain-string cluster name Python writes the keys directly; with a
token (a name CloudFormation generates) each such condition block goes through `cdk.CfnJson`,
which resolves the keys at deploy time.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..._shared.nag import acknowledge_resource

NODEPOOL_TAG = "karpenter.sh/nodepool"
NODECLASS_TAG = "karpenter.k8s.aws/ec2nodeclass"
REGION_TAG = "topology.kubernetes.io/region"
EKS_CLUSTER_NAME_TAG = "eks:eks-cluster-name"
# The EC2 resources Karpenter creates (and tags) when it launches a node: the statements that let it
# tag them on create, and their acknowledgments, name the same kinds.
_CREATED_KINDS = (
    "fleet",
    "instance",
    "volume",
    "network-interface",
    "launch-template",
    "spot-instances-request",
)


class _Conditions:
    """Builds condition blocks whose keys may contain the (possibly token) cluster name."""

    def __init__(self, scope: Construct, cluster_name: str) -> None:
        self._scope = scope
        self._cluster_name = cluster_name
        self._count = 0

    def block(self, value: dict[str, Any]) -> Any:
        if not any(cdk.Token.is_unresolved(key) for key in value):
            return value
        self._count += 1
        return cdk.CfnJson(self._scope, f"ConditionKeys{self._count}", value=value)


def controller_policies(
    scope: Construct,
    *,
    cluster_name: str,
    node_role: iam.IRole,
    interruption_queue: sqs.IQueue,
) -> dict[str, iam.ManagedPolicy]:
    """The six customer-managed policies, by upstream name, created under `scope`."""
    partition, region, account = cdk.Aws.PARTITION, cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
    cond = _Conditions(scope, cluster_name)
    cluster_key = f"kubernetes.io/cluster/{cluster_name}"
    ec2_arn = f"arn:{partition}:ec2:{region}"
    profile_arn = f"arn:{partition}:iam::{account}:instance-profile/*"
    cluster_arn = f"arn:{partition}:eks:{region}:{account}:cluster/{cluster_name}"
    tagged_on_create = [f"{ec2_arn}:*:{kind}/*" for kind in _CREATED_KINDS]

    def statement(
        sid: str, actions: list[str], resources: list[str], conditions: dict[str, Any] | None = None
    ):
        return iam.PolicyStatement(sid=sid, actions=actions, resources=resources, conditions=conditions)

    node_lifecycle = [
        statement(
            "AllowScopedEC2InstanceAccessActions",
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [
                f"{ec2_arn}::image/*",
                f"{ec2_arn}::snapshot/*",
                f"{ec2_arn}:*:security-group/*",
                f"{ec2_arn}:*:subnet/*",
                f"{ec2_arn}:*:capacity-reservation/*",
                f"{ec2_arn}:*:placement-group/*",
            ],
        ),
        statement(
            "AllowScopedEC2LaunchTemplateAccessActions",
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [f"{ec2_arn}:*:launch-template/*"],
            {
                "StringEquals": cond.block({f"aws:ResourceTag/{cluster_key}": "owned"}),
                "StringLike": {f"aws:ResourceTag/{NODEPOOL_TAG}": "*"},
            },
        ),
        statement(
            "AllowScopedEC2InstanceActionsWithTags",
            ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            tagged_on_create,
            {
                "StringEquals": cond.block(
                    {
                        f"aws:RequestTag/{cluster_key}": "owned",
                        f"aws:RequestTag/{EKS_CLUSTER_NAME_TAG}": cluster_name,
                    }
                ),
                "StringLike": {f"aws:RequestTag/{NODEPOOL_TAG}": "*"},
            },
        ),
        statement(
            "AllowScopedResourceCreationTagging",
            ["ec2:CreateTags"],
            tagged_on_create,
            {
                "StringEquals": cond.block(
                    {
                        f"aws:RequestTag/{cluster_key}": "owned",
                        f"aws:RequestTag/{EKS_CLUSTER_NAME_TAG}": cluster_name,
                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                    }
                ),
                "StringLike": {f"aws:RequestTag/{NODEPOOL_TAG}": "*"},
            },
        ),
        statement(
            "AllowScopedResourceTagging",
            ["ec2:CreateTags"],
            [f"{ec2_arn}:*:instance/*"],
            {
                "StringEquals": cond.block({f"aws:ResourceTag/{cluster_key}": "owned"}),
                "StringLike": {f"aws:ResourceTag/{NODEPOOL_TAG}": "*"},
                "StringEqualsIfExists": {f"aws:RequestTag/{EKS_CLUSTER_NAME_TAG}": cluster_name},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": [EKS_CLUSTER_NAME_TAG, "karpenter.sh/nodeclaim", "Name"]
                },
            },
        ),
        statement(
            "AllowScopedDeletion",
            ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            [f"{ec2_arn}:*:instance/*", f"{ec2_arn}:*:launch-template/*"],
            {
                "StringEquals": cond.block({f"aws:ResourceTag/{cluster_key}": "owned"}),
                "StringLike": {f"aws:ResourceTag/{NODEPOOL_TAG}": "*"},
            },
        ),
    ]

    iam_integration = [
        statement(
            "AllowPassingInstanceRole",
            ["iam:PassRole"],
            [node_role.role_arn],
            {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
        ),
        statement(
            "AllowScopedInstanceProfileCreationActions",
            ["iam:CreateInstanceProfile"],
            [profile_arn],
            {
                "StringEquals": cond.block(
                    {
                        f"aws:RequestTag/{cluster_key}": "owned",
                        f"aws:RequestTag/{EKS_CLUSTER_NAME_TAG}": cluster_name,
                        f"aws:RequestTag/{REGION_TAG}": region,
                    }
                ),
                "StringLike": {f"aws:RequestTag/{NODECLASS_TAG}": "*"},
            },
        ),
        statement(
            "AllowScopedInstanceProfileTagActions",
            ["iam:TagInstanceProfile"],
            [profile_arn],
            {
                "StringEquals": cond.block(
                    {
                        f"aws:ResourceTag/{cluster_key}": "owned",
                        f"aws:ResourceTag/{REGION_TAG}": region,
                        f"aws:RequestTag/{cluster_key}": "owned",
                        f"aws:RequestTag/{EKS_CLUSTER_NAME_TAG}": cluster_name,
                        f"aws:RequestTag/{REGION_TAG}": region,
                    }
                ),
                "StringLike": {
                    f"aws:ResourceTag/{NODECLASS_TAG}": "*",
                    f"aws:RequestTag/{NODECLASS_TAG}": "*",
                },
            },
        ),
        statement(
            "AllowScopedInstanceProfileActions",
            [
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
            ],
            [profile_arn],
            {
                "StringEquals": cond.block(
                    {f"aws:ResourceTag/{cluster_key}": "owned", f"aws:ResourceTag/{REGION_TAG}": region}
                ),
                "StringLike": {f"aws:ResourceTag/{NODECLASS_TAG}": "*"},
            },
        ),
    ]

    eks_integration = [
        statement("AllowAPIServerEndpointDiscovery", ["eks:DescribeCluster"], [cluster_arn]),
    ]

    interruption = [
        statement(
            "AllowInterruptionQueueActions",
            ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            [interruption_queue.queue_arn],
        ),
    ]

    zonal_shift = [
        statement(
            "AllowZonalShiftStatusReadOnly",
            ["arc-zonal-shift:GetManagedResource"],
            ["*"],
            {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": cluster_arn}},
        ),
    ]

    resource_discovery = [
        statement(
            "AllowRegionalReadActions",
            [
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            ["*"],
            {"StringEquals": {"aws:RequestedRegion": region}},
        ),
        statement(
            "AllowSSMReadActions",
            ["ssm:GetParameter"],
            [f"arn:{partition}:ssm:{region}::parameter/aws/service/*"],
        ),
        statement("AllowPricingReadActions", ["pricing:GetProducts"], ["*"]),
        # Without it the EC2NodeClass finalizer never completes (karpenter-provider-aws#9185).
        statement("AllowUnscopedInstanceProfileListAction", ["iam:ListInstanceProfiles"], ["*"]),
        statement("AllowInstanceProfileReadActions", ["iam:GetInstanceProfile"], [profile_arn]),
    ]

    documents = {
        "NodeLifecycle": node_lifecycle,
        "IAMIntegration": iam_integration,
        "EKSIntegration": eks_integration,
        "Interruption": interruption,
        "ZonalShift": zonal_shift,
        "ResourceDiscovery": resource_discovery,
    }
    policies = {
        name: iam.ManagedPolicy(
            scope,
            f"{name}Policy",
            description=f"Karpenter controller {name} permissions (upstream v1.14.1 getting-started policy)",
            statements=statements,
        )
        for name, statements in documents.items()
    }
    for name, reasons in _ACKNOWLEDGMENTS.items():
        acknowledge_resource(policies[name], reasons)
    return policies


# Why each wildcard of the upstream policies stays: the same resources, the same conditions.
_EC2 = "arn:<AWS::Partition>:ec2:<AWS::Region>"
_PROFILES = "arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/*"
_LAUNCH_INPUTS = (
    "RunInstances and CreateFleet use the AMIs, snapshots, subnets, security groups, reservations and "
    "placement groups that Karpenter selects at run time; upstream AllowScopedEC2InstanceAccessActions."
)
_CREATED = (
    "Karpenter creates these at run time; conditions require the tags kubernetes.io/cluster/<cluster>=owned "
    "and karpenter.sh/nodepool on the request or resource, exactly as in the upstream NodeLifecycle policy."
)
_ACKNOWLEDGMENTS: dict[str, dict[str, str]] = {
    "NodeLifecycle": {
        **{
            f"AwsSolutions-IAM5[Resource::{_EC2}::{kind}/*]": _LAUNCH_INPUTS for kind in ("image", "snapshot")
        },
        **{
            f"AwsSolutions-IAM5[Resource::{_EC2}:*:{kind}/*]": _LAUNCH_INPUTS
            for kind in ("security-group", "subnet", "capacity-reservation", "placement-group")
        },
        **{f"AwsSolutions-IAM5[Resource::{_EC2}:*:{kind}/*]": _CREATED for kind in _CREATED_KINDS},
    },
    "IAMIntegration": {
        f"AwsSolutions-IAM5[Resource::{_PROFILES}]": "Karpenter creates and names instance profiles at run "
        "time; every statement requires this cluster's and this region's tags, as the upstream policy does.",
    },
    "ResourceDiscovery": {
        "AwsSolutions-IAM5[Resource::*]": (
            "EC2 Describe calls (held to this region by condition), pricing:GetProducts and "
            "iam:ListInstanceProfiles support no resource scoping; upstream grants the same."
        ),
        f"AwsSolutions-IAM5[Resource::{_PROFILES}]": (
            "GetInstanceProfile reads the profiles Karpenter created under generated names; it only "
            "reads, as in the upstream ResourceDiscovery policy."
        ),
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>::parameter/aws/service/*]": (
            "The public SSM parameters under /aws/service/ where AWS publishes the Bottlerocket AMI IDs "
            "that the EC2NodeClass alias resolves to."
        ),
    },
    "ZonalShift": {
        "AwsSolutions-IAM5[Resource::*]": "GetManagedResource accepts no resource ARN; a condition holds it "
        "to this cluster's ARN (arc-zonal-shift:ResourceIdentifier), exactly as upstream.",
    },
}
