"""Guard of the EKS control-plane log group: keeps a group that EKS re-creates from outliving the stack.

While a cluster is deleted EKS keeps writing logs, and its service-linked role re-creates
`/aws/eks/<cluster>/cluster` if CloudFormation already deleted it: `cdk destroy` then leaves it
behind and the next deploy fails with "already exists" on the group (terraform-aws-modules/
terraform-aws-eks issues #920, #2486, #2763). See `runtime/control_plane_logs.py`.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.custom_resource import DirectCustomResource
from .._shared.nag import acknowledge, wildcard

# How long the guard watches for EKS re-creating the group after a delete.
DEFAULT_WATCH = cdk.Duration.minutes(3)

RUNTIME = Path(__file__).parent / "runtime"


class ControlPlaneLogsGuard(DirectCustomResource):
    """One Lambda function, called directly by CloudFormation (no provider framework).

    Make the control-plane log group depend on `resource` (`Ipv6Cluster` does), so that the guard
    comes before the group on create and after it on delete:

    - on create, it deletes a group of that name left by an earlier cluster (never while a
      cluster of that name exists), so the stack can create its own;
    - on delete, after the cluster and the group are gone, it deletes the group each time it
      reappears within `watch` (then stops; the next create catches anything later).

    Meant for stacks that delete the group with them: retained groups need no guard.

    Attributes: `resource` (the custom resource), `function`, `role`, `policy`, `log_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        watch: cdk.Duration = DEFAULT_WATCH,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        name = cluster_name
        partition, region, account = cdk.Aws.PARTITION, cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
        # DeleteLogGroup is authorized against the group's ARN with the trailing `:*`
        # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html);
        # the form without it is listed too, since both name this one group. DescribeCluster
        # (resource type `cluster`) tells a stale group from the group of a live cluster.
        group_arn = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/eks/{name}/cluster"
        super().__init__(
            scope,
            construct_id,
            runtime=RUNTIME,
            handler_module="control_plane_logs",
            resource_type="Custom::EksControlPlaneLogsGuard",
            properties={"ClusterName": name, "WatchSeconds": int(watch.to_seconds())},
            statements=[
                iam.PolicyStatement(actions=["logs:DeleteLogGroup"], resources=[group_arn, f"{group_arn}:*"]),
                iam.PolicyStatement(
                    actions=["eks:DescribeCluster"],
                    resources=[f"arn:{partition}:eks:{region}:{account}:cluster/{name}"],
                ),
                # Its Delete acts only while its own stack is being deleted or rolled back.
                iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[cdk.Aws.STACK_ID]),
            ],
            timeout=watch.plus(cdk.Duration.minutes(2)),
            service_timeout=watch.plus(cdk.Duration.minutes(3)),
            description=f"Deletes the control-plane log group of EKS cluster {name} when EKS "
            "re-creates it outside the stack (before create, after delete)",
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        acknowledge(
            self.policy,
            {
                wildcard(
                    f"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/eks/{name}"
                    "/cluster:*"
                ): "The trailing :* is the ARN form CloudWatch Logs authorizes DeleteLogGroup "
                "against; it names this one log group, not a set of groups.",
            },
        )
