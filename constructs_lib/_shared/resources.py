"""The project's conventions for the resources every unit makes, each written once.

- `rotating_key`: every customer managed KMS key rotates yearly (AwsSolutions-KMS5), says what it
  encrypts, and follows the caller's removal policy.
- `fixed_name_removal`: the removal policy for a resource whose physical name is fixed at synth
  (a service-named log group). A retained one is kept on delete and on update, but not when the
  stack's first create rolls back (RetainExceptOnCreate), so a retry does not fail with "already
  exists": https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct


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
