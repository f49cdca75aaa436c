"""Custom resource handler: on stack teardown, delete GuardDuty's agent endpoint and group in one VPC.

With automated agent configuration GuardDuty creates, outside CloudFormation, an interface
endpoint for `com.amazonaws.<region>.guardduty-data` and a security group in each VPC where it
deploys its agent, both tagged `GuardDutyManaged=true`
(https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-shared-vpc.html). Turning off
only the automated agents leaves the endpoint in place; turning off Runtime Monitoring makes
GuardDuty delete them itself, on its own schedule
(https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-agent-resource-clean-up.html).
Either way, until they are gone the VPC cannot be deleted.

Create and Update do nothing. Delete acts only while the stack is DELETE_IN_PROGRESS or
ROLLBACK_IN_PROGRESS, and then only on what is provably GuardDuty's in the one VPC it was given:
endpoints of that VPC with the tag `GuardDutyManaged=true` and a `guardduty-data` service name,
then security groups of that VPC with the same tag (retried while the endpoint's network
interfaces go away). An endpoint someone created for the agent themselves carries no such tag and
stays; so does everything in other VPCs. What is already gone (GuardDuty may be deleting the same
things) counts as done. If anything is left when time runs out, the answer is FAILED naming it,
so the stack stops here rather than later on the VPC.

What it deleted and what is left is the shared `cleanup_report.Report`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import boto3
import cfn_response
from botocore.exceptions import BotoCoreError, ClientError
from cleanup_report import Report, error_code

logger = logging.getLogger()
logger.setLevel(logging.INFO)

MANAGED_TAG = "GuardDutyManaged"
POLL_SECONDS = 10.0


def client(service: Literal["ec2"]) -> Any:
    return boto3.client(service)


def handler(event: dict[str, Any], context: Any) -> None:
    status, reason = "SUCCESS", "nothing to do"
    try:
        if event["RequestType"] == "Delete":
            if cfn_response.stack_is_being_torn_down(event):
                properties = event["ResourceProperties"]
                report = clean_up(
                    client("ec2"),
                    vpc_id=properties["VpcId"],
                    service_names=list(properties["ServiceNames"]),
                    out_of_time=lambda: cfn_response.out_of_time(context),
                )
                status = "FAILED" if report.left else "SUCCESS"
                reason = report.summary()
            else:
                reason = "stack is not being deleted: GuardDuty's endpoint stays"
    except Exception as error:
        logger.exception("cleanup failed")
        status, reason = "FAILED", f"cleanup failed: {type(error).__name__}: {error}"
    cfn_response.respond(event, context, status, reason=reason)


def _is_managed(tags: list[dict[str, str]] | None) -> bool:
    return any(tag.get("Key") == MANAGED_TAG and tag.get("Value") == "true" for tag in tags or [])


def guardduty_endpoints(ec2: Any, vpc_id: str, service_names: list[str]) -> list[str]:
    """Ids of the live endpoints of `vpc_id` that GuardDuty made for its agent."""
    pages = ec2.get_paginator("describe_vpc_endpoints").paginate(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "service-name", "Values": service_names},
            {"Name": f"tag:{MANAGED_TAG}", "Values": ["true"]},
        ]
    )
    # The filters say it already; checked again so that the guarantee does not rest on them alone.
    return [
        endpoint["VpcEndpointId"]
        for page in pages
        for endpoint in page["VpcEndpoints"]
        if endpoint.get("VpcId") == vpc_id
        and endpoint.get("ServiceName") in service_names
        and _is_managed(endpoint.get("Tags"))
        and str(endpoint.get("State", "")).lower() not in ("deleted", "deleting")
    ]


def guardduty_security_groups(ec2: Any, vpc_id: str) -> list[str]:
    """Ids of the security groups of `vpc_id` that GuardDuty made for its endpoint."""
    pages = ec2.get_paginator("describe_security_groups").paginate(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": f"tag:{MANAGED_TAG}", "Values": ["true"]}]
    )
    return [
        group["GroupId"]
        for page in pages
        for group in page["SecurityGroups"]
        if group.get("VpcId") == vpc_id and _is_managed(group.get("Tags"))
    ]


def clean_up(
    ec2: Any,
    *,
    vpc_id: str,
    service_names: list[str],
    out_of_time: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Delete GuardDuty's endpoints, wait for them to go, then delete its security groups."""
    report = Report("GuardDuty resource")
    endpoints = guardduty_endpoints(ec2, vpc_id, service_names)
    if endpoints:
        result = ec2.delete_vpc_endpoints(VpcEndpointIds=endpoints)
        for failure in result.get("Unsuccessful", []):
            code = failure.get("Error", {}).get("Code", "")
            if code != "InvalidVpcEndpointId.NotFound":
                report.left[failure["ResourceId"]] = code or "not deleted"
        waiting = [endpoint for endpoint in endpoints if endpoint not in report.left]
        while waiting:
            live = set(guardduty_endpoints(ec2, vpc_id, service_names))
            report.deleted += [endpoint for endpoint in waiting if endpoint not in live]
            waiting = [endpoint for endpoint in waiting if endpoint in live]
            if not waiting:
                break
            if out_of_time():
                report.left.update(dict.fromkeys(waiting, "still deleting when time ran out"))
                break
            sleep(POLL_SECONDS)

    pending = guardduty_security_groups(ec2, vpc_id)
    if report.left:
        # The groups serve the endpoints that are left: they cannot go before them.
        report.left.update(dict.fromkeys(pending, "its endpoint is still there"))
        pending = []
    while pending:
        retry: dict[str, str] = {}
        for group in pending:
            try:
                ec2.delete_security_group(GroupId=group)
                report.deleted.append(group)
            except ClientError as error:
                code = error_code(error)
                if code == "InvalidGroup.NotFound":
                    report.deleted.append(group)
                else:
                    # DependencyViolation while the endpoint's network interfaces are still going.
                    retry[group] = code
            except BotoCoreError as error:
                retry[group] = type(error).__name__
        if not retry:
            break
        if out_of_time():
            report.left.update(retry)
            break
        sleep(POLL_SECONDS)
        pending = list(retry)
    logger.info("%s", report.summary())
    return report
