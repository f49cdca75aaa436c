"""A customer managed KMS key for the ECS slides' CloudWatch log groups, usable for this stack's groups only.

CloudWatch Logs encrypts a group with a KMS key only if the key policy lets the regional Logs
service principal use it; AWS recommends narrowing that grant with the encryption context that
Logs sends, the ARN of the log group
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# What CloudWatch Logs needs on the key, as the page above lists it.
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


class LogEncryptionKey(Construct):
    """A rotating KMS key whose policy admits CloudWatch Logs for this stack's log groups only.

    Admitted: every group whose name CloudFormation generated in this stack
    (`<StackName>-<LogicalId>-<suffix>`), and each name passed in `log_group_names` or to
    `admit_log_group` (for groups whose name a service fixes, such as Container Insights'). A
    group of another stack, or one made outside CloudFormation, cannot use the key.

    Attributes: `key`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group_names: Sequence[str] = (),
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        if isinstance(log_group_names, str):
            raise ValueError(f"log_group_names must be a list of names, got {log_group_names!r}")
        stack = cdk.Stack.of(self)
        self._names: list[str] = []
        self.key = kms.Key(
            self,
            "Resource",
            description=f"Encrypts the CloudWatch log groups of stack {stack.stack_name}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self._admit("CloudWatchLogsForThisStacksGeneratedGroups", f"{stack.stack_name}-*")
        for name in log_group_names:
            self.admit_log_group(name)

    def admit_log_group(self, log_group_name: str) -> None:
        """Let CloudWatch Logs use the key for the group of this exact name (a plain string)."""
        if cdk.Token.is_unresolved(log_group_name):
            # A reference to the group itself would make the key and the group depend on each other.
            raise ValueError(f"log_group_name must be a plain name, not a token, got {log_group_name!r}")
        if not log_group_name or log_group_name in self._names:
            raise ValueError(f"log_group_name must be a new, non-empty name, got {log_group_name!r}")
        self._names.append(log_group_name)
        self._admit(f"CloudWatchLogsForGroup{len(self._names)}", log_group_name)

    def _admit(self, sid: str, name_pattern: str) -> None:
        stack = cdk.Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.{stack.url_suffix}")],
                actions=list(LOGS_KEY_ACTIONS),
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": self._arn(name_pattern)}},
            )
        )

    def _arn(self, name: str) -> str:
        stack = cdk.Stack.of(self)
        return f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{name}"
