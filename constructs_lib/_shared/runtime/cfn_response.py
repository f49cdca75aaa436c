"""The CloudFormation custom-resource protocol for every handler of every unit.

One answer per request, PUT to the request's pre-signed `ResponseURL` and retried (a lost answer
leaves the stack waiting until the resource's ServiceTimeout). One physical-id scheme: the id
CloudFormation already knows on Update and Delete, `<LogicalResourceId>-<RequestId>` on Create,
unless the handler names its own (a new id on Update makes CloudFormation delete the old one).
One deadline helper, and one guard for destructive handlers: CloudFormation sends Delete on a
stack delete and a rollback, but also when an update renames, moves or replaces the resource,
when what the handler would delete is still in use
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html).

A top-level module in each function's package, copied there at synth beside the handler
(`constructs_lib/_shared/lambda_package.py`); the tests import it by the same name.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import boto3

logger = logging.getLogger(__name__)

# CloudFormation shows the reason in the stack events; the whole response must stay under 4 KB.
MAX_REASON = 1000
# Stop starting new work this long before the function times out, to leave time to answer.
MARGIN_MS = 30_000
# The statuses in which a Delete means the stack (or its failed create) is going away; in any other
# (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_ROLLBACK_...) what the resource manages is in use.
TEARDOWN_STATUSES = ("DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS")
PUT_TRIES = 3


def out_of_time(context: Any, margin_ms: int = MARGIN_MS) -> bool:
    """True once less than `margin_ms` of the invocation is left (never without a Lambda context)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is not None and remaining() < margin_ms


def stack_is_being_torn_down(event: Mapping[str, Any], cloudformation: Any = None) -> bool:
    """True only while the event's stack is DELETE_IN_PROGRESS or ROLLBACK_IN_PROGRESS.

    An unreadable status counts as False: a destructive handler never deletes on a guess.
    """
    stack_id = str(event["StackId"])
    try:
        if cloudformation is None:
            cloudformation = boto3.client("cloudformation", region_name=stack_id.split(":")[3])
        status = str(cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"])
    except Exception:
        logger.exception("could not read the status of %s; treating it as not torn down", stack_id)
        return False
    logger.info("stack %s is %s", stack_id, status)
    return status in TEARDOWN_STATUSES


def default_physical_id(event: Mapping[str, Any]) -> str:
    """The id to answer with when the handler names none."""
    if event["RequestType"] in ("Update", "Delete") and event.get("PhysicalResourceId"):
        return str(event["PhysicalResourceId"])
    return f"{event['LogicalResourceId']}-{event['RequestId']}"


def respond(
    event: Mapping[str, Any],
    context: Any,
    status: str,
    *,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
    physical_id: str | None = None,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Answer CloudFormation (SUCCESS or FAILED) with a one-line reason of at most MAX_REASON.

    The PUT is tried PUT_TRIES times, `sleep` (default `time.sleep`) waiting 2, 4, ... seconds
    between tries; the last failure is raised, so that the invocation shows as failed.
    """
    reason = " ".join(reason.split()) or f"see log stream {getattr(context, 'log_stream_name', '')}"
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:MAX_REASON],
            "PhysicalResourceId": physical_id or default_physical_id(event),
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": dict(data or {}),
        }
    ).encode()
    if status == "FAILED":
        logger.error(reason)
    for attempt in range(1, PUT_TRIES + 1):
        request = urllib.request.Request(
            str(event["ResponseURL"]),
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # pre-signed S3 URL
                logger.info("CloudFormation response: %s %s", status, response.status)
                return
        except OSError:
            if attempt == PUT_TRIES:
                raise
            logger.exception("response PUT failed (try %d of %d)", attempt, PUT_TRIES)
            (sleep or time.sleep)(2.0**attempt)
