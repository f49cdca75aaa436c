"""The activation handler against moto (ECS, Secrets Manager), with SSM and CloudFormation stubbed.

moto implements no SSM hybrid activation call (CreateActivation, DeleteActivation,
DescribeInstanceInformation by ActivationIds, DeregisterManagedInstance), and its CloudFormation
never shows DELETE_IN_PROGRESS; botocore's Stubber answers those, through real clients that
validate every request and response against the service model. ECS container instances and the
secret are moto's.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import cfn_response
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from constructs_lib.ecs.anywhere.runtime import activation as handler_module
from tests.helpers import LambdaContext

REGION = "ap-northeast-1"
STACK_ID = "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/EcsAnywhere/0b1c2d3e"
CLUSTER = "anywhere"
ACTIVATION = "e488f2f6-e686-4afb-8a04-ef6dfa0b1c2d"
NEW_ACTIVATION = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
OLDER_ACTIVATION = "0f0e0d0c-0b0a-4909-8807-060504030201"
OTHER_ACTIVATION = "11111111-2222-4333-8444-555555555555"
CODE = "Ab3dEfGh1jKlMnOpQrSt"
NEW_CODE = "ZyXwVuTsRqPoNmLkJiHg"
NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
# Managed instance ids: two registered through this resource's activations, one through another.
OURS = ["mi-0aaaaaaaaaaaaaaaa", "mi-0bbbbbbbbbbbbbbbb"]
THEIRS = ["mi-0cccccccccccccccc"]
ACCOUNT = "123456789012"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secret_arn = secrets.create_secret(Name="activation", SecretString="initial-random")["ARN"]
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName=CLUSTER)
        # moto's ECS reads an EC2 instance behind every container instance, which an external
        # instance does not have (its ec2InstanceId is its SSM managed instance id, mi-...): the
        # lookup answers with a plain Linux host instead.
        host = SimpleNamespace(image_id="", availability_zone="", instance_type="", platform=None)
        no_ec2 = {ACCOUNT: {REGION: SimpleNamespace(get_instance=lambda _: host)}}
        with mock.patch("moto.ecs.models.ec2_backends", no_ec2):
            for managed_id in [*OURS, *THEIRS]:
                ecs.register_container_instance(
                    cluster=CLUSTER, instanceIdentityDocument=json.dumps({"instanceId": managed_id})
                )
        ssm = boto3.client("ssm", region_name=REGION)
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        clients = {"secretsmanager": secrets, "ecs": ecs, "ssm": ssm, "cloudformation": cloudformation}
        with Stubber(ssm) as ssm_stub, Stubber(cloudformation) as cfn_stub:
            with (
                mock.patch.object(handler_module, "client", side_effect=lambda service: clients[service]),
                mock.patch.object(handler_module, "now", return_value=NOW),
            ):
                yield {**clients, "ssm_stub": ssm_stub, "cfn_stub": cfn_stub, "secret_arn": secret_arn}
            ssm_stub.assert_no_pending_responses()
            cfn_stub.assert_no_pending_responses()


def properties(aws: dict[str, Any], **changes: Any) -> dict[str, Any]:
    props = {
        "ServiceToken": "arn:aws:lambda:ap-northeast-1:123456789012:function:activation",
        "IamRoleName": "EcsAnywhere-ClusterInstanceRole",
        "RegistrationLimit": "3",
        "ExpirationDays": "7",
        "Renewal": "0",
        "SecretArn": aws["secret_arn"],
        "ClusterName": CLUSTER,
        "DefaultInstanceName": "ecs-anywhere",
        "Description": "ECS Anywhere hosts of stack EcsAnywhere",
    }
    return {**props, **changes}


def event(
    request_type: str, aws: dict[str, Any], physical_id: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/x",
        "StackId": STACK_ID,
        "RequestId": "r1",
        "LogicalResourceId": "ActivationBE1E1650",
        "ResourceType": "Custom::EcsAnywhereActivation",
        "ResourceProperties": properties(aws),
        **kwargs,
    }
    if physical_id is not None:
        request["PhysicalResourceId"] = physical_id
    return request


def run(request: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The handler's answer to CloudFormation, as `respond` received it."""
    with mock.patch.object(handler_module, "respond") as respond:
        handler_module.handler(request, context or LambdaContext())
    assert respond.call_count == 1
    _, _, status = respond.call_args.args
    return {"Status": status, **respond.call_args.kwargs}


