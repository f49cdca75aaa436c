"""The control-plane log group never outlives a sandbox stack, nor blocks its next deploy.

EKS re-creates `/aws/eks/<cluster>/cluster` when it logs after the group is deleted. In the
sandbox a guard custom resource removes a stale group before the stack creates its own and sweeps
the group after the cluster is gone; in production the group is retained except on create.
The handler runs against moto with the same calls it makes in a real account.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import boto3
import cfn_response
import log_group_guard
import pytest
from aws_cdk.assertions import Match
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from constructs_lib.eks.control_plane_logs import ControlPlaneLogsGuard
from constructs_lib.eks.runtime.control_plane_logs import GUARDED, handler
from tests.eks.conftest import EksSynth
from tests.helpers import LambdaContext, answer_stack_status, cloudformation_event, logical_id

REGION = "ap-northeast-1"
CLUSTER = "containers-update-sandbox"
GROUP = f"/aws/eks/{CLUSTER}/cluster"
GUARD = "Custom::EksControlPlaneLogsGuard"


# The shared guard's steps, for the EKS unit's group (what the handler runs).
def remove_stale(cluster_name: str, *, logs: Any, eks: Any) -> str:
    return log_group_guard.remove_stale(GUARDED.group_of(eks)(cluster_name), logs=logs)


def sweep(cluster_name: str, *, eks: Any, **kwargs: Any) -> str:
    return log_group_guard.sweep(GUARDED.group_of(eks)(cluster_name), **kwargs)


def handle(request: dict[str, Any], *, eks: Any, **kwargs: Any) -> str:
    return log_group_guard.handle(request, GUARDED.group_of(eks), **kwargs)


# --- Handler against moto -----------------------------------------------------------------------


# The clients of the current test's account, which the handler's own boto3.client calls get.
aws_clients: dict[str, Any] = {}


@pytest.fixture
def aws(moto_account: str) -> dict[str, Any]:
    aws_clients.update(
        logs=boto3.client("logs", region_name=REGION), eks=boto3.client("eks", region_name=REGION)
    )
    return aws_clients


def _groups(aws: dict[str, Any]) -> list[str]:
    found = aws["logs"].describe_log_groups(logGroupNamePrefix="/aws/eks/")["logGroups"]
    return sorted(group["logGroupName"] for group in found)


def _create_cluster(aws: dict[str, Any], name: str = CLUSTER) -> None:
    aws["eks"].create_cluster(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/ClusterRole",
        resourcesVpcConfig={"subnetIds": ["subnet-1", "subnet-2"]},
    )


class FakeClock:
    """A monotonic clock that only `sleep` moves; counts the sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps = 0
        self.on_sleep: list[Any] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        for action in self.on_sleep:
            action(self.sleeps)


def test_create_deletes_a_stale_group_left_by_an_earlier_cluster(aws: dict[str, Any]) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    aws["logs"].create_log_group(logGroupName="/aws/eks/other-cluster/cluster")
    assert remove_stale(CLUSTER, logs=aws["logs"], eks=aws["eks"]) == f"deleted stale log group {GROUP}"
    assert _groups(aws) == ["/aws/eks/other-cluster/cluster"]


def test_create_tolerates_an_absent_group(aws: dict[str, Any]) -> None:
    assert remove_stale(CLUSTER, logs=aws["logs"], eks=aws["eks"]) == f"no stale log group {GROUP}"


def test_fails_when_a_cluster_of_that_name_exists_and_keeps_its_group(aws: dict[str, Any]) -> None:
    _create_cluster(aws)
    aws["logs"].create_log_group(logGroupName=GROUP)
    with pytest.raises(log_group_guard.InUse, match=f"^EKS cluster {CLUSTER} already exists"):
        remove_stale(CLUSTER, logs=aws["logs"], eks=aws["eks"])
    assert _groups(aws) == [GROUP]


