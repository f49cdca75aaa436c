"""cdk-nag acknowledgments for the constructs of this folder, each on the one resource it concerns."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, reasons: Mapping[str, str]) -> None:
    """Acknowledge each `{rule id: reason}` on `construct` (one resource, never a whole stack)."""
    for rule, reason in reasons.items():
        cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def nag_text(stack: cdk.Stack, value: str) -> str:
    """How cdk-nag writes a resource ARN in a granular finding id (its flattenCfnReference)."""

    def visit(node: Any) -> str:
        if isinstance(node, str):
            return node.replace("${", "<").replace("}", ">")
        if isinstance(node, dict) and "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(visit(item) for item in items)
        if isinstance(node, dict) and "Ref" in node:
            return f"<{visit(node['Ref'])}>"
        return json.dumps(node, separators=(",", ":"))

    return visit(stack.resolve(value))
