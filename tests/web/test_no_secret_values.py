"""No password or secret value in any template, environment variable or output, in either stage.

The database password exists only in Secrets Manager: CloudFormation resolves it into the
cluster through a dynamic reference, and the front ends receive it as a secret reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Synthesized

DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):")
SECRETISH_NAME = re.compile(r"password|secret|token|credential", re.IGNORECASE)
# The one place a dynamic reference belongs: the property CloudFormation resolves it into.
RESOLVED_INTO = {("AWS::RDS::DBCluster", "MasterUserPassword")}


def flatten(node: Any) -> str:
    """A property value as one string (an Fn::Join's parts joined), to scan for references."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Fn::Join" in node:
        return "".join(flatten(part) for part in node["Fn::Join"][1])
    if isinstance(node, dict):
        return " ".join(flatten(value) for value in node.values())
    if isinstance(node, list):
        return " ".join(flatten(value) for value in node)
    return str(node)


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, str(index)))


def findings(template: dict[str, Any]) -> list[str]:
    """Where a template carries a secret value, or a secret reference outside its one place."""
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        for key, value in resource.get("Properties", {}).items():
            text = flatten(value)
            if DYNAMIC_REFERENCE.search(text) and (resource["Type"], key) not in RESOLVED_INTO:
                found.append(f"{logical_id}.{key}: secret reference")
            for path, leaf in walk(value, (key,)):
                # A literal string under a password-like key is a value written into the template.
                if (
                    isinstance(leaf, str)
                    and re.search(r"password", path[-1], re.IGNORECASE)
                    and not DYNAMIC_REFERENCE.search(leaf)
                    and path[-1] not in ("GenerateStringKey", "PasswordLength")
                ):
                    found.append(f"{logical_id}.{'.'.join(path)}: literal {leaf!r}")
    for name, output in template.get("Outputs", {}).items():
        if DYNAMIC_REFERENCE.search(flatten(output.get("Value"))):
            found.append(f"output {name}: secret reference")
    return found


def environment_variables(template: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(resource, name, value) of every plain environment variable the web front ends set."""
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::AppRunner::Service":
            image = properties["SourceConfiguration"]["ImageRepository"].get("ImageConfiguration", {})
            variables = image.get("RuntimeEnvironmentVariables", [])
        elif resource["Type"] == "AWS::ECS::ExpressGatewayService":
            variables = properties.get("PrimaryContainer", {}).get("Environment", [])
        else:
            continue
        for variable in variables:
            yield logical_id, variable["Name"], variable["Value"]


@pytest.fixture(params=["sandbox", "production"])
def stage(request: pytest.FixtureRequest) -> Synthesized:
    return request.getfixturevalue(request.param)


def test_no_template_or_output_of_any_stack_carries_a_secret_value(stage: Synthesized) -> None:
    found = [
        f"{stack_id}: {finding}"
        for stack_id in stage.stacks
        for finding in findings(stage.template_json(stack_id))
    ]
    assert found == []


def test_no_plain_environment_variable_of_a_front_end_holds_a_secret(stage: Synthesized) -> None:
    secret_arn = stage.stacks["DataStores"].postgres.secret.secret_arn  # type: ignore[attr-defined]
    seen = 0
    for stack_id in ("AppRunner", "ExpressMode"):
        reference = flatten(stage.stacks[stack_id].resolve(secret_arn))
        for logical_id, name, value in environment_variables(stage.template_json(stack_id)):
            seen += 1
            assert not SECRETISH_NAME.search(name), f"{stack_id}/{logical_id}: {name}"
            assert reference not in flatten(value), f"{stack_id}/{logical_id}: {name} names the secret"
            assert not DYNAMIC_REFERENCE.search(flatten(value)), f"{stack_id}/{logical_id}: {name}"
    assert seen == 6  # the database name and the two Valkey endpoints, for each front end


def test_the_scan_sees_a_password_written_into_a_template() -> None:
    leaked = {
        "Resources": {
            "Db": {"Type": "AWS::RDS::DBCluster", "Properties": {"MasterUserPassword": "hunter2hunter2"}},
            "Svc": {
                "Type": "AWS::ECS::ExpressGatewayService",
                "Properties": {
                    "PrimaryContainer": {
                        "Environment": [
                            {"Name": "DB", "Value": "{{resolve:secretsmanager:arn:SecretString:password}}"}
                        ]
                    }
                },
            },
        },
        "Outputs": {"Password": {"Value": {"Fn::Join": ["", ["{{resolve:secretsmanager:", "x", "}}"]]}}},
    }
    assert findings(leaked) == [
        "Db.MasterUserPassword: literal 'hunter2hunter2'",
        "Svc.PrimaryContainer: secret reference",
        "output Password: secret reference",
    ]
