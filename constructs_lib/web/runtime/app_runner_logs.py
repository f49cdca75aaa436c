"""Deletes the log groups App Runner wrote for one service once the stack that owned it is torn down.

App Runner writes `/aws/apprunner/<service name>/<service id>/service` and `.../application`
itself, with no retention, outside CloudFormation, and a stack delete leaves them. The service's
name is fixed at synth and unique to its construct path, so every group under
`/aws/apprunner/<service name>/` is provably this service's. This custom resource is created
before the service and deleted after it; on its Delete, and only while its stack is being
deleted or rolled back (CloudFormation also sends Delete when an update replaces the resource),
it deletes those groups. Create and Update do nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import cfn_response

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def log_group_prefix(service_name: str) -> str:
    """Where App Runner writes a service's logs (fixed by App Runner, not configurable)."""
    return f"/aws/apprunner/{service_name}/"


def delete_service_log_groups(logs: Any, service_name: str) -> list[str]:
    """Delete every log group under the service's prefix; return their names."""
    if not service_name:
        raise ValueError("ServiceName is empty; refusing to delete log groups without a service name")
    prefix = log_group_prefix(service_name)
    names = [
        group["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix)
        for group in page["logGroups"]
    ]
    deleted = []
    for name in names:
        try:
            logs.delete_log_group(logGroupName=name)
        except logs.exceptions.ResourceNotFoundException:
            continue
        logger.info("deleted log group %s", name)
        deleted.append(name)
    return deleted


def handle(event: dict[str, Any], *, logs: Any, cloudformation: Any = None) -> str:
    """Do what the request asks; returns the reason reported to CloudFormation."""
    service_name = event.get("ResourceProperties", {}).get("ServiceName", "")
    if event["RequestType"] != "Delete":
        return f"App Runner writes {log_group_prefix(service_name)}*; they are deleted with the stack"
    if not cfn_response.stack_is_being_torn_down(event, cloudformation):
        return "the stack is not being deleted or rolled back: log groups left in place"
    deleted = delete_service_log_groups(logs, service_name)
    return f"deleted {len(deleted)} log group(s) under {log_group_prefix(service_name)}"


def handler(event: dict[str, Any], context: Any) -> None:
    """CloudFormation custom resource entry point: answers every request, SUCCESS or one-line FAILED."""
    import boto3  # the Lambda runtime provides it

    region = event["StackId"].split(":")[3]
    try:
        reason = handle(
            event,
            logs=boto3.client("logs", region_name=region),
            cloudformation=boto3.client("cloudformation", region_name=region),
        )
    except Exception as error:
        logger.exception("request failed")
        cfn_response.respond(event, context, "FAILED", reason=f"{type(error).__name__}: {error}")
        return
    logger.info(reason)
    cfn_response.respond(event, context, "SUCCESS", reason=reason)
