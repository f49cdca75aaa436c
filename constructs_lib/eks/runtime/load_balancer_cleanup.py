"""Deletes what the AWS Load Balancer Controller left for a cluster, when its stack is deleted.

The controller deletes an Ingress's ALB, target groups and security groups when the Ingress is
deleted. CDK's kubectl handler logs and swallows errors of a Kubernetes delete, so an Ingress
delete that fails or times out still lets CloudFormation uninstall the controller: the ALB, its
target groups and the controller's security groups then stay in the VPC, and the VPC delete fails
with DependencyViolation. This CloudFormation custom resource (Lambda-backed, no provider
framework) is deleted after the controller's chart and before the cluster, and removes them.

The controller tags every AWS resource it creates with `elbv2.k8s.aws/cluster=<cluster name>`
(kubernetes-sigs/aws-load-balancer-controller `pkg/deploy/tracking/provider.go`; the shared backend
security group carries it too, `docs/deploy/security_groups.md`). On Delete, and only while the
stack itself is being deleted or rolled back (a first deploy that fails rolls back the Ingress
too, and its ALB must not stay; CloudFormation also sends Delete when an update replaces or
removes this resource, and then the load balancers are live), it:

1. deletes the load balancers with that tag (their listeners and rules go with them) and waits
   until they are gone;
2. deletes the target groups with that tag (retrying while a deleted listener still holds them);
3. revokes the ingress rules of other security groups in the VPC that reference the controller's
   security groups (the controller allows its backend group on the node security group), then
   deletes those groups, retrying DependencyViolation while the load balancers' network
   interfaces go away.

Create and Update do nothing. Everything is bounded by the function's remaining time minus a
reserve to answer CloudFormation; the work is idempotent (a second Delete finds nothing). If
anything is left, the answer is FAILED with a one-line reason naming it, so the stack stops before
the VPC instead of failing later on it.

What it deleted and what is left is the shared `cleanup_report.Report`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import boto3
import cfn_response
from botocore.exceptions import BotoCoreError, ClientError
from cleanup_report import Report, error_code

logger = logging.getLogger()
logger.setLevel(logging.INFO)

CLUSTER_TAG = "elbv2.k8s.aws/cluster"
POLL_SECONDS = 10.0
# ELBv2 DescribeTags takes at most 20 ARNs per call.
_TAG_BATCH = 20


class Clock:
    """Monotonic time and sleep, replaceable in tests."""

    def __init__(
        self, now: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None
    ) -> None:
        self.now = now or time.monotonic
        self.sleep = sleep or time.sleep


def _tagged(elbv2: Any, arns: list[str], cluster_name: str) -> list[str]:
    """The ARNs among `arns` tagged `elbv2.k8s.aws/cluster=<cluster_name>`."""
    matching: list[str] = []
    for start in range(0, len(arns), _TAG_BATCH):
        batch = arns[start : start + _TAG_BATCH]
        for description in elbv2.describe_tags(ResourceArns=batch)["TagDescriptions"]:
            tags = {tag["Key"]: tag.get("Value") for tag in description.get("Tags", [])}
            if tags.get(CLUSTER_TAG) == cluster_name:
                matching.append(description["ResourceArn"])
    return matching


def _all(elbv2: Any, operation: str, key: str, arn_key: str) -> list[str]:
    paginator = elbv2.get_paginator(operation)
    return [item[arn_key] for page in paginator.paginate() for item in page[key]]


def cluster_load_balancers(elbv2: Any, cluster_name: str) -> list[str]:
    arns = _all(elbv2, "describe_load_balancers", "LoadBalancers", "LoadBalancerArn")
    return _tagged(elbv2, arns, cluster_name)


def cluster_target_groups(elbv2: Any, cluster_name: str) -> list[str]:
    arns = _all(elbv2, "describe_target_groups", "TargetGroups", "TargetGroupArn")
    return _tagged(elbv2, arns, cluster_name)


def cluster_security_groups(ec2: Any, cluster_name: str, vpc_id: str) -> list[dict[str, Any]]:
    paginator = ec2.get_paginator("describe_security_groups")
    filters = [
        {"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster_name]},
        {"Name": "vpc-id", "Values": [vpc_id]},
    ]
    return [group for page in paginator.paginate(Filters=filters) for group in page["SecurityGroups"]]


@dataclass
class Run:
    """What every step of one cleanup shares: its deadline (a `clock.now()` value), clock and report."""

    deadline: float
    clock: Clock
    report: Report

    def has_time_for(self, seconds: float) -> bool:
        return self.clock.now() + seconds <= self.deadline


def delete_load_balancers(elbv2: Any, cluster_name: str, run: Run) -> None:
    """Delete this cluster's load balancers and wait (until the deadline) for them to be gone."""
    report = run.report
    arns = cluster_load_balancers(elbv2, cluster_name)
    for arn in arns:
        try:
            elbv2.delete_load_balancer(LoadBalancerArn=arn)
            logger.info("deleting load balancer %s", arn)
        except ClientError as error:
            if error_code(error) != "LoadBalancerNotFound":
                report.left[arn] = error_code(error)
    waiting = [arn for arn in arns if arn not in report.left]
    while waiting:
        present = set(_all(elbv2, "describe_load_balancers", "LoadBalancers", "LoadBalancerArn"))
        report.deleted += [arn for arn in waiting if arn not in present]
        waiting = [arn for arn in waiting if arn in present]
        if not waiting:
            break
        if not run.has_time_for(POLL_SECONDS):
            for arn in waiting:
                report.left[arn] = "still deleting at the deadline"
            break
        run.clock.sleep(POLL_SECONDS)