def test_delete_catches_a_group_recreated_within_the_watch_window(aws: dict[str, Any]) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    fake = FakeClock()

    def eks_logs_late(sleeps: int) -> None:
        if sleeps in (2, 5):  # EKS writes again 30 s and 75 s after the delete
            aws["logs"].create_log_group(logGroupName=GROUP)

    fake.on_sleep.append(eks_logs_late)
    reason = sweep(
        CLUSTER,
        logs=aws["logs"],
        eks=aws["eks"],
        deadline=fake.now + 180,
        poll_seconds=15,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert reason == f"deleted log group {GROUP} 3 time(s) after the cluster was gone"
    assert _groups(aws) == []


def test_delete_is_bounded_by_its_deadline_and_idempotent(aws: dict[str, Any]) -> None:
    fake = FakeClock()
    start = fake.now
    reason = sweep(
        CLUSTER, logs=aws["logs"], eks=aws["eks"], deadline=start + 180, clock=fake.clock, sleep=fake.sleep
    )
    assert reason.endswith("0 time(s) after the cluster was gone")
    assert fake.sleeps == 12  # 180 s in 15 s steps, never past the deadline
    assert fake.now - start <= 180


def test_delete_leaves_the_group_of_a_live_cluster_alone(aws: dict[str, Any]) -> None:
    # A rollback after a refused Create: the cluster with this name is someone else's.
    _create_cluster(aws)
    aws["logs"].create_log_group(logGroupName=GROUP)
    fake = FakeClock()
    reason = sweep(
        CLUSTER, logs=aws["logs"], eks=aws["eks"], deadline=1e12, clock=fake.clock, sleep=fake.sleep
    )
    assert reason.startswith(f"EKS cluster {CLUSTER} is still live")
    assert _groups(aws) == [GROUP]
    assert fake.sleeps == 0


def _event(request_type: str, **extra: Any) -> dict[str, Any]:
    properties = {"ClusterName": CLUSTER, "WatchSeconds": 180}
    stack_id = "arn:aws:cloudformation:ap-northeast-1:111122223333:stack/Eks/guid"
    return cloudformation_event(
        request_type,
        stack_id=stack_id,
        logical_id="ClusterControlPlaneLogsGuard",
        properties=properties,
        **extra,
    )


def test_delete_watches_no_longer_than_the_lambda_allows(aws: dict[str, Any]) -> None:
    fake = FakeClock()
    start = fake.now
    with mock.patch.object(cfn_response, "stack_is_being_torn_down", return_value=True):
        handle(
            _event("Delete"),
            remaining_seconds=120,
            logs=aws["logs"],
            eks=aws["eks"],
            clock=fake.clock,
            sleep=fake.sleep,
        )
    assert fake.now - start <= 120 - cfn_response.MARGIN_MS / 1000


def test_update_with_the_same_name_touches_nothing(aws: dict[str, Any]) -> None:
    _create_cluster(aws)
    aws["logs"].create_log_group(logGroupName=GROUP)
    event = _event("Update", OldResourceProperties={"ClusterName": CLUSTER, "WatchSeconds": 120})
    assert handle(event, remaining_seconds=300, logs=aws["logs"], eks=aws["eks"]) == "cluster name unchanged"
    assert _groups(aws) == [GROUP]


def test_update_to_a_new_name_removes_a_stale_group_of_the_new_name(aws: dict[str, Any]) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    event = _event("Update", OldResourceProperties={"ClusterName": "old-name"})
    assert handle(event, remaining_seconds=300, logs=aws["logs"], eks=aws["eks"]).startswith("deleted stale")
    assert _groups(aws) == []


def _respond(event: dict[str, Any], stack_status: str = "DELETE_IN_PROGRESS") -> dict[str, Any]:
    """Run the handler with the ResponseURL PUT, the stack's status and the clock mocked.

    Returns the body CloudFormation gets. moto's CloudFormation never shows DELETE_IN_PROGRESS, so
    botocore's Stubber answers the guard's DescribeStacks through a real, validating client.
    """
    fake = FakeClock()
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(cloudformation)
    answer_stack_status(stubber, event["StackId"], stack_status)
    clients = {"cloudformation": cloudformation, "logs": aws_clients["logs"], "eks": aws_clients["eks"]}
    with (
        stubber,
        mock.patch.object(boto3, "client", side_effect=lambda service, **_: clients[service]),
        mock.patch.object(cfn_response.urllib.request, "urlopen") as urlopen,
        mock.patch.object(log_group_guard.time, "sleep", fake.sleep),
        mock.patch.object(log_group_guard.time, "monotonic", fake.clock),
    ):
        urlopen.return_value.__enter__.return_value.status = 200
        handler(event, LambdaContext())
    request = urlopen.call_args.args[0]
    assert request.get_method() == "PUT"
    assert request.full_url == event["ResponseURL"]
    return dict(json.loads(request.data))


def test_handler_answers_cloudformation_on_create(aws: dict[str, Any]) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    body = _respond(_event("Create"))
    assert body["Status"] == "SUCCESS"
    assert body["Reason"] == f"deleted stale log group {GROUP}"
    assert body["PhysicalResourceId"] == f"eks-control-plane-logs-{CLUSTER}"
    assert (body["RequestId"], body["LogicalResourceId"]) == ("r1", "ClusterControlPlaneLogsGuard")
    assert _groups(aws) == []


@pytest.mark.parametrize("torn_down", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_handler_answers_cloudformation_on_delete_with_the_known_id(
    aws: dict[str, Any], torn_down: str
) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    body = _respond(_event("Delete", PhysicalResourceId="eks-control-plane-logs-old"), torn_down)
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "eks-control-plane-logs-old"
    assert _groups(aws) == []


@pytest.mark.parametrize("live", ["UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"])
def test_delete_during_an_update_deletes_nothing(aws: dict[str, Any], live: str) -> None:
    aws["logs"].create_log_group(logGroupName=GROUP)
    body = _respond(_event("Delete", PhysicalResourceId="eks-control-plane-logs-old"), live)
    assert body["Status"] == "SUCCESS"
    assert body["Reason"].startswith("stack is not being deleted or rolled back")
    assert _groups(aws) == [GROUP]


def test_handler_reports_a_one_line_failure(aws: dict[str, Any]) -> None:
    _create_cluster(aws)
    body = _respond(_event("Create"))
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(f"EKS cluster {CLUSTER} already exists")
    assert "\n" not in body["Reason"]


def test_handler_reports_an_aws_error_in_one_line(aws: dict[str, Any]) -> None:
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "DeleteLogGroup"
    )
    with mock.patch.object(log_group_guard, "delete_log_group", side_effect=denied):
        body = _respond(_event("Create"))
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(f"log group of cluster {CLUSTER}: AWS error")
    assert "\n" not in body["Reason"]


# --- Template: sandbox ----------------------------------------------------------------------------


def _guard(synth: EksSynth) -> ControlPlaneLogsGuard:
    guard = synth.stack.cluster.control_plane_logs_guard
    assert guard is not None
    return guard


def test_sandbox_guard_runs_before_the_group_which_runs_before_the_cluster(eks_sandbox: EksSynth) -> None:
    cluster = eks_sandbox.stack.cluster
    guard = _guard(eks_sandbox)
    assert logical_id(guard) in eks_sandbox.depends_on(cluster.log_group)
    assert logical_id(cluster.log_group) in eks_sandbox.depends_on(cluster.cluster)
    # Its Delete still needs its permissions and its logs, so they are deleted after it.
    for child in (guard.policy, guard.role, guard.log_group):
        assert logical_id(child) in eks_sandbox.depends_on(guard)


def test_sandbox_guard_is_one_direct_function_with_a_bounded_watch(eks_sandbox: EksSynth) -> None:
    guard = _guard(eks_sandbox)
    function = guard.function
    eks_sandbox.template.resource_count_is(GUARD, 1)
    eks_sandbox.template.has_resource_properties(
        GUARD,
        {
            "ServiceToken": {"Fn::GetAtt": [logical_id(function), "Arn"]},
            "ClusterName": CLUSTER,
            "WatchSeconds": 180,
            "ServiceTimeout": "360",
        },
    )
    eks_sandbox.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "control_plane_logs.handler",
            "Timeout": 300,  # the 180 s watch plus room to answer; CloudFormation waits 360 s
            "LoggingConfig": {"LogGroup": {"Ref": logical_id(guard.log_group)}},
            "VpcConfig": Match.absent(),
        },
    )


