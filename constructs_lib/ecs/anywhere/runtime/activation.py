"""Custom resource handler: an SSM hybrid activation for ECS Anywhere, its code kept in a secret.

There is no CloudFormation resource for SSM hybrid activations, so this handler makes one:

- Create: CreateActivation with the instance role, the registration limit, an expiration date
  computed now from a number of days (SSM accepts at most 30 days ahead; computing it here keeps
  synth deterministic), and tags naming the stack. The activation id and code are written to the
  stack's secret with PutSecretValue; the activation id is the physical id. The code never
  leaves the secret: it is in no response field, reason or log line.
- Update: a change to what defines the activation (role, limit, days, renewal, secret) makes a
  new activation and writes its code to the secret, with the old id kept in the secret's history;
  CloudFormation then sends Delete for the old physical id in its cleanup phase. Anything else
  (the cluster name) keeps the activation.
- Delete: deletes this resource's own activation (its physical id) whenever it comes, since that
  is how a replaced activation goes; hosts already registered through it stay registered. Only
  when the stack itself is deleted or its create rolls back does it also deregister, from the
  cluster and from SSM, the instances registered through this resource's activations (and no
  others), so that the cluster can be deleted. Repeats are harmless: an activation or instance
  already gone counts as done.
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateActivation.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-anywhere-deregistration.html
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from cfn_response import out_of_time, respond, stack_is_being_torn_down

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# SSM's limits, as in the construct module (`activation.py`), which this package, deployed alone,
# cannot import; a test keeps the two equal.
MAX_EXPIRATION_DAYS = 30
MAX_REGISTRATION_LIMIT = 1000
# An SSM activation id is a UUID; anything else as physical id means the Create never made one.
ACTIVATION_ID_LENGTH = 36
# Changing one of these needs a new activation (SSM cannot update one, and its code is shown
# only once, at creation). ClusterName is used by Delete only.
ACTIVATION_PROPERTIES = ("IamRoleName", "RegistrationLimit", "ExpirationDays", "Renewal", "SecretArn")


def client(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]


def handler(event: dict[str, Any], context: Any) -> None:
    # Never the whole event: its properties are harmless, but the habit of logging events is how
    # codes leak; the request type and ids are enough to follow a run.
    logger.info(
        "%s %s (%s)",
        event.get("RequestType"),
        event.get("LogicalResourceId"),
        event.get("PhysicalResourceId"),
    )
    try:
        physical_id, reason = handle(event, context)
    except Exception as error:  # CloudFormation must get an answer whatever fails
        logger.exception("request failed")
        respond(event, context, "FAILED", reason=failure_reason(event, error))
        return
    respond(event, context, "SUCCESS", reason=reason, physical_id=physical_id)


def failure_reason(event: Mapping[str, Any], error: Exception) -> str:
    """One line for the stack events, naming the step and the service's error code."""
    action = {"Create": "creating", "Update": "replacing", "Delete": "deleting"}.get(
        str(event.get("RequestType")), "handling"
    )
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        operation = error.operation_name
        return f"{action} the SSM activation failed: {operation} returned {code}"
    return f"{action} the SSM activation failed: {type(error).__name__}: {error}"


def handle(event: Mapping[str, Any], context: Any) -> tuple[str, str]:
    """Do what the request asks; return (physical id, reason)."""
    request_type = event["RequestType"]
    props = event["ResourceProperties"]
    if request_type == "Create":
        activation_id = create_activation(event, previous=[])
        return activation_id, f"created activation {activation_id}"
    if request_type == "Update":
        old = event.get("OldResourceProperties", {})
        if all(str(props.get(key)) == str(old.get(key)) for key in ACTIVATION_PROPERTIES):
            return str(event["PhysicalResourceId"]), "activation unchanged"
        previous = list(
            dict.fromkeys([*read_history(str(props["SecretArn"])), str(event["PhysicalResourceId"])])
        )
        activation_id = create_activation(event, previous=previous)
        return activation_id, f"replaced activation {event['PhysicalResourceId']} with {activation_id}"
    return str(event["PhysicalResourceId"]), on_delete(event, context)


