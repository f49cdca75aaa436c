"""The ECS unit's custom-resource handlers, against moto with the calls they make in a real account.

The insights guard removes a stale Container Insights group before the stack creates its own and,
only while its stack is deleted or rolled back, sweeps the group that late events re-create. The
service-linked role handler creates AWSServiceRoleForECS when it is missing and never deletes it.
botocore's Stubber stands in only where moto differs from IAM (its answer to a second create).
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import boto3
import cfn_response
import log_group_guard
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from constructs_lib.ecs.runtime import insights_logs, service_linked_role
from constructs_lib.ecs.runtime.insights_logs import log_group_name
from tests.helpers import LambdaContext

REGION = "ap-northeast-1"
CLUSTER = "EcsFargate-Cluster-F9013E4C"
GROUP = log_group_name(CLUSTER)


def handle(request: dict[str, Any], *, ecs: Any, **kwargs: Any) -> str:
    """The shared guard's handling, for the ECS unit's group (what the handler runs)."""
    return log_group_guard.handle(request, insights_logs.GUARDED.group_of(ecs), **kwargs)


@pytest.fixture
def aws(moto_account: str) -> dict[str, Any]:
    return {
        "logs": boto3.client("logs", region_name=REGION),
        "ecs": boto3.client("ecs", region_name=REGION),
        "cloudformation": boto3.client("cloudformation", region_name=REGION),
        "iam": boto3.client("iam", region_name=REGION),
    }


def group_exists(aws: dict[str, Any]) -> bool:
    groups = aws["logs"].describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]
    return any(g["logGroupName"] == GROUP for g in groups)


def event(
    request_type: str, stack_id: str = "arn:aws:cloudformation:ap-northeast-1:1:stack/S/1", **extra: Any
) -> dict:
    return {
        "RequestType": request_type,
        "StackId": stack_id,
        "RequestId": "req-1",
        "LogicalResourceId": "ClusterInsightsLogsGuard",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/signed",
        "ResourceProperties": {"ClusterName": CLUSTER, "WatchSeconds": 60},
        **extra,
    }


class FakeClock:
    """A clock that sleeping advances, and a hook that runs at each sleep (a late writer)."""

    def __init__(self, on_sleep: Any = None) -> None:
        self.now, self.sleeps, self.on_sleep = 0.0, 0, on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        if self.on_sleep:
            self.on_sleep(self.sleeps)


def stubbed_stack(status: str) -> Any:
    """A CloudFormation client whose DescribeStacks answers `status` (moto's CloudFormation needs
    packages this project does not install)."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(cloudformation)
    stubber.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "S", "StackStatus": status, "CreationTime": "2026-01-01T00:00:00Z"}]},
        {"StackName": event("Delete")["StackId"]},
    )
    stubber.activate()
    return cloudformation


def handle_delete(aws: dict[str, Any], stack_status: str, **kwargs: Any) -> str:
    """The guard's answer to a Delete while the stack is `stack_status` (read from a stubbed client)."""
    cloudformation = stubbed_stack(stack_status)
    return handle(
        event("Delete"),
        remaining_seconds=300,
        logs=aws["logs"],
        ecs=aws["ecs"],
        torn_down=lambda request: cfn_response.stack_is_being_torn_down(request, cloudformation),
        **kwargs,
    )


# --- Insights guard ---


def test_create_deletes_a_stale_group_left_by_an_earlier_cluster(aws: dict[str, Any]) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    reason = handle(event("Create"), remaining_seconds=300, logs=aws["logs"], ecs=aws["ecs"])
    assert reason == f"deleted stale log group {GROUP}"
    assert not group_exists(aws)


def test_create_leaves_the_group_of_an_active_cluster_alone(aws: dict[str, Any]) -> None:
    # The guard added to a stack deployed before it: the cluster and its group are the stack's own.
    aws["logs"].create_log_group(logGroupName=GROUP)
    aws["ecs"].create_cluster(clusterName=CLUSTER)
    reason = handle(event("Create"), remaining_seconds=300, logs=aws["logs"], ecs=aws["ecs"])
    assert reason == f"ECS cluster {CLUSTER} is live: its log group {GROUP} is in use, left alone"
    assert group_exists(aws)


@pytest.mark.parametrize("status", ["UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"])
def test_delete_outside_a_teardown_deletes_nothing(aws: dict[str, Any], status: str) -> None:
    # CloudFormation also sends Delete when an update replaces the resource: the group stays.
    aws["logs"].create_log_group(logGroupName=GROUP)
    reason = handle_delete(aws, status)
    assert reason.startswith("stack is not being deleted or rolled back")
    assert group_exists(aws)


