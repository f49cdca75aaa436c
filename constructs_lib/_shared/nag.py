"""cdk-nag acknowledgments on one resource each, with CDK's own `Validations` API (no cdk-nag import).

Each construct acknowledges the findings of the resources it creates, scoped to one resource and
with its reason, so that it passes cdk-nag's AwsSolutions pack when copied (with this folder).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def managed_policy(name: str) -> str:
    """The granular AwsSolutions-IAM4 id for an AWS managed policy (`service-role/...` included)."""
    return f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]"


def wildcard(resource: str) -> str:
    """The granular AwsSolutions-IAM5 id for a wildcard resource as cdk-nag prints it."""
    return f"AwsSolutions-IAM5[Resource::{resource}]"


def acknowledge(construct: IConstruct, reasons: Mapping[str, str]) -> None:
    """Acknowledge each `{rule id: reason}` on `construct` (one resource, never a whole stack)."""
    for rule, reason in reasons.items():
        cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def acknowledge_resource(construct: IConstruct, reasons: Mapping[str, str]) -> None:
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


def nag_text(stack: cdk.Stack, value: str) -> str:
    """How cdk-nag writes a resource ARN in a granular finding id (its flattenCfnReference)."""

    def visit(node: Any) -> str:
        if isinstance(node, str):
            return node.replace("${", "<").replace("}", ">")
        if isinstance(node, dict) and "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(visit(item) for item in items)
        if isinstance(node, dict) and "Fn::Sub" in node:
            return visit(node["Fn::Sub"])
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{visit(resource)}.{visit(attribute)}>"
        if isinstance(node, dict) and "Ref" in node:
            return f"<{visit(node['Ref'])}>"
        return json.dumps(node, separators=(",", ":"))

    return visit(stack.resolve(value))