def expect_create(aws: dict[str, Any], activation_id: str, code: str, limit: int = 3, days: int = 7) -> None:
    aws["ssm_stub"].add_response(
        "create_activation",
        {"ActivationId": activation_id, "ActivationCode": code},
        {
            "Description": "ECS Anywhere hosts of stack EcsAnywhere",
            "DefaultInstanceName": "ecs-anywhere",
            "IamRole": "EcsAnywhere-ClusterInstanceRole",
            "RegistrationLimit": limit,
            "ExpirationDate": NOW + datetime.timedelta(days=days) - datetime.timedelta(minutes=1),
            "Tags": [
                {"Key": "aws-cdk:stack-id", "Value": STACK_ID},
                {"Key": "aws-cdk:logical-id", "Value": "ActivationBE1E1650"},
            ],
        },
    )


def stack_status(aws: dict[str, Any], status: str) -> None:
    stack = {"StackName": "EcsAnywhere", "StackId": STACK_ID, "CreationTime": NOW, "StackStatus": status}
    aws["cfn_stub"].add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK_ID})


def stored(aws: dict[str, Any]) -> dict[str, Any]:
    return json.loads(aws["secretsmanager"].get_secret_value(SecretId=aws["secret_arn"])["SecretString"])


def store(aws: dict[str, Any], activation_id: str, previous: list[str]) -> None:
    value = {"ActivationId": activation_id, "ActivationCode": CODE, "PreviousActivationIds": previous}
    aws["secretsmanager"].put_secret_value(SecretId=aws["secret_arn"], SecretString=json.dumps(value))


def registered(aws: dict[str, Any]) -> set[str]:
    arns = aws["ecs"].list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    if not arns:
        return set()
    described = aws["ecs"].describe_container_instances(cluster=CLUSTER, containerInstances=arns)
    return {instance["ec2InstanceId"] for instance in described["containerInstances"]}


def instances_of(aws: dict[str, Any], activation_ids: list[str], instances: list[tuple[str, str]]) -> None:
    """DescribeInstanceInformation answering with (instance id, activation id) pairs."""
    aws["ssm_stub"].add_response(
        "describe_instance_information",
        {"InstanceInformationList": [{"InstanceId": i, "ActivationId": a} for i, a in instances]},
        {"Filters": [{"Key": "ActivationIds", "Values": activation_ids}]},
    )


# --- Create ------------------------------------------------------------------------------------


def test_create_makes_an_activation_and_writes_its_code_to_the_secret_only(
    aws: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    expect_create(aws, ACTIVATION, CODE)
    # INFO: the level the handler sets for the function's logs (botocore's DEBUG dumps bodies).
    caplog.set_level(logging.INFO)
    answer = run(event("Create", aws))
    assert answer == {
        "Status": "SUCCESS",
        "reason": f"created activation {ACTIVATION}",
        "physical_id": ACTIVATION,
    }
    assert stored(aws) == {
        "ActivationId": ACTIVATION,
        "ActivationCode": CODE,
        "ExpirationDate": "2026-12-07T11:59:00+00:00",
        "PreviousActivationIds": [],
    }
    # The code is in no response field (no Data at all) and in no log line.
    assert CODE not in json.dumps(answer)
    assert CODE not in caplog.text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"ExpirationDays": "31"}, "ExpirationDays must be 1 to 30, got 31"),
        ({"RegistrationLimit": "0"}, "RegistrationLimit must be 1 to 1000, got 0"),
    ],
)
def test_create_refuses_settings_ssm_would_reject_with_a_clear_reason(
    aws: dict[str, Any], change: dict[str, str], reason: str
) -> None:
    answer = run(event("Create", aws, ResourceProperties=properties(aws, **change)))
    assert answer["Status"] == "FAILED"
    assert answer["reason"] == f"creating the SSM activation failed: ValueError: {reason}"


def test_an_activation_whose_code_cannot_be_stored_is_deleted_and_the_create_fails(
    aws: dict[str, Any],
) -> None:
    expect_create(aws, ACTIVATION, CODE)
    aws["ssm_stub"].add_response("delete_activation", {}, {"ActivationId": ACTIVATION})
    aws["secretsmanager"].delete_secret(SecretId=aws["secret_arn"], ForceDeleteWithoutRecovery=True)
    answer = run(event("Create", aws))
    assert answer["Status"] == "FAILED"
    assert (
        answer["reason"]
        == "creating the SSM activation failed: PutSecretValue returned ResourceNotFoundException"
    )
    assert CODE not in json.dumps(answer)


