"""A customer managed, rotating KMS key for the EKS slides' log groups, usable by this stack's groups only.

The control-plane log group holds the cluster's audit log. CloudWatch Logs encrypts a group with
a KMS key only if the key policy lets the regional Logs service principal use it, and AWS
recommends narrowing that grant with the encryption context Logs sends, the ARN of the group
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).

Not `_shared/log_key.py`'s `LogEncryptionKey` on purpose: this key takes every name at once in one
statement, and a retained key is kept except on create (as the control-plane group is); the policy
statement itself is the shared one.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from constructs import Construct

from .._shared.log_key import generated_names, logs_key_statement
from .._shared.resources import fixed_name_removal, rotating_key


class LogEncryptionKey(Construct):
    """A rotating KMS key whose policy admits CloudWatch Logs for this stack's log groups only.

    Admitted: every group whose name CloudFormation generated in this stack
    (`<StackName>-<LogicalId>-<suffix>`), and each name in `log_group_names` (groups whose name a
    service fixes, such as EKS's `/aws/eks/<cluster>/cluster`). A group of another stack, or one
    made outside CloudFormation, cannot use the key. Give the key the removal policy of the groups
    it encrypts: a group references its key, so CloudFormation creates the key first and deletes it
    last, and a retained group needs a retained key to stay readable.

    Attributes: `key`.
    """

    # The arguments of _shared/log_key.py's LogEncryptionKey; kept apart (see the module docstring):
    # one statement for every name and a RetainExceptOnCreate key are what the Eks stack deploys.
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
        self.key = rotating_key(
            self,
            "Resource",
            description=f"Encrypts the CloudWatch log groups of stack {stack.stack_name}",
            # A retained key is retained except on create, as the control-plane group is: a first
            # deploy that rolls back leaves no key that nothing uses.
            removal_policy=fixed_name_removal(removal_policy),
        )
        patterns = [generated_names(self)]
        for name in log_group_names:
            if not name or cdk.Token.is_unresolved(name):
                # A reference to the group itself would make the key and the group depend on each other.
                raise ValueError(f"log_group_names must hold plain names, got {name!r}")
            patterns.append(name)
        self.key.add_to_resource_policy(
            logs_key_statement(self, patterns, sid="CloudWatchLogsForThisStacksGroups", url_suffix=True)
        )
