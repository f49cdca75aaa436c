"""The EcsFargate stack as app.py composes it: with the real Registry stack beneath it."""

from __future__ import annotations

import dataclasses
import json

import pytest
from aws_cdk.assertions import Match

from stacks.config import load_config
from tests.conftest import Synthesized


@pytest.fixture(scope="module")
def composed(synth_with) -> Synthesized:
    config = load_config(stage="sandbox")
    return synth_with(
        dataclasses.replace(
            config,
            eks=dataclasses.replace(config.eks, enabled=False),
            ecs_anywhere=dataclasses.replace(config.ecs_anywhere, enabled=False),
        )
    )


def test_ecs_fargate_depends_on_the_registry_and_the_network(composed: Synthesized) -> None:
    dependencies = {stack.node.id for stack in composed.stacks["EcsFargate"].dependencies}
    assert {"Registry", "Network"} <= dependencies


def test_execution_role_gets_the_registry_caches_first_pull_grant(composed: Synthesized) -> None:
    stack = composed.stacks["EcsFargate"]
    role = stack.graviton.task_definition.obtain_execution_role()  # type: ignore[attr-defined]
    composed.template("EcsFargate").has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": stack.get_logical_id(role.node.default_child)}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(
                                    ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
                                ),
                                "Resource": Match.any_value(),
                            }
                        )
                    ]
                )
            },
        },
    )


def test_image_build_pushes_to_the_registry_app_repository(composed: Synthesized) -> None:
    project = composed.stacks["EcsFargate"].image_build.project  # type: ignore[attr-defined]
    props = composed.template_json("EcsFargate")["Resources"][
        composed.stacks["EcsFargate"].get_logical_id(project.node.default_child)
    ]["Properties"]
    uri = json.dumps(props["Environment"]["EnvironmentVariables"])
    assert "Registry" in uri and "AppRepository" in uri


def test_composed_stack_has_no_unacknowledged_cdk_nag_finding(composed: Synthesized) -> None:
    violations = [
        f"{violation['ruleName']} on {resource['constructPath']}"
        for plugin in composed.validation_report()["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingResources"]
        if resource["constructPath"].startswith("EcsFargate/")
    ]
    assert violations == []