def test_a_failed_ssm_call_names_the_call_and_its_error(aws: dict[str, Any]) -> None:
    aws["ssm_stub"].add_client_error(
        "create_activation",
        "InvalidParameters",
        "Nonexistent role or missing ssm service principal in trust policy",
    )
    answer = run(event("Create", aws))
    assert (answer["Status"], answer["reason"]) == (
        "FAILED",
        "creating the SSM activation failed: CreateActivation returned InvalidParameters",
    )


# --- Update ------------------------------------------------------------------------------------


def test_update_that_changes_only_the_cluster_keeps_the_activation(aws: dict[str, Any]) -> None:
    request = event(
        "Update", aws, ACTIVATION, OldResourceProperties=properties(aws, ClusterName="old-cluster")
    )
    assert run(request) == {"Status": "SUCCESS", "reason": "activation unchanged", "physical_id": ACTIVATION}


@pytest.mark.parametrize("change", [{"RegistrationLimit": "5"}, {"ExpirationDays": "14"}, {"Renewal": "1"}])
def test_update_of_limit_expiry_or_renewal_makes_a_new_activation_and_keeps_the_old_id(
    aws: dict[str, Any], change: dict[str, str]
) -> None:
    store(aws, ACTIVATION, previous=[OLDER_ACTIVATION])
    expect_create(
        aws,
        NEW_ACTIVATION,
        NEW_CODE,
        limit=int(change.get("RegistrationLimit", 3)),
        days=int(change.get("ExpirationDays", 7)),
    )
    request = event(
        "Update",
        aws,
        ACTIVATION,
        ResourceProperties=properties(aws, **change),
        OldResourceProperties=properties(aws),
    )
    answer = run(request)
    # A new physical id: CloudFormation then sends Delete for the old one in its cleanup phase.
    assert answer == {
        "Status": "SUCCESS",
        "reason": f"replaced activation {ACTIVATION} with {NEW_ACTIVATION}",
        "physical_id": NEW_ACTIVATION,
    }
    assert stored(aws)["ActivationCode"] == NEW_CODE
    assert stored(aws)["PreviousActivationIds"] == [OLDER_ACTIVATION, ACTIVATION]


# --- Delete ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
    ],
)
def test_delete_during_an_update_deletes_the_replaced_activation_and_deregisters_nothing(
    aws: dict[str, Any], status: str
) -> None:
    stack_status(aws, status)
    aws["ssm_stub"].add_response("delete_activation", {}, {"ActivationId": ACTIVATION})
    answer = run(event("Delete", aws, ACTIVATION))
    assert answer == {
        "Status": "SUCCESS",
        "reason": f"stack not being deleted: registered instances stay; deleted activation {ACTIVATION}",
        "physical_id": ACTIVATION,
    }
    assert registered(aws) == {*OURS, *THEIRS}


