"""An ECS cluster for external instances (ECS Anywhere), their instance role and the stack's log key.

Slide 9 of the talk: machines outside AWS join this cluster through an SSM hybrid activation
(see `activation.py`) and run tasks of the EXTERNAL launch type.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..._shared.log_key import generated_names, logs_key_statement
from ..._shared.nag import acknowledge
from ..._shared.resources import log_group, rotating_key, service_role
from .._exec import audited_exec


@dataclass(frozen=True)
class ExternalClusterProps:
    """Settings of an `ExternalCluster`."""

    # Retention of the ECS Exec session logs (every command and its output).
    exec_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # The key and the session log group go with the stack by default (a sandbox leaves nothing
    # behind); pass RETAIN to keep the audit trail after `cdk destroy`.
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY


class ExternalCluster(Construct):
    """An ECS cluster for EXTERNAL tasks, the external instances' role, and a key for the stack's logs.

    - The instance role is what every registered machine acts as: trusted by `ssm.amazonaws.com`
      (the SSM agent gets its credentials through the hybrid activation) with the two managed
      policies AWS documents for ECS Anywhere:
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-anywhere-iam.html
    - The key (rotating, customer managed) encrypts ECS Exec sessions and every log group of this
      stack; CloudWatch Logs may use it only for log groups whose names CloudFormation made for
      this stack (`<StackName>-...`), per
      https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    - No capacity providers (external instances cannot use them) and no Container Insights (see
      the cdk-nag acknowledgment below).

    The VPC is not used by external instances; it is passed because `ecs.Cluster` would make a VPC
    of its own without one.

    Attributes: `cluster`, `instance_role`, `key`, `exec_log_group`.
    """

    # The library's construct signature (see constructs_lib/__init__.py), as FargateCluster's.
    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, props: ExternalClusterProps | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or ExternalClusterProps()

        self.key = rotating_key(
            self,
            "Key",
            description="ECS Anywhere: log groups, ECS Exec sessions and the activation secret",
            removal_policy=props.removal_policy,
        )
        # Log groups made by CloudFormation without a name are named `<StackName>-<LogicalId>-<suffix>`.
        self.key.add_to_resource_policy(
            logs_key_statement(self, generated_names(self), sid="CloudWatchLogsForThisStacksGroups")
        )
        # Arguments by name, as AppRunnerWebService's LogCleanup call looks: nothing shared.
        self.exec_log_group = log_group(
            self,
            "ExecSessions",
            encryption_key=self.key,
            retention=props.exec_log_retention,
            removal_policy=props.removal_policy,
        )
        self.exec_log_group.node.add_dependency(self.key)

        # Not "Resource": ecs.Cluster already names its own CfnCluster "Resource".
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            # The group is encrypted with the key all the same; the key's statement above admits
            # CloudWatch Logs for this stack's groups only.
            execute_command_configuration=audited_exec(
                self.key, self.exec_log_group, cloud_watch_encryption_enabled=False
            ),
        )
        self.cluster.node.add_dependency(self.exec_log_group)
        acknowledge(
            self.cluster.node.default_child,  # type: ignore[arg-type]
            {
                "AwsSolutions-ECS4": "Container Insights writes to a log group it creates itself "
                "(/aws/ecs/containerinsights/<cluster>/performance) outside the stack, which `cdk destroy` "
                "would leave behind, and bills per metric; task logs and ECS Exec sessions are logged here.",
            },
        )

        self.instance_role = service_role(
            self,
            "InstanceRole",
            "ssm.amazonaws.com",
            description="ECS Anywhere external instances: SSM agent and ECS container agent",
            managed_policies={
                "AmazonSSMManagedInstanceCore": (
                    "AWS documents this managed policy for ECS Anywhere instances: the SSM agent registers "
                    "and keeps its hybrid credentials with it "
                    "(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-anywhere-iam.html)."
                ),
                "service-role/AmazonEC2ContainerServiceforEC2Role": (
                    "AWS documents this managed policy for ECS Anywhere instances: the ECS container agent "
                    "registers, polls and reports task state with it "
                    "(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-anywhere-iam.html)."
                ),
            },
        )