def test_sandbox_guard_logs_to_its_own_group_deleted_with_the_stack(eks_sandbox: EksSynth) -> None:
    log_group = _guard(eks_sandbox).log_group
    resource = eks_sandbox.json["Resources"][logical_id(log_group)]
    assert resource["DeletionPolicy"] == "Delete"
    assert resource["Properties"]["RetentionInDays"] == 7


def _join(suffix: str) -> dict[str, Any]:
    service = suffix.split(":", 1)[0]
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":{service}:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                suffix.split(":", 1)[1],
            ],
        ]
    }


def test_sandbox_guard_may_delete_only_the_one_control_plane_group(eks_sandbox: EksSynth) -> None:
    policy = _guard(eks_sandbox).policy
    document = eks_sandbox.json["Resources"][logical_id(policy)]["Properties"]["PolicyDocument"]
    assert document["Statement"] == [
        {
            "Action": "logs:DeleteLogGroup",
            "Effect": "Allow",
            "Resource": [
                _join(f"logs::log-group:{GROUP}"),
                _join(f"logs::log-group:{GROUP}:*"),
            ],
        },
        {
            "Action": "eks:DescribeCluster",
            "Effect": "Allow",
            "Resource": _join(f"eks::cluster/{CLUSTER}"),
        },
        # Its own stack's status only: the guard acts on Delete only when the stack is torn down.
        {"Action": "cloudformation:DescribeStacks", "Effect": "Allow", "Resource": {"Ref": "AWS::StackId"}},
    ]