def test_teardown_is_read_from_the_stack_status() -> None:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cloudformation) as stubber:
        for status in ("DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"):
            stubber.add_response(
                "describe_stacks",
                {
                    "Stacks": [
                        {"StackName": "S", "StackStatus": status, "CreationTime": "2026-01-01T00:00:00Z"}
                    ]
                },
            )
        stubber.add_client_error("describe_stacks", "AccessDenied")
        torn_down = [cfn_response.stack_is_being_torn_down(event("Delete"), cloudformation) for _ in range(4)]
    assert torn_down == [True, True, False, False]


def test_teardown_sweeps_the_group_each_time_late_events_recreate_it(aws: dict[str, Any]) -> None:
    def late_writer(sleeps: int) -> None:
        if sleeps in (1, 3):
            aws["logs"].create_log_group(logGroupName=GROUP)

    clock = FakeClock(late_writer)
    reason = handle_delete(aws, "DELETE_IN_PROGRESS", clock=clock.clock, sleep=clock.sleep)
    assert reason == f"deleted log group {GROUP} 2 time(s) after the cluster was gone"
    assert not group_exists(aws)
    assert clock.now <= 60


def test_teardown_leaves_the_group_of_a_still_active_cluster(aws: dict[str, Any]) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    aws["ecs"].create_cluster(clusterName=CLUSTER)
    reason = handle(
        event("Delete"), remaining_seconds=300, logs=aws["logs"], ecs=aws["ecs"], torn_down=lambda _: True
    )
    assert reason.startswith(f"ECS cluster {CLUSTER} is still live")
    assert group_exists(aws)


def test_update_with_the_same_name_touches_nothing(aws: dict[str, Any]) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    request = event("Update", OldResourceProperties={"ClusterName": CLUSTER})
    assert (
        handle(request, remaining_seconds=300, logs=aws["logs"], ecs=aws["ecs"]) == "cluster name unchanged"
    )
    assert group_exists(aws)


def answer(module: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Run a handler with the ResponseURL PUT mocked; the body CloudFormation gets."""
    with mock.patch.object(cfn_response.urllib.request, "urlopen") as urlopen:
        urlopen.return_value.__enter__.return_value.status = 200
        module.handler(request, LambdaContext())
    return dict(json.loads(urlopen.call_args.args[0].data))


def test_handler_answers_create_with_one_id_per_cluster_name(aws: dict[str, Any]) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    body = answer(insights_logs, event("Create"))
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", f"ecs-insights-logs-{CLUSTER}")
    assert not group_exists(aws)


def test_handler_reports_an_aws_error_in_one_line(aws: dict[str, Any]) -> None:
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no\nway"}}, "DeleteLogGroup")
    with mock.patch.object(log_group_guard, "delete_log_group", side_effect=denied):
        body = answer(insights_logs, event("Create"))
    assert body["Status"] == "FAILED"
    assert "\n" not in body["Reason"] and CLUSTER in body["Reason"] and "AccessDenied" in body["Reason"]


# --- Service-linked role ---


def test_creates_the_service_linked_role_when_the_account_has_none(aws: dict[str, Any]) -> None:
    clock = FakeClock()
    reason = service_linked_role.ensure_role(aws["iam"], sleep=clock.sleep)
    assert reason.startswith("created arn:aws:iam::") and "/aws-service-role/ecs.amazonaws.com/" in reason
    assert clock.sleeps == 1, "waits for IAM to propagate the new role"


def test_an_existing_service_linked_role_is_success(aws: dict[str, Any]) -> None:
    service_linked_role.ensure_role(aws["iam"], sleep=lambda _: None)
    assert (
        service_linked_role.ensure_role(aws["iam"])
        == "the service-linked role for ecs.amazonaws.com already exists"
    )


def test_iams_has_been_taken_answer_counts_as_existing() -> None:
    # What IAM answers in a real account (moto answers EntityAlreadyExists instead).
    iam = boto3.client("iam", region_name="us-east-1")
    with Stubber(iam) as stubber:
        stubber.add_client_error(
            "create_service_linked_role",
            "InvalidInput",
            "Service role name AWSServiceRoleForECS has been taken in this account, please try a "
            "different suffix.",
        )
        stubber.add_client_error("create_service_linked_role", "AccessDenied", "not allowed")
        assert service_linked_role.ensure_role(iam).endswith("already exists")
        with pytest.raises(ClientError):
            service_linked_role.ensure_role(iam)


def test_delete_never_touches_the_shared_role(aws: dict[str, Any]) -> None:
    service_linked_role.ensure_role(aws["iam"], sleep=lambda _: None)
    before = aws["iam"].list_roles(PathPrefix="/aws-service-role/")["Roles"]
    body = answer(service_linked_role, {**event("Delete"), "PhysicalResourceId": "Slr-req-0"})
    assert (body["Status"], body["PhysicalResourceId"]) == ("SUCCESS", "Slr-req-0")
    assert aws["iam"].list_roles(PathPrefix="/aws-service-role/")["Roles"] == before