def _retry_until_deadline(
    names: Iterable[str],
    delete: Callable[[str], None],
    *,
    gone: str,
    retry: set[str],
    run: Run,
) -> None:
    """Delete each name; retry the ones failing with an error code in `retry` until the deadline."""
    report = run.report
    pending = list(names)
    while pending:
        failed: dict[str, str] = {}
        for name in pending:
            try:
                delete(name)
                report.deleted.append(name)
                logger.info("deleted %s", name)
            except ClientError as error:
                if error_code(error) == gone:
                    report.deleted.append(name)
                else:
                    failed[name] = error_code(error)
        pending = [name for name, code in failed.items() if code in retry]
        report.left.update({name: code for name, code in failed.items() if code not in retry})
        if pending and not run.has_time_for(POLL_SECONDS):
            report.left.update({name: f"{failed[name]} until the deadline" for name in pending})
            break
        if pending:
            run.clock.sleep(POLL_SECONDS)


def delete_target_groups(elbv2: Any, cluster_name: str, run: Run) -> None:
    _retry_until_deadline(
        cluster_target_groups(elbv2, cluster_name),
        lambda arn: elbv2.delete_target_group(TargetGroupArn=arn),
        gone="TargetGroupNotFound",
        retry={"ResourceInUse"},
        run=run,
    )


def revoke_references(ec2: Any, groups: list[dict[str, Any]], vpc_id: str, report: Report) -> None:
    """Revoke ingress rules of other groups of the VPC that reference one of `groups`."""
    ids = {group["GroupId"] for group in groups}
    paginator = ec2.get_paginator("describe_security_groups")
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    for page in paginator.paginate(Filters=filters):
        for group in page["SecurityGroups"]:
            for permission in group.get("IpPermissions", []):
                pairs = [p for p in permission.get("UserIdGroupPairs", []) if p.get("GroupId") in ids]
                pairs = [p for p in pairs if p["GroupId"] != group["GroupId"]]
                if not pairs:
                    continue
                revoke = {
                    key: permission[key] for key in ("IpProtocol", "FromPort", "ToPort") if key in permission
                }
                revoke["UserIdGroupPairs"] = [{"GroupId": p["GroupId"]} for p in pairs]
                name = f"{group['GroupId']} rule from {','.join(p['GroupId'] for p in pairs)}"
                try:
                    ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[revoke])
                    logger.info("revoked %s", name)
                except ClientError as error:
                    if error_code(error) not in {"InvalidPermission.NotFound", "InvalidGroup.NotFound"}:
                        report.left[name] = error_code(error)