def test_sandbox_guard_role_writes_only_its_own_logs(eks_sandbox: EksSynth) -> None:
    namespace = _guard(eks_sandbox)
    role_id = logical_id(namespace.node.find_child("Role"))
    log_group_id = logical_id(namespace.node.find_child("LogGroup"))
    policies = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in eks_sandbox.json["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
    ]
    actions = sorted(str(a) for statements in policies for s in statements for a in _as_list(s["Action"]))
    assert actions == [
        "cloudformation:DescribeStacks",
        "eks:DescribeCluster",
        "logs:CreateLogStream",
        "logs:DeleteLogGroup",
        "logs:PutLogEvents",
    ]
    writes = [
        s for statements in policies for s in statements if "logs:PutLogEvents" in _as_list(s["Action"])
    ]
    assert writes[0]["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    role = eks_sandbox.json["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole: no logs:CreateLogGroup


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_variant_guard_follows_the_cluster_name(eks_variant: EksSynth) -> None:
    eks_variant.template.has_resource_properties(GUARD, {"ClusterName": "ml-experiments"})


# --- Template: production -------------------------------------------------------------------------


def test_production_has_no_guard_and_retains_the_group_except_on_create(eks_production: EksSynth) -> None:
    cluster = eks_production.stack.cluster
    assert cluster.control_plane_logs_guard is None
    eks_production.template.resource_count_is(GUARD, 0)
    resource = eks_production.json["Resources"][logical_id(cluster.log_group)]
    assert resource["Properties"]["LogGroupName"] == "/aws/eks/containers-update-production/cluster"
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    assert "DependsOn" not in resource
