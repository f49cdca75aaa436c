"""Keeps the EKS control-plane log group `/aws/eks/<cluster>/cluster` under the stack's control.

EKS writes control-plane logs to that fixed name and, through its service-linked role, re-creates
the group when it is missing, with no retention. While a cluster is deleted it keeps logging for a
while; when the group (deleted by CloudFormation right after the cluster) is written to again, it
comes back outside the stack, and the next deploy of a cluster with the same name fails with
"already exists" on the stack's own `AWS::Logs::LogGroup` (terraform-aws-modules/terraform-aws-eks
issues #920, #2486, #2763; a deny on the cluster role does not help, as the service-linked role
writes: #2446). This CloudFormation custom resource (Lambda-backed, no provider framework) sits
before the log group in deploy order and after it in delete order:

- Create (and an Update that renames the cluster): delete a stale group of that name, left by an
  earlier cluster, so that the stack can create its own. Refused, with a clear failure, while a
  cluster of that name exists: the group is then that cluster's, not stale.
- Delete (after the cluster and the stack's group are gone): delete the group whenever it
  reappears within a bounded watch window, so that a late write from EKS does not leave it behind.
  Only while the stack is being deleted or rolled back (an update that removes the guard, say by
  retaining the logs, sends Delete too), and skipped while a cluster of that name exists (a
  rollback after a refused Create).

Only DeleteLogGroup is called, never DescribeLogGroups: a missing group answers
ResourceNotFoundException, so the function's IAM can name this one group (DescribeLogGroups is
authorized against the account's `log-group::log-stream:` ARN, not a group's). Idempotent; errors
reach CloudFormation as one line.

The ECS unit's `runtime/insights_logs.py` is the same guard for Container Insights; the two stay
apart on purpose, as runtime code cannot be shared: a Lambda package holds one unit's `runtime/`
only.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

if __package__:
    from . import cfn_response
else:  # Lambda puts this folder at the root of its package
    import cfn_response  # type: ignore[import-not-found,no-redef]

logger = logging.getLogger()
logger.setLevel(logging.INFO)

DEFAULT_WATCH_SECONDS = 180.0
POLL_SECONDS = 15.0


class ClusterStillExists(Exception):
    """A cluster of this name exists, so its log group is in use and must be left alone."""


def log_group_name(cluster_name: str) -> str:
    """The name EKS writes control-plane logs to (fixed by EKS, not configurable)."""
    return f"/aws/eks/{cluster_name}/cluster"


def cluster_exists(eks: Any, cluster_name: str) -> bool:
    try:
        eks.describe_cluster(name=cluster_name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True


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


def remove_stale(cluster_name: str, *, logs: Any, eks: Any) -> str:
    """Before the stack creates the group: delete one left behind by an earlier cluster."""
    name = log_group_name(cluster_name)
    if cluster_exists(eks, cluster_name):
        raise ClusterStillExists(
            f"EKS cluster {cluster_name} already exists in this account and region; "
            f"its log group {name} is in use, choose another cluster name"
        )
    if delete_log_group(logs, name):
        return f"deleted stale log group {name}"
    return f"no stale log group {name}"


def sweep(
    cluster_name: str,
    *,
    logs: Any,
    eks: Any,
    deadline: float,
    poll_seconds: float = POLL_SECONDS,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """After the cluster and the stack's group are gone: delete the group each time it reappears.

    Polls until `deadline` (a `clock()` value, `time.monotonic` by default) and then stops, whatever
    it found: the next Create removes anything written later still.
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    name = log_group_name(cluster_name)
    if cluster_exists(eks, cluster_name):
        return f"EKS cluster {cluster_name} still exists; its log group {name} is left to it"
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
    eks: Any,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """Do what the request asks; returns the reason reported to CloudFormation."""
    clock = clock or time.monotonic
    props = event.get("ResourceProperties", {})
    cluster_name = props.get("ClusterName", "")
    if not cluster_name:
        raise ValueError("ClusterName is empty; refusing to touch log groups without a cluster name")
    request_type = event["RequestType"]
    if request_type == "Create":
        return remove_stale(cluster_name, logs=logs, eks=eks)
    if request_type == "Update":
        # A new name means a new cluster (and a new physical id, so CloudFormation later sends a
        # Delete for the old name); the same name means the cluster is live and its group in use.
        if event.get("OldResourceProperties", {}).get("ClusterName") == cluster_name:
            return "cluster name unchanged"
        return remove_stale(cluster_name, logs=logs, eks=eks)
    if not cfn_response.stack_is_being_torn_down(event):
        return f"stack is not being deleted or rolled back: log group of cluster {cluster_name} left alone"
    watch = float(props.get("WatchSeconds", DEFAULT_WATCH_SECONDS))
    budget = min(watch, remaining_seconds - cfn_response.MARGIN_MS / 1000)
    return sweep(cluster_name, logs=logs, eks=eks, deadline=clock() + budget, clock=clock, sleep=sleep)


def physical_id(event: dict[str, Any]) -> str:
    """One id per cluster name: a rename is a replacement, so the old name gets its Delete.

    Reported on Create and Update; a Delete answers with the id CloudFormation knows.
    """
    cluster_name = event.get("ResourceProperties", {}).get("ClusterName", "")
    return f"eks-control-plane-logs-{cluster_name}"


def handler(event: dict[str, Any], context: Any) -> None:
    """CloudFormation custom resource entry point: answers every request, SUCCESS or one-line FAILED."""
    logged = {key: value for key, value in event.items() if key != "ResponseURL"}
    logger.info("event: %s", json.dumps(logged))
    cluster_name = event.get("ResourceProperties", {}).get("ClusterName", "")
    region = os.environ.get("AWS_REGION")
    status = "SUCCESS"
    resource_id = None if event["RequestType"] == "Delete" else physical_id(event)
    try:
        reason = handle(
            event,
            remaining_seconds=context.get_remaining_time_in_millis() / 1000,
            logs=boto3.client("logs", region_name=region),
            eks=boto3.client("eks", region_name=region),
        )
        logger.info(reason)
    except ClusterStillExists as error:
        status, reason = "FAILED", str(error)
    except ClientError as error:
        status, reason = "FAILED", f"control-plane log group of cluster {cluster_name}: AWS error {error}"
    except Exception as error:
        logger.exception("unexpected error")
        status, reason = (
            "FAILED",
            f"control-plane log group of cluster {cluster_name}: {type(error).__name__}: {error}",
        )
    cfn_response.respond(event, context, status, reason=reason, physical_id=resource_id)
