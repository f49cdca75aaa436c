"""An ECS cluster for Fargate with Container Insights (enhanced) and audited, encrypted ECS Exec.

Slides 5-10 of the talk: the cluster that the Graviton service and the Windows service share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


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


class FargateCluster(Construct):
    """An ECS cluster with the FARGATE and FARGATE_SPOT capacity providers and ECS Exec audited.

    - Container Insights with enhanced observability (task- and container-level metrics):
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-container-insights.html
    - ECS Exec sessions are encrypted with a customer managed KMS key (on top of TLS) and every
      session's input and output goes to a CloudWatch log group, itself encrypted with the key:
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html

    Attributes: `cluster`, `exec_key`, `exec_log_group`, `insights_log_group`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, props: FargateClusterProps | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or FargateClusterProps()

        self.exec_key = kms.Key(
            self,
            "ExecKey",
            description="Encrypts ECS Exec sessions and their CloudWatch session logs",
            enable_key_rotation=True,
            removal_policy=props.removal_policy,
        )
        # logs.LogGroup with `encryption_key` adds the key policy statement that lets the regional
        # CloudWatch Logs principal use the key, conditioned on the log-group encryption context:
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        self.exec_log_group = logs.LogGroup(
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
        # Container Insights writes performance events to this group and creates it itself when it
        # is missing, outside CloudFormation; created here first, it gets a retention and goes
        # with the stack: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-reference-performance-logs-ECS.html
        self.insights_log_group = logs.LogGroup(
            self,
            "InsightsPerformance",
            log_group_name=f"/aws/ecs/containerinsights/{cluster_name}/performance",
            retention=props.exec_log_retention,
            # A retained group with a fixed name would make the next create of this cluster fail
            # ("already exists"); RetainExceptOnCreate keeps it on delete and on update, but not
            # when the stack's first create rolls back.
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
            if props.removal_policy == cdk.RemovalPolicy.RETAIN
            else props.removal_policy,
        )

        # Not "Resource": ecs.Cluster names its capacity provider association after its own id
        # and adds it as its own child, beside its CfnCluster, which is already "Resource".
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=cluster_name,
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,
            enable_fargate_capacity_providers=True,
            execute_command_configuration=ecs.ExecuteCommandConfiguration(
                kms_key=self.exec_key,
                logging=ecs.ExecuteCommandLogging.OVERRIDE,
                log_configuration=ecs.ExecuteCommandLogConfiguration(
                    cloud_watch_log_group=self.exec_log_group,
                    cloud_watch_encryption_enabled=True,
                ),
            ),
        )
        # Both log groups exist before the cluster (ECS Exec checks its group and key policy;
        # Container Insights would create its own) and are deleted after it.
        self.cluster.node.add_dependency(self.exec_log_group, self.insights_log_group)
