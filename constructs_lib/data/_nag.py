"""cdk-nag acknowledgments for the constructs of this folder, each on the one resource it concerns."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, reasons: Mapping[str, str]) -> None:
    """Acknowledge each `{rule id: reason}` on `construct` (one resource, never a whole stack)."""
    for rule, reason in reasons.items():
        cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
