"""A KMS key that a stack makes itself for what it deletes along with it.

Such a key (the Registry and RegistryReplica stacks' repository keys, the GuardDuty stack's log
key) rotates (`rotating_key`) and waits the shortest pending window KMS allows, 7 days, once its
stack is destroyed with the `destroy` policy: what it encrypted (template-made repositories, log
groups) went first, so nothing is gained by waiting the default 30 days; a key retained by the
`retain` policy never enters the window.
https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib._shared.resources import rotating_key

PENDING_WINDOW = cdk.Duration.days(7)


def stack_key(
    scope: Construct, construct_id: str, *, description: str, removal_policy: cdk.RemovalPolicy
) -> kms.Key:
    """A rotating key with a 7-day pending window, child `construct_id` of `scope`."""
    return rotating_key(
        scope,
        construct_id,
        description=description,
        removal_policy=removal_policy,
        pending_window=PENDING_WINDOW,
    )
