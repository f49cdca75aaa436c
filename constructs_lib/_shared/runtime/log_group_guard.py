"""Keeps a log group whose name a service fixes, and which the service re-creates, under its stack.

EKS (control-plane logs, `/aws/eks/<cluster>/cluster`) and ECS Container Insights
(`/aws/ecs/containerinsights/<cluster>/performance`) write to a fixed name and create the group
themselves when it is missing, with no retention. A cluster that is being deleted keeps writing
for a while: the group, deleted by CloudFormation right after the cluster, comes back outside the
stack, and the next deploy of a cluster of that name fails with "already exists" on the stack's
own `AWS::Logs::LogGroup` (for EKS: terraform-aws-modules/terraform-aws-eks issues #920, #2486,
#2763). A custom resource with this handler sits before the group in deploy order and after it in
delete order:

- Create (and an Update that renames the cluster): delete a stale group of that name, left by an
  earlier cluster, so that the stack can create its own. While a live cluster of that name exists
  the group is that cluster's, not stale: it is left alone, or the Create fails (`refuse_in_use`).
- Delete, only while the stack is being deleted or rolled back (`stack_is_being_torn_down`):
  delete the group whenever it reappears within a bounded watch window. Nothing is deleted on a
  Delete that an update sends (a renamed or replaced resource), nor while the cluster is live.

Only DeleteLogGroup is called on the group, never DescribeLogGroups: a missing group answers
ResourceNotFoundException, so the function's IAM can name this one group. Idempotent; errors reach
CloudFormation as one line. The resource's properties: `ClusterName`, `WatchSeconds`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import cfn_response
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

DEFAULT_WATCH_SECONDS = 180.0
POLL_SECONDS = 15.0


class InUse(Exception):
    """A live cluster owns the group: the Create is refused rather than its group deleted."""


@dataclass(frozen=True)
class FixedNameGroup:
    """One cluster's service-named log group, and how to tell whether the cluster is live."""

    name: str
    # What owns the group, for messages: "EKS cluster demo".
    owner: str
    in_use: Callable[[], bool]
    # On Create, a live owner fails the request (True) or leaves its group alone (False).
    refuse_in_use: bool = False


def found(call: Callable[[], object]) -> bool:
    """Make an AWS call about one resource: True if it answered, False if the resource is missing."""
    try:
        call()
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True


def delete_log_group(logs: Any, name: str) -> bool:
    """Delete the group; True if it existed, False if it was already gone."""
    deleted = found(lambda: logs.delete_log_group(logGroupName=name))
    if deleted:
        logger.info("deleted log group %s", name)
    return deleted


def remove_stale(group: FixedNameGroup, *, logs: Any) -> str:
    """Before the stack creates the group: delete one left behind by an earlier cluster."""
    if group.in_use():
        if group.refuse_in_use:
            raise InUse(
                f"{group.owner} already exists in this account and region; its log group "
                f"{group.name} is in use, choose another cluster name"
            )
        return f"{group.owner} is live: its log group {group.name} is in use, left alone"
    if delete_log_group(logs, group.name):
        return f"deleted stale log group {group.name}"
    return f"no stale log group {group.name}"


