"""Custom resource handler: on stack delete, delete the repositories ECR created under prefixes.

Pull-through cache and replication create repositories that are not CloudFormation resources.
In a sandbox they must go with the stack: a cached repository left behind stays encrypted with
the stack's KMS key (deleted with the stack), and a later deploy would pull through it and fail.

Create and Update do nothing. Delete lists the repositories of each target's region, deletes
(with force: ECR deletes the images) those under the target's prefix, and reports success even
when a deletion fails, after logging it, so that a cleanup problem never wedges the stack.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event: dict[str, Any], context: Any) -> None:
    reason = ""
    try:
        if event["RequestType"] == "Delete":
            deleted = [
                name
                for target in event["ResourceProperties"].get("Targets", [])
                for name in delete_repositories(target["Region"], target["Prefix"])
            ]
            reason = f"deleted {len(deleted)} repositories"
            logger.info("deleted repositories: %s", deleted)
    except Exception as error:
        logger.exception("cleanup failed; leaving the remaining repositories in place")
        reason = f"cleanup failed: {error}"[:200]
    respond(event, context, reason)


def delete_repositories(region: str, prefix: str, client: Any = None) -> list[str]:
    """Force-delete every repository of `region` whose name starts with `prefix/`; return names."""
    ecr = client or boto3.client("ecr", region_name=region)
    names = [
        repository["repositoryName"]
        for page in ecr.get_paginator("describe_repositories").paginate()
        for repository in page["repositories"]
        if repository["repositoryName"].startswith(f"{prefix.rstrip('/')}/")
    ]
    deleted = []
    for name in names:
        try:
            ecr.delete_repository(repositoryName=name, force=True)
            deleted.append(name)
        except ecr.exceptions.RepositoryNotFoundException:
            continue
    return deleted


def respond(event: dict[str, Any], context: Any, reason: str) -> None:
    """Tell CloudFormation the outcome (always SUCCESS, see the module docstring)."""
    body = json.dumps(
        {
            "Status": "SUCCESS",
            "Reason": reason or f"see CloudWatch log stream {getattr(context, 'log_stream_name', '')}",
            "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        logger.info("CloudFormation response: %s", response.status)
