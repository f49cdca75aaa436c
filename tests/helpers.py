"""Small helpers shared by the tests."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import aws_cdk as cdk

from stacks.config import AppConfig

FEATURE_SECTIONS = ("registry", "ecs", "eks")


def only_network(config: AppConfig) -> AppConfig:
    """The same configuration with every feature stack switched off: only Network remains."""
    changes = {name: dataclasses.replace(getattr(config, name), enabled=False) for name in FEATURE_SECTIONS}
    return dataclasses.replace(config, **changes)


def logical_id(construct: Any) -> str:
    """The logical id of an L1 resource, or of the resource behind an L2 construct, however deep.

    HelmChart, CustomResource and our own wrappers hold their CfnResource a level or two down.
    """
    element = construct
    while not isinstance(element, cdk.CfnElement):
        child = element.node.default_child
        assert child is not None, f"{construct.node.path} wraps no CloudFormation resource"
        element = child
    return cdk.Stack.of(element).get_logical_id(element)


def parse_json_property(value: Any) -> Any:
    """Parse a JSON-valued property (Helm values, a manifest): a string, or an Fn::Join with tokens.

    Each deploy-time value inside (a `Ref`, an `Fn::GetAtt`) reads as the string "TOKEN".
    """
    if isinstance(value, dict):
        value = "".join(part if isinstance(part, str) else "TOKEN" for part in value["Fn::Join"][1])
    return json.loads(value)