def delete_security_groups(ec2: Any, cluster_name: str, vpc_id: str, run: Run) -> None:
    groups = cluster_security_groups(ec2, cluster_name, vpc_id)
    if not groups:
        return
    revoke_references(ec2, groups, vpc_id, run.report)
    _retry_until_deadline(
        [group["GroupId"] for group in groups],
        lambda group_id: ec2.delete_security_group(GroupId=group_id),
        gone="InvalidGroup.NotFound",
        # The network interfaces of a deleted load balancer take minutes to go.
        retry={"DependencyViolation"},
        run=run,
    )


def cleanup(
    cluster_name: str, vpc_id: str, *, elbv2: Any, ec2: Any, deadline: float, clock: Clock | None = None
) -> Report:
    """Delete the cluster's load balancers, then target groups, then security groups (bounded)."""
    run = Run(deadline, clock or Clock(), Report("load balancer resource"))
    report = run.report
    steps = (
        ("load balancers", lambda: delete_load_balancers(elbv2, cluster_name, run)),
        ("target groups", lambda: delete_target_groups(elbv2, cluster_name, run)),
        ("security groups", lambda: delete_security_groups(ec2, cluster_name, vpc_id, run)),
    )
    for what, step in steps:
        try:
            step()
        except (ClientError, BotoCoreError) as error:
            logger.exception("listing or deleting %s failed", what)
            report.left[f"{what} of cluster {cluster_name}"] = error_code(error)
    return report


def client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def on_delete(
    event: dict[str, Any], *, remaining_seconds: float, clock: Clock | None = None
) -> tuple[str, str]:
    """Returns the status and the one-line reason reported to CloudFormation."""
    clock = clock or Clock()
    props = event.get("ResourceProperties", {})
    cluster_name, vpc_id = props.get("ClusterName", ""), props.get("VpcId", "")
    if not cluster_name or not vpc_id:
        return "FAILED", "ClusterName or VpcId is empty; refusing to delete load balancers without them"
    region = event["StackId"].split(":")[3]
    if not cfn_response.stack_is_being_torn_down(event, client("cloudformation", region)):
        return (
            "SUCCESS",
            f"stack is not being deleted or rolled back: load balancers of {cluster_name} left alone",
        )
    deadline = clock.now() + remaining_seconds - cfn_response.MARGIN_MS / 1000
    report = cleanup(
        cluster_name,
        vpc_id,
        elbv2=client("elbv2", region),
        ec2=client("ec2", region),
        deadline=deadline,
        clock=clock,
    )
    logger.info("deleted: %s", report.deleted)
    if report.left:
        for name, problem in report.left.items():
            logger.error("left in place: %s (%s)", name, problem)
        return "FAILED", f"load balancer cleanup of cluster {cluster_name}: {report.summary()}"
    return "SUCCESS", report.summary()


def handler(event: dict[str, Any], context: Any) -> None:
    """CloudFormation custom resource entry point: answers every request, SUCCESS or one-line FAILED."""
    logged = {key: value for key, value in event.items() if key != "ResponseURL"}
    logger.info("event: %s", json.dumps(logged))
    status, reason = "SUCCESS", "nothing to do on create or update"
    try:
        if event["RequestType"] == "Delete":
            status, reason = on_delete(event, remaining_seconds=context.get_remaining_time_in_millis() / 1000)
    except Exception as error:
        logger.exception("unexpected error")
        status, reason = "FAILED", f"load balancer cleanup: {type(error).__name__}: {error}"
    cfn_response.respond(event, context, status, reason=reason)
