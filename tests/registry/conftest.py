"""Fixtures of the Registry tests: the stack built alone, once per configuration."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

import app as app_module  # noqa: F401  (puts the bundled Node first on PATH before jsii starts)
from stacks.config.common import REMOVAL_POLICIES
from stacks.config.loader import build
from stacks.config.registry import RegistryConfig
from stacks.registry_stack import RegistryStack
from stacks.stage import StageSettings

ROOT = Path(__file__).resolve().parents[2]
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
ENV = cdk.Environment(account="123456789012", region="ap-northeast-1")


def make_registry(
    data: Mapping[str, Any] | None = None, *, removal_policy: str = "destroy", app: cdk.App | None = None
) -> RegistryStack:
    """A RegistryStack from a `registry:` section given as plain data (as the YAML loader sees it)."""
    app = app or cdk.App(context=CDK_CONTEXT)
    return RegistryStack(
        app,
        "Registry",
        env=ENV,
        config=build(RegistryConfig, dict(data or {}), "registry"),
        settings=StageSettings(
            REMOVAL_POLICIES[removal_policy], log_retention_days=7, deletion_protection=False
        ),
    )


@pytest.fixture(scope="module")
def registry_factory() -> Callable[..., RegistryStack]:
    return make_registry


def repository_arn(pattern: str, region: str | None = None) -> dict:
    """The `Fn::Join` of `arn:<partition>:ecr:<region>:<account>:repository/<pattern>`."""
    if region is None:
        return {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":ecr:",
                    {"Ref": "AWS::Region"},
                    ":",
                    {"Ref": "AWS::AccountId"},
                    f":repository/{pattern}",
                ],
            ]
        }
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":ecr:{region}:",
                {"Ref": "AWS::AccountId"},
                f":repository/{pattern}",
            ],
        ]
    }