def sweep(
    group: FixedNameGroup,
    *,
    logs: Any,
    deadline: float,
    poll_seconds: float = POLL_SECONDS,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """After the cluster and the stack's group are gone: delete the group each time it reappears.

    Polls until `deadline` (a `clock()` value, `time.monotonic` by default) and then stops,
    whatever it found: the next Create removes anything written later still.
    """
    clock, sleep = clock or time.monotonic, sleep or time.sleep
    if group.in_use():
        return f"{group.owner} is still live; its log group {group.name} is left to it"
    deleted = 0
    while True:
        deleted += delete_log_group(logs, group.name)
        if clock() + poll_seconds > deadline:
            break
        sleep(poll_seconds)
    return f"deleted log group {group.name} {deleted} time(s) after the cluster was gone"


def handle(
    event: Mapping[str, Any],
    group_of: Callable[[str], FixedNameGroup],
    *,
    remaining_seconds: float,
    logs: Any,
    torn_down: Callable[[Mapping[str, Any]], bool] | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """Do what the request asks for the group `group_of(cluster name)`; returns the reason.

    `torn_down` defaults to `cfn_response.stack_is_being_torn_down` (the stack's status).
    """
    props = event.get("ResourceProperties", {})
    cluster_name = props.get("ClusterName", "")
    if not cluster_name:
        raise ValueError("ClusterName is empty; refusing to touch log groups without a cluster name")
    group = group_of(cluster_name)
    request_type = event["RequestType"]
    if request_type == "Create":
        return remove_stale(group, logs=logs)
    if request_type == "Update":
        # A new name is a new cluster (a new physical id, so CloudFormation later sends a Delete
        # for the old name); the same name means the cluster is live and its group in use.
        if event.get("OldResourceProperties", {}).get("ClusterName") == cluster_name:
            return "cluster name unchanged"
        return remove_stale(group, logs=logs)
    if not (torn_down or cfn_response.stack_is_being_torn_down)(event):
        return f"stack is not being deleted or rolled back: log group {group.name} left alone"
    watch = float(props.get("WatchSeconds", DEFAULT_WATCH_SECONDS))
    budget = min(watch, remaining_seconds - cfn_response.MARGIN_MS / 1000)
    clock = clock or time.monotonic
    return sweep(group, logs=logs, deadline=clock() + budget, clock=clock, sleep=sleep)


def answer(
    event: dict[str, Any],
    context: Any,
    group_of: Callable[[str], FixedNameGroup],
    *,
    logs: Any,
    id_prefix: str,
) -> None:
    """The Lambda entry point's work: act, then answer CloudFormation, SUCCESS or one-line FAILED.

    The physical id is `<id_prefix>-<cluster name>`, one per name: a rename is a replacement, so
    the old name gets its Delete. A Delete answers with the id CloudFormation knows.
    """
    logger.info("event: %s", json.dumps({k: v for k, v in event.items() if k != "ResponseURL"}))
    cluster_name = event.get("ResourceProperties", {}).get("ClusterName", "")
    resource_id = None if event["RequestType"] == "Delete" else f"{id_prefix}-{cluster_name}"
    status = "SUCCESS"
    try:
        reason = handle(
            event, group_of, remaining_seconds=context.get_remaining_time_in_millis() / 1000, logs=logs
        )
        logger.info(reason)
    except InUse as error:
        status, reason = "FAILED", str(error)
    except (ClientError, BotoCoreError) as error:
        status, reason = "FAILED", f"log group of cluster {cluster_name}: AWS error {error}"
    except Exception as error:
        logger.exception("unexpected error")
        status, reason = "FAILED", f"log group of cluster {cluster_name}: {type(error).__name__}: {error}"
    cfn_response.respond(event, context, status, reason=reason, physical_id=resource_id)


@dataclass(frozen=True)
class Guarded:
    """What one unit guards: whose group, under which name, and how to tell the cluster is live.

    `lambda_handler` is the function's entry point: it makes the `service` and logs clients of the
    function's region and answers the request (see `answer`).
    """

    # The boto3 client that `is_live` takes: "ecs", "eks".
    service: str
    # What owns the group, for messages: "EKS cluster".
    owner: str
    log_group_name: Callable[[str], str]
    # (client, cluster name) -> whether a live cluster of that name exists.
    is_live: Callable[[Any, str], bool]
    id_prefix: str
    refuse_in_use: bool = False

    def group_of(self, client: Any) -> Callable[[str], FixedNameGroup]:
        return lambda cluster_name: FixedNameGroup(
            name=self.log_group_name(cluster_name),
            owner=f"{self.owner} {cluster_name}",
            in_use=lambda: self.is_live(client, cluster_name),
            refuse_in_use=self.refuse_in_use,
        )

    def lambda_handler(self, event: dict[str, Any], context: Any) -> None:
        region = os.environ.get("AWS_REGION")
        client = boto3.client(self.service, region_name=region)  # type: ignore[call-overload]
        logs = boto3.client("logs", region_name=region)
        answer(event, context, self.group_of(client), logs=logs, id_prefix=self.id_prefix)
