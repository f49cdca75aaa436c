"""Physical names fixed at synth, unique per construct path and per stack name."""

from __future__ import annotations

import hashlib

import aws_cdk as cdk
from constructs import IConstruct


def physical_name(construct: IConstruct, max_length: int) -> str:
    """CDK's path-based unique name; with a suffix for the stack name when it differs from the stack's id.

    Two deployments of the same app under different stack names (one per stage, say) in one
    account and region then get different names, while the default keeps CDK's plain name.
    """
    stack = cdk.Stack.of(construct)
    if stack.stack_name == stack.node.id:
        return cdk.Names.unique_resource_name(construct, max_length=max_length)
    suffix = hashlib.sha256(stack.stack_name.encode()).hexdigest()[:8]
    return f"{cdk.Names.unique_resource_name(construct, max_length=max_length - 9)}-{suffix}"
