"""A customer managed, rotating KMS key for the EKS slides' log groups, usable by this stack's groups only.

The control-plane log group holds the cluster's audit log. CloudWatch Logs encrypts a group with
a KMS key only if the key policy lets the regional Logs service principal use it, and AWS
recommends narrowing that grant with the encryption context Logs sends, the ARN of the group
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).

`constructs_lib/ecs/` has a key of the same shape: each unit copies alone, so each keeps its own.
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
    (`<StackName>-<LogicalId>-<suffix>`), and each name in `log_group_names` (groups whose name a
    service fixes, such as EKS's `/aws/eks/<cluster>/cluster`). A group of another stack, or one
    made outside CloudFormation, cannot use the key. Give the key the removal policy of the groups
    it encrypts: a group references its key, so CloudFormation creates the key first and deletes it
    last, and a retained group needs a retained key to stay readable.

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
        self.key = kms.Key(
            self,
            "Resource",
            description=f"Encrypts the CloudWatch log groups of stack {stack.stack_name}",
            enable_key_rotation=True,
            # A retained key is retained except on create, as the control-plane group is: a first
            # deploy that rolls back leaves no key that nothing uses.
            removal_policy=(
                cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
                if removal_policy == cdk.RemovalPolicy.RETAIN
                else removal_policy
            ),
        )
        patterns = [f"{stack.stack_name}-*"]
        for name in log_group_names:
            if not name or cdk.Token.is_unresolved(name):
                # A reference to the group itself would make the key and the group depend on each other.
                raise ValueError(f"log_group_names must hold plain names, got {name!r}")
            patterns.append(name)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsForThisStacksGroups",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.{stack.url_suffix}")],
                actions=list(LOGS_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": [
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{pattern}"
                            for pattern in patterns
                        ]
                    }
                },
            )
        )