def create_activation(event: Mapping[str, Any], *, previous: list[str]) -> str:
    props = event["ResourceProperties"]
    days = int(props["ExpirationDays"])
    limit = int(props["RegistrationLimit"])
    if not 1 <= days <= MAX_EXPIRATION_DAYS:
        raise ValueError(f"ExpirationDays must be 1 to {MAX_EXPIRATION_DAYS}, got {days}")
    if not 1 <= limit <= MAX_REGISTRATION_LIMIT:
        raise ValueError(f"RegistrationLimit must be 1 to {MAX_REGISTRATION_LIMIT}, got {limit}")
    # A minute short of the full term: SSM refuses a date beyond 30 days from its own clock.
    expires = now() + datetime.timedelta(days=days) - datetime.timedelta(minutes=1)
    ssm = client("ssm")
    created = ssm.create_activation(
        Description=str(props.get("Description", ""))[:256],
        DefaultInstanceName=str(props.get("DefaultInstanceName", "ecs-anywhere"))[:256],
        IamRole=str(props["IamRoleName"]),
        RegistrationLimit=limit,
        ExpirationDate=expires,
        Tags=[
            {"Key": "aws-cdk:stack-id", "Value": str(event["StackId"])},
            {"Key": "aws-cdk:logical-id", "Value": str(event["LogicalResourceId"])},
        ],
    )
    activation_id = str(created["ActivationId"])
    secret = {
        "ActivationId": activation_id,
        "ActivationCode": str(created["ActivationCode"]),
        "ExpirationDate": expires.isoformat(timespec="seconds"),
        "PreviousActivationIds": previous,
    }
    try:
        client("secretsmanager").put_secret_value(
            SecretId=str(props["SecretArn"]), SecretString=json.dumps(secret)
        )
    except (ClientError, BotoCoreError):
        # Without its code in the secret the activation is of no use: do not leave it behind.
        ssm.delete_activation(ActivationId=activation_id)
        raise
    logger.info("created activation %s, expiring %s", activation_id, secret["ExpirationDate"])
    return activation_id


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def read_history(secret_arn: str) -> list[str]:
    """The ids of activations this resource made before the current one, from its secret."""
    try:
        value = client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
        stored = json.loads(value)
    except (ClientError, BotoCoreError, ValueError, KeyError):
        logger.warning("no activation history in the secret; starting a new one")
        return []
    if not isinstance(stored, dict):
        return []
    ids = [*stored.get("PreviousActivationIds", []), stored.get("ActivationId")]
    return [str(i) for i in ids if isinstance(i, str) and i]


def on_delete(event: Mapping[str, Any], context: Any) -> str:
    props = event["ResourceProperties"]
    activation_id = str(event["PhysicalResourceId"])
    own = is_activation_id(activation_id)
    messages = []
    if stack_is_being_torn_down(event, cloudformation=client("cloudformation")):
        activations = [*read_history(str(props["SecretArn"])), *([activation_id] if own else [])]
        activations = list(dict.fromkeys(activations))
        if activations:
            messages.append(
                deregister_instances(
                    activations, str(props["ClusterName"]), out_of_time=lambda: out_of_time(context)
                )
            )
    else:
        messages.append("stack not being deleted: registered instances stay")
    if own:
        messages.append(delete_activation(activation_id))
    else:
        messages.append("no activation was created")
    return "; ".join(messages)


def is_activation_id(physical_id: str) -> bool:
    return len(physical_id) == ACTIVATION_ID_LENGTH and physical_id.count("-") == 4


def delete_activation(activation_id: str) -> str:
    try:
        client("ssm").delete_activation(ActivationId=activation_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "InvalidActivation":
            return f"activation {activation_id} already gone"
        raise
    return f"deleted activation {activation_id}"


class InstancesLeft(Exception):
    """Some instances could not be deregistered; the message names them."""


def deregister_instances(activation_ids: list[str], cluster: str, *, out_of_time: Callable[[], bool]) -> str:
    """Deregister, from `cluster` and from SSM, the managed instances of `activation_ids` only.

    Every instance is tried whatever fails before it; if any is left, raises `InstancesLeft`
    naming them (the cluster would not delete while they are registered).
    """
    ssm, ecs = client("ssm"), client("ecs")
    managed = list(managed_instances(ssm, activation_ids))
    left: dict[str, str] = {}
    deregistered_ecs = 0
    for arn in container_instances_of(ecs, cluster, set(managed)):
        if out_of_time():
            left[arn] = "not attempted: out of time"
            continue
        try:
            ecs.deregister_container_instance(cluster=cluster, containerInstance=arn, force=True)
            deregistered_ecs += 1
        except ClientError as error:
            left[arn] = _code(error)
    deregistered_ssm = 0
    for instance_id in managed:
        if out_of_time():
            left[instance_id] = "not attempted: out of time"
            continue
        try:
            ssm.deregister_managed_instance(InstanceId=instance_id)
            deregistered_ssm += 1
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "InvalidInstanceId":
                left[instance_id] = _code(error)
    if left:
        named = ", ".join(f"{name} ({problem})" for name, problem in left.items())
        raise InstancesLeft(f"could not deregister {len(left)}: {named}")
    return (
        f"deregistered {deregistered_ecs} container instances and {deregistered_ssm} managed instances"
        f" of activations {', '.join(activation_ids)}"
    )


def managed_instances(ssm: Any, activation_ids: list[str]) -> Iterable[str]:
    """The SSM managed instance ids (mi-...) registered through `activation_ids`."""
    paginator = ssm.get_paginator("describe_instance_information")
    filters = [{"Key": "ActivationIds", "Values": activation_ids}]
    for page in paginator.paginate(Filters=filters):
        for instance in page["InstanceInformationList"]:
            # The filter already says so; checked again because deregistering is not undone.
            if instance.get("ActivationId") in activation_ids:
                yield str(instance["InstanceId"])


def container_instances_of(ecs: Any, cluster: str, managed: set[str]) -> Iterable[str]:
    """ARNs of the container instances of `cluster` whose managed instance id is in `managed`."""
    if not managed:
        return
    arns = [
        arn
        for page in ecs.get_paginator("list_container_instances").paginate(cluster=cluster)
        for arn in page["containerInstanceArns"]
    ]
    for start in range(0, len(arns), 100):
        described = ecs.describe_container_instances(
            cluster=cluster, containerInstances=arns[start : start + 100]
        )
        for instance in described["containerInstances"]:
            # An external instance's ec2InstanceId is its SSM managed instance id.
            if instance.get("ec2InstanceId") in managed:
                yield str(instance["containerInstanceArn"])


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or error)
