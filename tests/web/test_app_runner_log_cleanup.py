"""App Runner's own log groups go with a torn-down stack, and only they, and only then.

The handler runs against moto (CloudWatch Logs) with the calls it makes in a real account;
the stack's status comes from botocore's Stubber, since moto cannot hold a stack in
DELETE_IN_PROGRESS or UPDATE_COMPLETE_CLEANUP_IN_PROGRESS.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import boto3
import pytest
from aws_cdk.assertions import Match
from botocore.stub import Stubber

from constructs_lib.web.runtime import app_runner_logs
from constructs_lib.web.runtime.app_runner_logs import handle
from tests.conftest import Synthesized

REGION = "ap-northeast-1"
STACK_ID = f"arn:aws:cloudformation:{REGION}:123456789012:stack/AppRunner/0a1b2c3d"
SERVICE = "AppRunnerWebService1234"
OURS = [f"/aws/apprunner/{SERVICE}/0123abcd/application", f"/aws/apprunner/{SERVICE}/0123abcd/service"]
NOT_OURS = [f"/aws/apprunner/{SERVICE}5/feed/service", "/aws/apprunner/Other/beef/service", "/aws/lambda/x"]


@pytest.fixture
def logs(moto_account: str) -> Any:
    client = boto3.client("logs", region_name=REGION)
    for name in OURS + NOT_OURS:
        client.create_log_group(logGroupName=name)
    return client


def stack_in(status: str) -> Any:
    """A CloudFormation client whose DescribeStacks reports `status` for the event's stack once."""
    client = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "AppRunner",
                    "StackId": STACK_ID,
                    "CreationTime": "2026-11-30",
                    "StackStatus": status,
                }
            ]
        },
        {"StackName": STACK_ID},
    )
    stubber.activate()
    return client


def event(request_type: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "StackId": STACK_ID,
        "RequestId": "r-1",
        "LogicalResourceId": "WebLogCleanup",
        "PhysicalResourceId": "WebLogCleanup-r-0",
        "ResponseURL": "https://example.invalid/response",
        "ResourceProperties": {"ServiceName": SERVICE},
    }


def groups(logs: Any) -> list[str]:
    return sorted(group["logGroupName"] for group in logs.describe_log_groups()["logGroups"])


@pytest.mark.parametrize("status", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_deletes_this_services_log_groups_when_the_stack_is_torn_down(logs: Any, status: str) -> None:
    reason = handle(event("Delete"), logs=logs, cloudformation=stack_in(status))
    assert groups(logs) == sorted(NOT_OURS)
    assert reason == f"deleted 2 log group(s) under /aws/apprunner/{SERVICE}/"


@pytest.mark.parametrize(
    "status", ["UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"]
)
def test_a_delete_outside_teardown_deletes_nothing(logs: Any, status: str) -> None:
    handle(event("Delete"), logs=logs, cloudformation=stack_in(status))
    assert groups(logs) == sorted(OURS + NOT_OURS)


def test_an_unreadable_stack_status_deletes_nothing(logs: Any) -> None:
    client = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_client_error("describe_stacks", "AccessDenied")
    stubber.activate()
    handle(event("Delete"), logs=logs, cloudformation=client)
    assert groups(logs) == sorted(OURS + NOT_OURS)


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_touch_nothing(logs: Any, request_type: str) -> None:
    handle(event(request_type), logs=logs, cloudformation=None)
    assert groups(logs) == sorted(OURS + NOT_OURS)


def test_the_handler_answers_failed_in_one_line_without_a_service_name(logs: Any) -> None:
    request = {**event("Delete"), "ResourceProperties": {}}
    with (
        mock.patch.object(app_runner_logs.cfn_response, "respond") as respond,
        mock.patch.object(app_runner_logs.cfn_response, "stack_is_being_torn_down", return_value=True),
    ):
        app_runner_logs.handler(request, None)
    (call,) = respond.call_args_list
    assert call.args[2] == "FAILED"
    assert call.kwargs["reason"] == (
        "ValueError: ServiceName is empty; refusing to delete log groups without a service name"
    )
    assert groups(logs) == sorted(OURS + NOT_OURS)


def test_the_cleanup_exists_before_the_service_and_knows_its_name(sandbox: Synthesized) -> None:
    template = sandbox.template("AppRunner")
    resources = sandbox.template_json("AppRunner")["Resources"]
    (cleanup_id,) = [
        key for key, value in resources.items() if value["Type"] == "Custom::AppRunnerLogCleanup"
    ]
    (service,) = [value for value in resources.values() if value["Type"] == "AWS::AppRunner::Service"]
    assert cleanup_id in service["DependsOn"]
    assert resources[cleanup_id]["Properties"]["ServiceName"] == service["Properties"]["ServiceName"]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Runtime": "python3.14", "Architectures": ["arm64"], "Handler": "app_runner_logs.handler"},
    )
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 0})
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Action": "logs:DeleteLogGroup",
                                    "Resource": {
                                        "Fn::Join": [
                                            "",
                                            Match.array_with(
                                                [
                                                    f":log-group:/aws/apprunner/{service['Properties']['ServiceName']}/*"
                                                ]
                                            ),
                                        ]
                                    },
                                }
                            )
                        ]
                    )
                }
            )
        },
    )