@pytest.mark.parametrize("status", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_stack_delete_deregisters_only_the_instances_of_this_resources_activations(
    aws: dict[str, Any], status: str
) -> None:
    store(aws, ACTIVATION, previous=[OLDER_ACTIVATION])
    stack_status(aws, status)
    # One host registered through the current activation, one through the one it replaced; a
    # third machine in the cluster came through someone else's activation and must stay.
    instances_of(aws, [OLDER_ACTIVATION, ACTIVATION], [(OURS[0], ACTIVATION), (OURS[1], OLDER_ACTIVATION)])
    for instance_id in OURS:
        aws["ssm_stub"].add_response("deregister_managed_instance", {}, {"InstanceId": instance_id})
    aws["ssm_stub"].add_response("delete_activation", {}, {"ActivationId": ACTIVATION})
    answer = run(event("Delete", aws, ACTIVATION))
    assert answer["Status"] == "SUCCESS", answer
    assert answer["reason"] == (
        "deregistered 2 container instances and 2 managed instances of activations "
        f"{OLDER_ACTIVATION}, {ACTIVATION}; deleted activation {ACTIVATION}"
    )
    assert registered(aws) == set(THEIRS)


def test_a_repeated_stack_delete_finds_everything_gone_and_succeeds(aws: dict[str, Any]) -> None:
    store(aws, ACTIVATION, previous=[])
    stack_status(aws, "DELETE_IN_PROGRESS")
    # SSM still lists a host whose deregistration went through a moment ago.
    instances_of(aws, [ACTIVATION], [(OURS[0], ACTIVATION)])
    aws["ssm_stub"].add_client_error(
        "deregister_managed_instance", "InvalidInstanceId", "gone", expected_params={"InstanceId": OURS[0]}
    )
    aws["ssm_stub"].add_client_error(
        "delete_activation", "InvalidActivation", "gone", expected_params={"ActivationId": ACTIVATION}
    )
    aws["ecs"].deregister_container_instance(
        cluster=CLUSTER, containerInstance=container_instance_arn(aws, OURS[0]), force=True
    )
    answer = run(event("Delete", aws, ACTIVATION))
    assert answer["Status"] == "SUCCESS", answer
    assert answer["reason"].endswith(f"activation {ACTIVATION} already gone")


def container_instance_arn(aws: dict[str, Any], instance_id: str) -> str:
    arns = aws["ecs"].list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    described = aws["ecs"].describe_container_instances(cluster=CLUSTER, containerInstances=arns)
    return next(
        i["containerInstanceArn"]
        for i in described["containerInstances"]
        if i["ec2InstanceId"] == instance_id
    )


def test_a_rollback_of_a_create_that_made_no_activation_deletes_nothing(aws: dict[str, Any]) -> None:
    stack_status(aws, "ROLLBACK_IN_PROGRESS")
    # The secret still holds its random first value: no activation history to act on.
    answer = run(event("Delete", aws, "ActivationBE1E1650-r0"))
    assert answer == {
        "Status": "SUCCESS",
        "reason": "no activation was created",
        "physical_id": "ActivationBE1E1650-r0",
    }
    assert registered(aws) == {*OURS, *THEIRS}


def test_an_unreadable_stack_status_deregisters_nothing(aws: dict[str, Any]) -> None:
    store(aws, ACTIVATION, previous=[])
    aws["cfn_stub"].add_client_error("describe_stacks", "AccessDenied", "not authorized", 403)
    aws["ssm_stub"].add_response("delete_activation", {}, {"ActivationId": ACTIVATION})
    answer = run(event("Delete", aws, ACTIVATION))
    assert answer["reason"].startswith("stack not being deleted: registered instances stay")
    assert registered(aws) == {*OURS, *THEIRS}


def test_a_refused_deregistration_fails_the_delete_naming_the_instance_after_trying_the_rest(
    aws: dict[str, Any],
) -> None:
    store(aws, ACTIVATION, previous=[])
    stack_status(aws, "DELETE_IN_PROGRESS")
    instances_of(aws, [ACTIVATION], [(OURS[0], ACTIVATION), (OURS[1], ACTIVATION)])
    aws["ssm_stub"].add_client_error(
        "deregister_managed_instance", "AccessDeniedException", "no", expected_params={"InstanceId": OURS[0]}
    )
    aws["ssm_stub"].add_response("deregister_managed_instance", {}, {"InstanceId": OURS[1]})
    answer = run(event("Delete", aws, ACTIVATION))
    assert answer["Status"] == "FAILED"
    assert answer["reason"] == (
        "deleting the SSM activation failed: InstancesLeft: could not deregister 1: "
        f"{OURS[0]} (AccessDeniedException)"
    )
    assert registered(aws) == set(THEIRS)


# --- the protocol module -----------------------------------------------------------------------


def test_the_response_is_retried_cut_to_the_limit_and_carries_the_default_physical_id() -> None:
    request = {
        "RequestType": "Create",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/x",
        "StackId": STACK_ID,
        "RequestId": "r1",
        "LogicalResourceId": "ActivationBE1E1650",
    }
    ok = mock.MagicMock()
    ok.__enter__.return_value.status = 200
    with (
        mock.patch("urllib.request.urlopen", side_effect=[OSError("reset"), ok]) as urlopen,
        mock.patch.object(cfn_response.time, "sleep") as sleep,
    ):
        cfn_response.respond(request, LambdaContext(), "FAILED", reason="x" * 5000)
    assert urlopen.call_count == 2 and sleep.call_count == 1
    body = json.loads(urlopen.call_args.args[0].data)
    assert urlopen.call_args.args[0].method == "PUT"
    assert len(body["Reason"]) == cfn_response.MAX_REASON
    assert body["PhysicalResourceId"] == "ActivationBE1E1650-r1"
    assert body["Data"] == {}


def test_out_of_time_keeps_the_margin_for_the_answer() -> None:
    assert cfn_response.out_of_time(LambdaContext(remaining_ms=29_000))
    assert not cfn_response.out_of_time(LambdaContext(remaining_ms=31_000))


def test_the_handler_checks_the_same_limits_as_the_construct() -> None:
    from constructs_lib.ecs.anywhere import activation as construct_module

    assert handler_module.MAX_EXPIRATION_DAYS == construct_module.MAX_EXPIRATION_DAYS
    assert handler_module.MAX_REGISTRATION_LIMIT == construct_module.MAX_REGISTRATION_LIMIT
