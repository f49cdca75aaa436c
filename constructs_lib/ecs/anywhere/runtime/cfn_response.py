"""The CloudFormation custom-resource protocol, shared by every handler of this folder.

One physical-id scheme, one reason limit, one deadline helper, one retried response PUT, and the
stack-status check that every destructive Delete asks before it acts:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# CloudFormation shows the reason in the stack events; the whole response must stay under 4 KB.
MAX_REASON = 1000
# The response goes to a pre-signed S3 URL; a dropped connection must not leave the stack waiting
# for the custom resource's ServiceTimeout.
TRIES = 3
BACKOFF_SECONDS = 2.0
# The statuses in which a Delete means the stack (or its failed create) is going away.
TEARDOWN_STATUSES = ("DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS")


def default_physical_id(event: Mapping[str, Any]) -> str:
    """The event's own id on Update and Delete; a new, unique one on Create."""
    if event["RequestType"] == "Create":
        return f"{event['LogicalResourceId']}-{event['RequestId']}"
    return str(event["PhysicalResourceId"])


def out_of_time(context: Any, margin_ms: int = 30_000) -> bool:
    """True once less than `margin_ms` of the invocation is left: time to stop and answer."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is not None and remaining() < margin_ms


def stack_is_being_torn_down(event: Mapping[str, Any], *, cloudformation: Any = None) -> bool:
    """True only while the stack is deleted or its create rolls back.

    CloudFormation also sends Delete when an update replaces, renames or removes the resource
    (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS and the rollback equivalents); then whatever the resource
    manages is live. A status that cannot be read counts as False: never delete on a guess.
    """
    stack_id = str(event["StackId"])
    try:
        client = cloudformation or boto3.client("cloudformation", region_name=stack_id.split(":")[3])
        stacks = client.describe_stacks(StackName=stack_id)["Stacks"]
        status = str(stacks[0]["StackStatus"])
    except (ClientError, BotoCoreError, IndexError, KeyError):
        logger.exception("could not read the status of %s; treating it as not torn down", stack_id)
        return False
    logger.info("stack status: %s", status)
    return status in TEARDOWN_STATUSES


def respond(
    event: Mapping[str, Any],
    context: Any,
    status: str,
    *,
    reason: str = "",
    data: Mapping[str, str] | None = None,
    physical_id: str | None = None,
) -> None:
    """PUT the outcome to the event's ResponseURL, retried; never raises."""
    stream = getattr(context, "log_stream_name", "")
    body = json.dumps(
        {
            "Status": status,
            "Reason": (reason or f"see CloudWatch log stream {stream}")[:MAX_REASON],
            "PhysicalResourceId": physical_id or default_physical_id(event),
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": dict(data or {}),
        }
    ).encode()
    for attempt in range(1, TRIES + 1):
        request = urllib.request.Request(
            str(event["ResponseURL"]),
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                logger.info("CloudFormation response %s: HTTP %s", status, response.status)
                return
        except (urllib.error.URLError, OSError) as error:
            logger.warning("response attempt %d of %d failed: %s", attempt, TRIES, error)
            if attempt < TRIES:
                time.sleep(BACKOFF_SECONDS * attempt)
    logger.error("could not deliver the response to CloudFormation")
