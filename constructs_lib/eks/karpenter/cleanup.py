"""Karpenter's teardown backstop: terminate what Karpenter launched for a cluster and left behind.

Nodes, launch templates and instance profiles that Karpenter creates are not CloudFormation
resources. This custom resource is deleted after the NodePools, the EC2NodeClass and the charts,
and before the node role and the cluster; its handler (`runtime/cleanup.py`) acts only while its
stack is being deleted or rolled back.

Its function is `constructs_lib/_shared/custom_resource.py`'s: this folder copies with `_shared/`
alone, importing nothing from the rest of `eks/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..._shared.custom_resource import direct_custom_resource
from ..._shared.nag import acknowledge_resource
from .controller_policies import NODECLASS_TAG, NODEPOOL_TAG, REGION_TAG

_PROFILE_ARN = "arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/*"


class KarpenterCleanup(Construct):
    """One Lambda function as a direct custom resource: no provider framework, no state machine.

    A `cr.Provider` would add its own framework function (and a state machine for a waiting
    `isComplete`); the cleanup waits inside one invocation instead, within `timeout`. The caller
    orders it: make the charts depend on `resource`, and `resource` on the node role and cluster
    (`Karpenter` does both).

    Attributes: `resource` (the custom resource), `function`, `role`, `policy`, `log_group`.
    """

    # The signature of eks/load_balancer_cleanup.py's construct, kept: each is its custom resource's
    # public API, and this unit may not import the rest of eks/.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        timeout: cdk.Duration,
        log_retention: logs.RetentionDays,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        parts = direct_custom_resource(
            self,
            runtime=Path(__file__).parent / "runtime",
            handler_module="cleanup",
            resource_type="Custom::KarpenterCleanup",
            properties={"ClusterName": cluster_name},
            statements=self._statements(cluster_name),
            timeout=timeout,
            memory_size=256,
            description="Terminates instances and deletes launch templates and instance profiles "
            "that Karpenter left for the cluster, on stack delete",
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.resource, self.function, self.role = parts.resource, parts.function, parts.role
        self.policy, self.log_group = parts.policy, parts.log_group
        scoped_by_tags = (
            "Karpenter names its {what} at run time; a condition limits deletion to those tagged "
            "kubernetes.io/cluster/<cluster>=owned with {tag}, as the controller's own policy does."
        )
        ec2_arn = "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>"
        acknowledge_resource(
            self.policy,
            {
                "AwsSolutions-IAM5[Resource::*]": "DescribeInstances, DescribeLaunchTemplates and "
                "ListInstanceProfiles support no resource-level scoping, and they only read.",
                f"AwsSolutions-IAM5[Resource::{ec2_arn}:instance/*]": scoped_by_tags.format(
                    what="instances", tag="a karpenter.sh/nodepool tag"
                ),
                f"AwsSolutions-IAM5[Resource::{ec2_arn}:launch-template/*]": scoped_by_tags.format(
                    what="launch templates", tag="a karpenter.sh/nodepool tag"
                ),
                f"AwsSolutions-IAM5[Resource::{_PROFILE_ARN}]": scoped_by_tags.format(
                    what="instance profiles", tag="this region and an EC2NodeClass tag (reading is harmless)"
                ),
            },
        )

    def _statements(self, cluster_name: str) -> list[iam.PolicyStatement]:
        """The cleanup's IAM: the controller's own deletion conditions, nothing wider."""
        partition, region, account = cdk.Aws.PARTITION, cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
        cluster_key = f"kubernetes.io/cluster/{cluster_name}"
        owned: Any = {f"aws:ResourceTag/{cluster_key}": "owned"}
        profile_owned: Any = {
            f"aws:ResourceTag/{cluster_key}": "owned",
            f"aws:ResourceTag/{REGION_TAG}": region,
        }
        if cdk.Token.is_unresolved(cluster_name):
            # A token cluster name inside a condition key needs CfnJson to resolve at deploy time.
            owned = cdk.CfnJson(self, "ConditionKeys", value=owned)
            profile_owned = cdk.CfnJson(self, "ProfileConditionKeys", value=profile_owned)
        return [
            iam.PolicyStatement(
                sid="DescribeClusterResources",
                # Describe calls support no resource-level scoping.
                actions=["ec2:DescribeInstances", "ec2:DescribeLaunchTemplates"],
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": region}},
            ),
            iam.PolicyStatement(
                sid="DeleteClusterInstancesAndLaunchTemplates",
                actions=["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                resources=[
                    f"arn:{partition}:ec2:{region}:{account}:instance/*",
                    f"arn:{partition}:ec2:{region}:{account}:launch-template/*",
                ],
                conditions={"StringEquals": owned, "StringLike": {f"aws:ResourceTag/{NODEPOOL_TAG}": "*"}},
            ),
            iam.PolicyStatement(
                sid="ListInstanceProfiles",
                actions=["iam:ListInstanceProfiles"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="ReadInstanceProfiles",
                actions=["iam:GetInstanceProfile", "iam:ListInstanceProfileTags"],
                resources=[f"arn:{partition}:iam::{account}:instance-profile/*"],
            ),
            iam.PolicyStatement(
                sid="ReadOwnStack",
                # The handler deletes only while its own stack is being deleted or rolled back.
                actions=["cloudformation:DescribeStacks"],
                resources=[cdk.Aws.STACK_ID],
            ),
            iam.PolicyStatement(
                sid="DeleteClusterInstanceProfiles",
                actions=["iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
                resources=[f"arn:{partition}:iam::{account}:instance-profile/*"],
                conditions={
                    "StringEquals": profile_owned,
                    "StringLike": {f"aws:ResourceTag/{NODECLASS_TAG}": "*"},
                },
            ),
        ]
