"""EKS on Fargate tests read the session's two syntheses (`sandbox`, `production` in tests/conftest.py).

No synthesis of their own: the validator tests synthesize both stages anyway, and these tests
only read the Eks stack's template and construct tree from them.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib.eks.fargate import EksFargate
from stacks.eks_stack import EksStack
from tests.conftest import Synthesized


class FargateView:
    """The Eks stack of one synthesis, seen from its `EksFargate` construct."""

    def __init__(self, result: Synthesized) -> None:
        stack = result.stacks["Eks"]
        assert isinstance(stack, EksStack) and stack.fargate is not None
        self.stack = stack
        self.fargate: EksFargate = stack.fargate
        self.template = result.template("Eks")
        self.resources: dict[str, Any] = result.template_json("Eks")["Resources"]

    def logical_id(self, construct: Any) -> str:
        element = construct
        while not isinstance(element, cdk.CfnElement):
            element = element.node.default_child
        return self.stack.get_logical_id(element)

    def depends_on(self, construct: Any) -> set[str]:
        return set(self.resources[self.logical_id(construct)].get("DependsOn", []))

    def manifest(self, construct: Any) -> list[dict[str, Any]]:
        """The Kubernetes objects of a manifest resource, CloudFormation references as `<Ref>` text."""
        return json.loads(render(self.resources[self.logical_id(construct)]["Properties"]["Manifest"]))

    def objects(self, construct: Any) -> dict[str, dict[str, Any]]:
        """The manifest's objects by `Kind/name`."""
        return {f"{o['kind']}/{o['metadata']['name']}": o for o in self.manifest(construct)}


def render(value: Any) -> str:
    """A string from a template value: `Fn::Join` joined, `Ref` and `Fn::GetAtt` as `<Id>` / `<Id.Attr>`."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    raise AssertionError(f"unexpected template value {value!r}")


@pytest.fixture(scope="module")
def fargate_sandbox(sandbox: Synthesized) -> FargateView:
    return FargateView(sandbox)


@pytest.fixture(scope="module")
def fargate_production(production: Synthesized) -> FargateView:
    return FargateView(production)
