"""The CloudFormation custom-resource protocol, for every handler of the GuardDuty unit.

CloudFormation invokes the handlers directly (no provider framework) and waits for a PUT of the
outcome to the request's pre-signed ResponseURL:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# CloudFormation shows the reason in the stack events; the whole response must stay under 4 KB.
MAX_REASON = 1000
PUT_TRIES = 3
# Statuses in which the stack itself is going away, so a Delete is a real teardown. Any other
# status (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_ROLLBACK_...) means an update replaced or
# removed the resource while what it manages stays in use.
TEARDOWN_STATUSES = frozenset({"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})


def respond(
    event: dict[str, Any],
    context: Any,
    status: str,
    *,
    reason: str = "",
    data: dict[str, str] | None = None,
    physical_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """PUT `status` (SUCCESS or FAILED) to CloudFormation, retried with backoff.

    The physical id is `physical_id` when the handler gives one, else the event's own on Update
    and Delete (a changed id on Update would make CloudFormation delete the old resource), else
    `<LogicalResourceId>-<RequestId>` on Create.
    """
    if physical_id is None:
        physical_id = event.get("PhysicalResourceId") or f"{event['LogicalResourceId']}-{event['RequestId']}"
    stream = getattr(context, "log_stream_name", "")
    body = json.dumps(
        {
            "Status": status,
            "Reason": (reason or f"see CloudWatch log stream {stream}")[:MAX_REASON],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data or {},
        }
    ).encode()
    for attempt in range(1, PUT_TRIES + 1):
        request = urllib.request.Request(
            event["ResponseURL"],
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                logger.info("CloudFormation response: %s %s", status, response.status)
                return
        except OSError:
            logger.exception("response to CloudFormation failed (try %d of %d)", attempt, PUT_TRIES)
            if attempt == PUT_TRIES:
                raise
            sleep(2.0**attempt)


def out_of_time(context: Any, margin_ms: int = 30_000) -> bool:
    """True when less than `margin_ms` is left before the function times out."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is not None and remaining() < margin_ms


def stack_is_being_torn_down(event: dict[str, Any]) -> bool:
    """True only while the event's stack is DELETE_IN_PROGRESS or ROLLBACK_IN_PROGRESS.

    An unreadable status counts as False: a destructive handler never acts on a guess.
    """
    stack_id = event["StackId"]
    region = stack_id.split(":")[3]
    try:
        stacks = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack_id)
        status = str(stacks["Stacks"][0]["StackStatus"])
    except (ClientError, BotoCoreError, LookupError):
        logger.exception("could not read the status of %s: treated as not being torn down", stack_id)
        return False
    logger.info("stack %s is %s", stack_id, status)
    return status in TEARDOWN_STATUSES
