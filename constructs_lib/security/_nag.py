"""Acknowledging cdk-nag findings on one construct, with CDK's own `Validations` API (no cdk-nag import)."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from constructs import IConstruct


def managed_policy(name: str) -> str:
    """The granular AwsSolutions-IAM4 id for an AWS managed policy (`service-role/...` included)."""
    return f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]"


def wildcard(resource: str) -> str:
    """The granular AwsSolutions-IAM5 id for a wildcard resource as cdk-nag prints it."""
    return f"AwsSolutions-IAM5[Resource::{resource}]"


def acknowledge(construct: IConstruct, findings: Mapping[str, str]) -> None:
    """Acknowledge each finding (rule id to reason) on `construct` alone."""
    for rule_id, reason in findings.items():
        cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))
