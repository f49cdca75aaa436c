"""An ECS cluster for Fargate with Container Insights (enhanced) and audited, encrypted ECS Exec.

Slides 5-10 of the talk: the cluster that the Graviton service and the Windows service share.
Two Lambda-backed custom resources (see `runtime/`) make it deploy and go cleanly: one makes sure
the account's ECS service-linked role exists before the cluster, one keeps Container Insights'
fixed-name log group from outliving a sandbox stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.custom_resource import direct_custom_resource
from .._shared.log_group_guard import LogGroupGuard
from .._shared.resources import log_group, rotating_key
from ._exec import audited_exec

RUNTIME = Path(__file__).parent / "runtime"


@dataclass(frozen=True)
class FargateClusterProps:
    """Settings of a `FargateCluster`."""

    # Retention of the ECS Exec session logs (every command and its output) and of Container
    # Insights' performance log events.
    exec_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # None: a name made from the construct path, unique in the account and region. The name is
    # fixed at synth time so that Container Insights' log group can be created (and deleted) here.
    cluster_name: str | None = None
    # The KMS key and the session log group go with the stack by default (a sandbox leaves
    # nothing behind); pass RETAIN to keep the audit trail after `cdk destroy`.
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY
    # Encrypts Container Insights' group and the custom resources' function logs; its key policy
    # must admit CloudWatch Logs for them (`LogEncryptionKey.admit_log_group` with
    # `insights_log_group_name`). None: CloudWatch Logs' own encryption.
    log_encryption_key: kms.IKey | None = None
    # Create the account's ECS service-linked role before the cluster when it is missing (a
    # brand-new account). False where an account-level pipeline already made it, or where the
    # deploying role may not call iam:CreateServiceLinkedRole.
    ensure_service_linked_role: bool = True


class FargateCluster(Construct):
    """An ECS cluster with the FARGATE and FARGATE_SPOT capacity providers and ECS Exec audited.

    - Container Insights with enhanced observability (task- and container-level metrics):
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-container-insights.html
    - ECS Exec sessions are encrypted with a customer managed KMS key (on top of TLS) and every
      session's input and output goes to a CloudWatch log group, itself encrypted with the key:
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html

    - With removal policy DESTROY, a guard deletes a stale Container Insights group before the
      stack creates its own, and sweeps the group after the stack deletes it (Container Insights
      re-creates it when late events arrive): `runtime/insights_logs.py`.
    - Unless told otherwise, the ECS service-linked role is created first when the account lacks
      it: `runtime/service_linked_role.py`.

    Attributes: `cluster`, `cluster_name`, `exec_key`, `exec_log_group`, `insights_log_group`,
    `insights_log_group_name`, `insights_guard` and `service_linked_role` (None when off).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, props: FargateClusterProps | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or FargateClusterProps()

        self.exec_key = rotating_key(
            self,
            "ExecKey",
            description="Encrypts ECS Exec sessions and their CloudWatch session logs",
            removal_policy=props.removal_policy,
        )
        # logs.LogGroup with `encryption_key` adds the key policy statement that lets the regional
        # CloudWatch Logs principal use the key, conditioned on the log-group encryption context:
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        self.exec_log_group = log_group(
            self,
            "ExecSessions",
            encryption_key=self.exec_key,
            retention=props.exec_log_retention,
            removal_policy=props.removal_policy,
        )

        cluster_name = props.cluster_name or cdk.Names.unique_resource_name(
            self, max_length=100, separator="-"
        )
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", cluster_name):
            raise ValueError(
                f"cluster_name must be 1 to 255 letters, digits, '-' or '_', got {cluster_name!r}"
            )
        self.cluster_name = cluster_name
        self.insights_log_group_name = f"/aws/ecs/containerinsights/{cluster_name}/performance"
        # Container Insights writes performance events to this group and creates it itself when it
        # is missing, outside CloudFormation; created here first, it gets a retention and goes
        # with the stack: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-reference-performance-logs-ECS.html
        # A fixed name: a retained group is kept except when the stack's first create rolls back.
        # Arguments by name, as other constructs' calls look (KarpenterCleanup's): nothing shared.
        self.insights_log_group = log_group(
            self,
            "InsightsPerformance",
            name=self.insights_log_group_name,
            retention=props.exec_log_retention,
            encryption_key=props.log_encryption_key,
            removal_policy=props.removal_policy,
        )

        # Not "Resource": ecs.Cluster names its capacity provider association after its own id
        # and adds it as its own child, beside its CfnCluster, which is already "Resource".
        # ecs.Cluster's own settings; the graviton service's load balancer call looks the same.
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=cluster_name,
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,
            enable_fargate_capacity_providers=True,
            execute_command_configuration=audited_exec(
                self.exec_key, self.exec_log_group, cloud_watch_encryption_enabled=True
            ),
        )
        # Both log groups exist before the cluster (ECS Exec checks its group and key policy;
        # Container Insights would create its own) and are deleted after it.
        self.cluster.node.add_dependency(self.exec_log_group, self.insights_log_group)

        self.insights_guard: cdk.CustomResource | None = None
        if props.removal_policy == cdk.RemovalPolicy.DESTROY:
            self.insights_guard = self._guard_insights_logs(props)
        self.service_linked_role: cdk.CustomResource | None = None
        if props.ensure_service_linked_role:
            self.service_linked_role = self._ensure_service_linked_role(props)
            # The cluster and its capacity provider association need the role.
            self.cluster.node.add_dependency(self.service_linked_role)

    def _guard_insights_logs(self, props: FargateClusterProps) -> cdk.CustomResource:
        """Keep Container Insights' re-created group from outliving the stack (removal DESTROY only).

        Ordered before the group on create and after it (and the cluster) on delete. Retained
        groups (production) get no guard: their logs are meant to outlive the stack.
        """
        guard = LogGroupGuard(
            self,
            "InsightsLogsGuard",
            runtime=RUNTIME,
            handler_module="insights_logs",
            resource_type="Custom::EcsInsightsLogsGuard",
            cluster_name=self.cluster_name,
            group_name=self.insights_log_group_name,
            describe_cluster="ecs:DescribeClusters",
            description=f"Deletes the Container Insights log group of ECS cluster {self.cluster_name} when "
            "ECS re-creates it outside the stack (before create, after delete)",
            log_retention=props.exec_log_retention,
            removal_policy=props.removal_policy,
            log_encryption_key=props.log_encryption_key,
        )
        # Deleted after the group (and so after the cluster, which depends on the group).
        self.insights_log_group.node.add_dependency(guard.resource)
        return guard.resource

    def _ensure_service_linked_role(self, props: FargateClusterProps) -> cdk.CustomResource:
        """AWSServiceRoleForECS, created if missing; never deleted (the whole account shares it)."""
        role_arn = (
            f"arn:{cdk.Aws.PARTITION}:iam::{cdk.Aws.ACCOUNT_ID}:role/aws-service-role/ecs.amazonaws.com/"
            "AWSServiceRoleForECS"
        )
        parts = direct_custom_resource(
            Construct(self, "ServiceLinkedRole"),
            runtime=RUNTIME,
            handler_module="service_linked_role",
            resource_type="Custom::EcsServiceLinkedRole",
            properties={"AwsServiceName": "ecs.amazonaws.com"},
            statements=[
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=[role_arn],
                    conditions={"StringEquals": {"iam:AWSServiceName": "ecs.amazonaws.com"}},
                )
            ],
            timeout=cdk.Duration.minutes(1),
            service_timeout=cdk.Duration.minutes(3),
            description="Creates the ECS service-linked role before the first cluster of a new account",
            log_retention=props.exec_log_retention,
            removal_policy=props.removal_policy,
            log_encryption_key=props.log_encryption_key,
        )
        return parts.resource
