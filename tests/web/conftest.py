"""Helpers of the web tests: the session's synthesized stages, read through the web stacks."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_ec2 as ec2

from tests.conftest import Synthesized

WEB_STACKS = ("DataStores", "AppRunner", "ExpressMode")
FRONT_ENDS = ("AppRunner", "ExpressMode")


def resources_of(stage: Synthesized, stack_id: str, resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in stage.template_json(stack_id)["Resources"].items()
        if resource["Type"] == resource_type
    }


def subnet_refs(stage: Synthesized, stack_id: str, subnets: list[ec2.ISubnet]) -> list[Any]:
    """How `stack_id`'s template refers to the Network stack's `subnets`."""
    stack = stage.stacks[stack_id]
    return [stack.resolve(subnet.subnet_id) for subnet in subnets]


def vpc(stage: Synthesized) -> ec2.IVpc:
    return stage.stacks["Network"].vpc  # type: ignore[attr-defined]
