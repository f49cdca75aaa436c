"""EKS on Fargate tests read the session's two syntheses (`sandbox`, `production` in tests/conftest.py).

No synthesis of their own: the validator tests synthesize both stages anyway, and these tests
only read the Eks stack's template and construct tree from them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.eks.fargate import EksFargate
from stacks.eks_stack import EksStack
from tests.conftest import Synthesized
from tests.helpers import logical_id, render


class FargateView:
    """The Eks stack of one synthesis, seen from its `EksFargate` construct."""

    def __init__(self, result: Synthesized) -> None:
        stack = result.stacks["Eks"]
        assert isinstance(stack, EksStack) and stack.fargate is not None
        self.stack = stack
        self.fargate: EksFargate = stack.fargate
        self.template = result.template("Eks")
        self.resources: dict[str, Any] = result.template_json("Eks")["Resources"]

    def depends_on(self, construct: Any) -> set[str]:
        return set(self.resources[logical_id(construct)].get("DependsOn", []))

    def manifest(self, construct: Any) -> list[dict[str, Any]]:
        """The Kubernetes objects of a manifest resource, CloudFormation references as `<Ref>` text."""
        return json.loads(render(self.resources[logical_id(construct)]["Properties"]["Manifest"]))

    def objects(self, construct: Any) -> dict[str, dict[str, Any]]:
        """The manifest's objects by `Kind/name`."""
        return {f"{o['kind']}/{o['metadata']['name']}": o for o in self.manifest(construct)}


@pytest.fixture(scope="module")
def fargate_sandbox(sandbox: Synthesized) -> FargateView:
    return FargateView(sandbox)


@pytest.fixture(scope="module")
def fargate_production(production: Synthesized) -> FargateView:
    return FargateView(production)
