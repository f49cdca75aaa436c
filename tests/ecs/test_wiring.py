"""The EcsFargate stack as app.py composes it: with the real Registry stack beneath it."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from tests.conftest import Synthesized
from tests.helpers import allows, has_role_policy, logical_id, render


@pytest.fixture(scope="module")
def composed(sandbox: Synthesized) -> Synthesized:
    """The session's sandbox app, where EcsFargate sits on the real Registry and Network stacks."""
    return sandbox


def test_ecs_fargate_depends_on_the_registry_and_the_network(composed: Synthesized) -> None:
    dependencies = {stack.node.id for stack in composed.stacks["EcsFargate"].dependencies}
    assert {"Registry", "Network"} <= dependencies


def test_execution_role_gets_the_registry_caches_first_pull_grant(composed: Synthesized) -> None:
    stack = composed.stacks["EcsFargate"]
    role = stack.graviton.task_definition.obtain_execution_role()  # type: ignore[attr-defined]
    has_role_policy(
        composed.template("EcsFargate"),
        logical_id(role),
        Match.array_with(
            [allows("ecr:BatchImportUpstreamImage", "ecr:CreateRepository", Resource=Match.any_value())]
        ),
    )


def test_image_build_pushes_to_the_registry_app_repository(composed: Synthesized) -> None:
    stack = composed.stacks["EcsFargate"]
    project = stack.image_build.project  # type: ignore[attr-defined]
    props = composed.template_json("EcsFargate")["Resources"][logical_id(project)]["Properties"]
    variables = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
    repository = composed.stacks["Registry"].app_repository  # type: ignore[attr-defined]
    # The Registry's repository (its name read from the Registry stack), in this account's registry.
    uri = variables["REPOSITORY_URI"]["Fn::Join"][1]
    assert uri[-2:] == ["/", stack.resolve(repository.repository_name)]
    assert render({"Fn::Join": ["", uri[:-1]]}) == "<AWS::AccountId>.dkr.ecr.ap-northeast-1.<AWS::URLSuffix>/"


def test_composed_stack_has_no_unacknowledged_cdk_nag_finding(composed: Synthesized) -> None:
    violations = [
        f"{violation['ruleName']} on {resource['constructPath']}"
        for plugin in composed.validation_report()["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingResources"]
        if resource["constructPath"].startswith("EcsFargate/")
    ]
    assert violations == []
