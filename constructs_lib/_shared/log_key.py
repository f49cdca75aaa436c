"""A customer managed, rotating KMS key for one stack's CloudWatch log groups, and its policy statement.

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
from aws_cdk import aws_logs as logs
from constructs import Construct

from .resources import rotating_key

# What CloudWatch Logs needs on the key, as the page above lists it.
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


def log_group_arn(scope: Construct, name: str) -> str:
    """The ARN that CloudWatch Logs puts in the encryption context for group `name` (or a `*` pattern)."""
    stack = cdk.Stack.of(scope)
    return f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{name}"


def generated_names(scope: Construct, group: logs.LogGroup | None = None) -> str:
    """The names CloudFormation gives the log groups of `scope`'s stack that have no name of their own,
    `<StackName>-<LogicalId>-<suffix>`, as a pattern: every such group's, or with `group` that one's.

    A key policy cannot name a group's own ARN (the group refers to the key: a cycle), so it names
    the group's name the way CloudFormation will make it.
    """
    stack = cdk.Stack.of(scope)
    if group is None:
        return f"{stack.stack_name}-*"
    return f"{stack.stack_name}-{stack.get_logical_id(group.node.default_child)}-*"  # type: ignore[arg-type]


def admit_generated_groups(key: kms.IKey, scope: Construct) -> None:
    """Let this region's CloudWatch Logs use `key` for every group of `scope`'s stack that
    CloudFormation names (`generated_names`), and for no other group."""
    key.add_to_resource_policy(
        logs_key_statement(
            scope, generated_names(scope), sid="CloudWatchLogsForThisStacksGeneratedGroups", url_suffix=True
        )
    )


def admit_group(key: kms.IKey, group: logs.LogGroup, *, sid: str, name: str | None = None) -> None:
    """Let this region's CloudWatch Logs use `key` for `group` alone: by `name`, the fixed name the
    group was given, or else by the name CloudFormation makes for it (`generated_names`).

    CloudWatch Logs uses a key only if its policy admits it; a group whose key does not fails to
    create. A key imported from elsewhere keeps its own policy, which must say the same.
    """
    if name is not None and (not name or cdk.Token.is_unresolved(name)):
        # A reference to the group itself would make the key and the group depend on each other.
        raise ValueError(f"name must be a plain, non-empty log group name, not a token, got {name!r}")
    key.add_to_resource_policy(
        logs_key_statement(group, name or generated_names(group, group), sid=sid, url_suffix=True)
    )


def logs_key_statement(
    scope: Construct,
    name_patterns: str | Sequence[str],
    *,
    sid: str | None = None,
    url_suffix: bool = False,
) -> iam.PolicyStatement:
    """A key policy statement admitting this region's CloudWatch Logs for the groups `name_patterns` name.

    A group of another stack, or one made outside CloudFormation, cannot use the key. A single
    pattern is written as one value, a sequence as a list. With `url_suffix`, the service principal
    ends in the partition's URL suffix rather than `amazonaws.com`.
    """
    stack = cdk.Stack.of(scope)
    arns: str | list[str] = (
        log_group_arn(scope, name_patterns)
        if isinstance(name_patterns, str)
        else [log_group_arn(scope, name) for name in name_patterns]
    )
    domain = stack.url_suffix if url_suffix else "amazonaws.com"
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.{domain}")],
        actions=list(LOGS_KEY_ACTIONS),
        resources=["*"],
        conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": arns}},
    )


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
        self.key = rotating_key(
            self,
            "Resource",
            description=f"Encrypts the CloudWatch log groups of stack {stack.stack_name}",
            removal_policy=removal_policy,
        )
        admit_generated_groups(self.key, self)
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
        self.key.add_to_resource_policy(
            logs_key_statement(
                self, log_group_name, sid=f"CloudWatchLogsForGroup{len(self._names)}", url_suffix=True
            )
        )
