"""`cdk destroy` in the sandbox leaves nothing behind: what the stacks own is deleted with them,
and nothing writes to a place the stacks do not own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Synthesized

# Resources that hold data or cost money at rest; in the sandbox each must go with its stack.
STATEFUL_TYPES = (
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
    "AWS::ECR::Repository",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::RDS::DBCluster",
    "AWS::ElastiCache::ServerlessCache",
    "AWS::SecretsManager::Secret",
)


def resources(sandbox: Synthesized) -> dict[str, dict[str, Any]]:
    """Every resource of every stack, keyed `<stack>/<logical id>`."""
    return {
        f"{stack_id}/{logical_id}": resource
        for stack_id in sandbox.stacks
        for logical_id, resource in sandbox.template_json(stack_id)["Resources"].items()
    }


def test_every_stateful_resource_is_deleted_with_its_stack_in_the_sandbox(sandbox: Synthesized) -> None:
    kept = [
        f"{path} ({resource['Type']}: {resource.get('DeletionPolicy', 'Delete')})"
        for path, resource in resources(sandbox).items()
        if resource["Type"] in STATEFUL_TYPES and resource.get("DeletionPolicy", "Delete") != "Delete"
    ]
    assert kept == []


def test_every_log_group_has_a_retention(sandbox: Synthesized) -> None:
    endless = [
        path
        for path, resource in resources(sandbox).items()
        if resource["Type"] == "AWS::Logs::LogGroup" and "RetentionInDays" not in resource["Properties"]
    ]
    assert endless == []


@pytest.mark.parametrize(
    "stack_id",
    [
        "Network",
        "Registry",
        "EcsFargate",
        "Eks",
        "EcsAnywhere",
        "GuardDuty",
        "DataStores",
        "AppRunner",
        "ExpressMode",
    ],
)
def test_every_lambda_function_logs_to_a_group_its_stack_owns(sandbox: Synthesized, stack_id: str) -> None:
    # Otherwise Lambda creates /aws/lambda/<function> on first use, outside the stack, forever.
    template = sandbox.template_json(stack_id)["Resources"]
    log_groups = {logical_id for logical_id, r in template.items() if r["Type"] == "AWS::Logs::LogGroup"}
    named_for = set()  # functions with a group named /aws/lambda/<function name>
    for resource in template.values():
        if resource["Type"] != "AWS::Logs::LogGroup":
            continue
        name = resource["Properties"].get("LogGroupName")
        if isinstance(name, dict) and "Fn::Join" in name:
            parts = name["Fn::Join"][1]
            named_for |= {part["Ref"] for part in parts if isinstance(part, dict) and "Ref" in part}
    orphans = []
    for logical_id, resource in template.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        configured = resource["Properties"].get("LoggingConfig", {}).get("LogGroup", {})
        if configured.get("Ref") not in log_groups and logical_id not in named_for:
            orphans.append(logical_id)
    assert orphans == []
