"""A guard for a log group that an AWS service names itself and re-creates outside the stack.

EKS (a cluster's control-plane logs) and ECS (Container Insights' performance logs) write to a
group whose name they fix, and create it themselves whenever it is missing, also while and after
the stack deletes it: `cdk destroy` then leaves it behind and the next deploy fails with "already
exists". The stack creates the group itself; this direct custom resource comes before the group
on create (deleting a stale group of that name, never the group of a live cluster) and after it
on delete (deleting the group each time it reappears within `watch`). The handler is the unit's
own (`runtime/`); what the guards share is written here: the function's rights and its timing.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .custom_resource import DirectCustomResource
from .nag import acknowledge, nag_text, wildcard

# How long a guard watches for the service re-creating the group after a delete: ECS and EKS
# flush what they still hold within minutes.
DEFAULT_WATCH = cdk.Duration.minutes(3)


class LogGroupGuard(DirectCustomResource):
    """A `DirectCustomResource` that deletes the group `group_name` of cluster `cluster_name`.

    Make the group depend on `resource`, so that the guard comes before it on create and after
    it on delete. The function calls `describe_cluster` (`ecs:DescribeClusters`,
    `eks:DescribeCluster`) on the cluster's ARN to tell a stale group from a live cluster's, and
    reads its own stack's status. Meant for groups deleted with the stack: retained groups need
    no guard. Its properties are `ClusterName` and `WatchSeconds`.

    Attributes: those of `DirectCustomResource`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: Path,
        handler_module: str,
        resource_type: str,
        cluster_name: str,
        group_name: str,
        describe_cluster: str,
        description: str,
        log_retention: logs.RetentionDays,
        removal_policy: cdk.RemovalPolicy,
        watch: cdk.Duration = DEFAULT_WATCH,
        log_encryption_key: kms.IKey | None = None,
    ) -> None:
        partition, region, account = cdk.Aws.PARTITION, cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
        service = describe_cluster.split(":")[0]
        # DeleteLogGroup is authorized against the group's ARN with the trailing `:*`
        # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html);
        # the form without it is listed too, since both name this one group.
        group_arn = f"arn:{partition}:logs:{region}:{account}:log-group:{group_name}"
        super().__init__(
            scope,
            construct_id,
            runtime=runtime,
            handler_module=handler_module,
            resource_type=resource_type,
            properties={"ClusterName": cluster_name, "WatchSeconds": int(watch.to_seconds())},
            statements=[
                iam.PolicyStatement(actions=["logs:DeleteLogGroup"], resources=[group_arn, f"{group_arn}:*"]),
                iam.PolicyStatement(
                    actions=[describe_cluster],
                    resources=[f"arn:{partition}:{service}:{region}:{account}:cluster/{cluster_name}"],
                ),
                # Its Delete acts only while its own stack is being deleted or rolled back.
                iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[cdk.Aws.STACK_ID]),
            ],
            timeout=watch.plus(cdk.Duration.minutes(2)),
            service_timeout=watch.plus(cdk.Duration.minutes(3)),
            description=description,
            log_retention=log_retention,
            removal_policy=removal_policy,
            log_encryption_key=log_encryption_key,
        )
        acknowledge(
            self.policy,
            {
                wildcard(nag_text(cdk.Stack.of(self), f"{group_arn}:*")): "The trailing :* is the ARN form "
                "CloudWatch Logs authorizes DeleteLogGroup against; it names this one log group, not a "
                "set of groups.",
            },
        )
