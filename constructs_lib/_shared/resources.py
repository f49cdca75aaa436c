"""The project's conventions for the resources every unit makes, each written once.

- `rotating_key`: every customer managed KMS key rotates yearly (AwsSolutions-KMS5), says what it
  encrypts, and follows the caller's removal policy.
- `fixed_name_removal`: the removal policy for a resource whose physical name is fixed at synth
  (a service-named log group). A retained one is kept on delete and on update, but not when the
  stack's first create rolls back (RetainExceptOnCreate), so a retry does not fail with "already
  exists": https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
- `log_group`: every log group states its retention and removal policy (CDK's defaults, two years
  and RETAIN, would outlive a sandbox), and one with a fixed name gets `fixed_name_removal`.
- `service_role`: a role that one AWS service assumes, each AWS managed policy on it attached
  together with the reason that cdk-nag's AwsSolutions-IAM4 finding is acknowledged with.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .nag import acknowledge, managed_policy


def rotating_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    removal_policy: cdk.RemovalPolicy,
    pending_window: cdk.Duration | None = None,
) -> kms.Key:
    """A customer managed KMS key with yearly rotation, child `construct_id` of `scope`."""
    return kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        pending_window=pending_window,
        removal_policy=removal_policy,
    )


def fixed_name_removal(removal_policy: cdk.RemovalPolicy) -> cdk.RemovalPolicy:
    """`removal_policy`, with RETAIN turned into RetainExceptOnCreate (see the module docstring)."""
    if removal_policy == cdk.RemovalPolicy.RETAIN:
        return cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
    return removal_policy


def log_group(
    scope: Construct,
    construct_id: str,
    *,
    retention: logs.RetentionDays,
    removal_policy: cdk.RemovalPolicy,
    encryption_key: kms.IKey | None = None,
    name: str | None = None,
) -> logs.LogGroup:
    """A log group, child `construct_id` of `scope`, encrypted with `encryption_key` when given.

    `name` is for a group that a service writes to under a name it fixes, created here first so
    that it gets a retention and goes with the stack; its removal is `fixed_name_removal`. Without
    a name, CloudFormation names the group `<StackName>-<LogicalId>-<suffix>`.
    """
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=retention,
        encryption_key=encryption_key,
        removal_policy=removal_policy if name is None else fixed_name_removal(removal_policy),
    )


def service_role(
    scope: Construct,
    construct_id: str,
    service: str,
    *,
    description: str,
    managed_policies: Mapping[str, str] | None = None,
) -> iam.Role:
    """A role trusted by the service principal `service` (such as `lambda.amazonaws.com`).

    `managed_policies` maps each AWS managed policy to attach (`service-role/...` included) to
    why it is the right grant, the reason given to cdk-nag for its IAM4 finding on this role.
    """
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(service),
        description=description,
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name(name) for name in managed_policies or {}
        ]
        or None,
    )
    if managed_policies:
        acknowledge(role, {managed_policy(name): reason for name, reason in managed_policies.items()})
    return role
