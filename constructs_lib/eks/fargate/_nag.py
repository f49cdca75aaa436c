"""cdk-nag acknowledgments, each on one CloudFormation resource, naming its rule and its reason."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, reasons: Mapping[str, str]) -> None:
    """Acknowledge `reasons` (rule id -> why) on the CloudFormation resource behind `construct`."""
    target = construct
    while not isinstance(target, cdk.CfnResource):
        child = target.node.default_child
        if child is None:
            raise ValueError(f"construct must wrap a CloudFormation resource, got {construct.node.path}")
        target = child
    cdk.Validations.of(target).acknowledge(
        *(cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id, reason in reasons.items())
    )
