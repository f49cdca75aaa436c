"""Keeps Container Insights' performance log group of one ECS cluster under its stack's control.

Container Insights writes performance events to the fixed name
`/aws/ecs/containerinsights/<cluster>/performance` and creates that group itself when it is
missing. Events of tasks that stop while the stack is deleted can arrive after CloudFormation
deleted the stack's group; the group then comes back outside the stack, with no retention, and
the next deploy of a cluster of that name fails with "already exists" on the stack's own
`AWS::Logs::LogGroup`. This custom resource sits before that group in deploy order and after it
in delete order:

- Create (and an Update that renames the cluster): delete a stale group of that name, left by an
  earlier cluster, so that the stack can create its own. While an active cluster of that name
  exists the group is that cluster's, not stale, and is left alone: that is the case when the
  guard is added to a stack deployed before it (its own cluster), and a foreign cluster's group
  makes the stack's own group fail with "already exists" anyway.
- Delete, only while the stack is deleted or rolled back (`stack_is_being_torn_down`): delete
  the group whenever it reappears within a bounded watch window. Nothing is deleted on a Delete
  that an update sends (a renamed or replaced resource), nor while the cluster is still active.

Only DeleteLogGroup is called on the group (a missing group answers ResourceNotFoundException),
so the function's IAM names this one group. Idempotent; errors reach CloudFormation as one line.

The EKS unit's `runtime/control_plane_logs.py` is the same guard for its control-plane group; the
two stay apart on purpose, as runtime code cannot be shared: a Lambda package holds one unit's
`runtime/` only.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

try:  # a package in the tests; the function's root folder in Lambda
    from . import cfn_response
except ImportError:
    import cfn_response  # type: ignore[no-redef,import-not-found]

logger = logging.getLogger()
logger.setLevel(logging.INFO)

DEFAULT_WATCH_SECONDS = 180.0
POLL_SECONDS = 15.0


def log_group_name(cluster_name: str) -> str:
    """The name Container Insights writes performance events to (fixed by ECS, not configurable)."""
    return f"/aws/ecs/containerinsights/{cluster_name}/performance"


def cluster_is_active(ecs: Any, cluster_name: str) -> bool:
    """True unless the cluster is missing or INACTIVE (ECS keeps deleted clusters INACTIVE a while)."""
    clusters = ecs.describe_clusters(clusters=[cluster_name]).get("clusters", [])
    return any(cluster.get("status") != "INACTIVE" for cluster in clusters)


def delete_log_group(logs: Any, name: str) -> bool:
    """Delete the group; True if it existed, False if it was already gone."""
    try:
        logs.delete_log_group(logGroupName=name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    logger.info("deleted log group %s", name)
    return True


def remove_stale(cluster_name: str, *, logs: Any, ecs: Any) -> str:
    """Before the stack creates the group: delete one left behind by an earlier cluster."""
    name = log_group_name(cluster_name)
    if cluster_is_active(ecs, cluster_name):
        return f"ECS cluster {cluster_name} is active: its log group {name} is in use, left alone"
    if delete_log_group(logs, name):
        return f"deleted stale log group {name}"
    return f"no stale log group {name}"


def sweep(
    cluster_name: str,
    *,
    logs: Any,
    ecs: Any,
    deadline: float,
    poll_seconds: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """After the cluster and the stack's group are gone: delete the group each time it reappears.

    Polls until `deadline` (a `clock()` value) and then stops, whatever it found: the next Create
    removes anything written later still.
    """
    name = log_group_name(cluster_name)
    if cluster_is_active(ecs, cluster_name):
        return f"ECS cluster {cluster_name} is still active; its log group {name} is left to it"
    deleted = 0
    while True:
        deleted += delete_log_group(logs, name)
        if clock() + poll_seconds > deadline:
            break
        sleep(poll_seconds)
    return f"deleted log group {name} {deleted} time(s) after the cluster was gone"


def handle(
    event: dict[str, Any],
    *,
    remaining_seconds: float,
    logs: Any,
    ecs: Any,
    torn_down: Callable[[dict[str, Any]], bool] = cfn_response.stack_is_being_torn_down,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Do what the request asks; returns the reason reported to CloudFormation."""
    props = event.get("ResourceProperties", {})
    cluster_name = props.get("ClusterName", "")
    if not cluster_name:
        raise ValueError("ClusterName is empty; refusing to touch log groups without a cluster name")
    request_type = event["RequestType"]
    if request_type == "Create":
        return remove_stale(cluster_name, logs=logs, ecs=ecs)
    if request_type == "Update":
        # A new name is a new cluster (a new physical id, so CloudFormation later sends a Delete
        # for the old name); the same name means the cluster is live and its group in use.
        if event.get("OldResourceProperties", {}).get("ClusterName") == cluster_name:
            return "cluster name unchanged"
        return remove_stale(cluster_name, logs=logs, ecs=ecs)
    if not torn_down(event):
        return f"stack is not being deleted or rolled back: log group of {cluster_name} left alone"
    watch = float(props.get("WatchSeconds", DEFAULT_WATCH_SECONDS))
    budget = min(watch, remaining_seconds - cfn_response.MARGIN_MS / 1000)
    return sweep(cluster_name, logs=logs, ecs=ecs, deadline=clock() + budget, clock=clock, sleep=sleep)


def physical_id(event: dict[str, Any]) -> str:
    """One id per cluster name: a rename is a replacement, so the old name gets its Delete."""
    return f"ecs-insights-logs-{event.get('ResourceProperties', {}).get('ClusterName', '')}"


def handler(event: dict[str, Any], context: Any) -> None:
    """CloudFormation custom resource entry point: answers every request, SUCCESS or one-line FAILED."""
    logger.info("event: %s", json.dumps({k: v for k, v in event.items() if k != "ResponseURL"}))
    cluster_name = event.get("ResourceProperties", {}).get("ClusterName", "")
    region = os.environ.get("AWS_REGION")
    # A Delete keeps the id CloudFormation knows; Create and Update report the id for this name.
    resource_id = None if event["RequestType"] == "Delete" else physical_id(event)
    status = "SUCCESS"
    try:
        reason = handle(
            event,
            remaining_seconds=context.get_remaining_time_in_millis() / 1000,
            logs=boto3.client("logs", region_name=region),
            ecs=boto3.client("ecs", region_name=region),
        )
        logger.info(reason)
    except (ClientError, BotoCoreError) as error:
        status, reason = "FAILED", f"insights log group of cluster {cluster_name}: AWS error {error}"
    except Exception as error:
        logger.exception("unexpected error")
        status, reason = (
            "FAILED",
            f"insights log group of cluster {cluster_name}: {type(error).__name__}: {error}",
        )
    cfn_response.respond(event, context, status, reason=reason, physical_id=resource_id)
