"""Teardown backstop for Karpenter: remove what Karpenter launched for one cluster and left behind.

A CloudFormation custom resource (Lambda-backed, no provider framework) whose Delete runs after
the NodePools, the EC2NodeClass and the Karpenter chart are gone, and before the cluster, the
node role and the VPC are deleted. Nodes that Karpenter launched are not CloudFormation
resources: if the controller could not drain them (or `kubectl delete` failed, which the kubectl
handler only logs), they would keep the subnets, security groups and node role alive and the
stack delete would fail. This handler:

1. terminates every instance tagged `kubernetes.io/cluster/<cluster>=owned` and carrying the
   `karpenter.sh/nodepool` tag, and waits until they are terminated;
2. deletes every launch template with the same two tags;
3. removes the role from, and deletes, every instance profile tagged
   `kubernetes.io/cluster/<cluster>=owned`, `topology.kubernetes.io/region=<region>` and
   carrying `karpenter.k8s.aws/ec2nodeclass`.

These are the tags that Karpenter's own controller policy requires on what it creates and
deletes, so the handler's IAM can be scoped by exactly the same conditions. Everything else
(other clusters' instances, untagged resources) is left alone. Create and Update do nothing.
The work is idempotent (a second Delete finds nothing) and bounded by a deadline taken from the
Lambda's remaining time; on failure CloudFormation gets a one-line reason naming what is left.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

NODEPOOL_TAG = "karpenter.sh/nodepool"
NODECLASS_TAG = "karpenter.k8s.aws/ec2nodeclass"
REGION_TAG = "topology.kubernetes.io/region"
# Instance states that still hold an ENI in the VPC; `terminated` is the only finished state.
LIVE_STATES = ("pending", "running", "shutting-down", "stopping", "stopped")
# Seconds kept back from the Lambda's remaining time to report to CloudFormation.
RESPONSE_RESERVE_SECONDS = 30


class CleanupError(Exception):
    """The cleanup could not finish; the message says what is left and why."""


@dataclass
class CleanupReport:
    terminated_instances: list[str] = field(default_factory=list)
    deleted_launch_templates: list[str] = field(default_factory=list)
    deleted_instance_profiles: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"terminated {len(self.terminated_instances)} instance(s), "
            f"deleted {len(self.deleted_launch_templates)} launch template(s) "
            f"and {len(self.deleted_instance_profiles)} instance profile(s)"
        )


def cluster_tag(cluster_name: str) -> str:
    return f"kubernetes.io/cluster/{cluster_name}"


def _owned_filters(cluster_name: str) -> list[dict[str, Any]]:
    return [
        {"Name": f"tag:{cluster_tag(cluster_name)}", "Values": ["owned"]},
        {"Name": "tag-key", "Values": [NODEPOOL_TAG]},
    ]


def live_instances(ec2: Any, cluster_name: str) -> list[str]:
    """IDs of this cluster's Karpenter instances that are not yet terminated."""
    ids: list[str] = []
    paginator = ec2.get_paginator("describe_instances")
    filters = [*_owned_filters(cluster_name), {"Name": "instance-state-name", "Values": list(LIVE_STATES)}]
    for page in paginator.paginate(Filters=filters):
        for reservation in page["Reservations"]:
            ids.extend(instance["InstanceId"] for instance in reservation["Instances"])
    return sorted(ids)


def terminate_instances(
    ec2: Any,
    cluster_name: str,
    *,
    deadline: float,
    poll_seconds: float = 10.0,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[str]:
    """Terminate this cluster's Karpenter instances and wait until none is left running."""
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    requested: list[str] = []
    while True:
        remaining = live_instances(ec2, cluster_name)
        if not remaining:
            return requested
        new = [i for i in remaining if i not in requested]
        if new:
            # TerminateInstances takes at most 1000 IDs per call.
            for start in range(0, len(new), 1000):
                ec2.terminate_instances(InstanceIds=new[start : start + 1000])
            requested.extend(new)
            logger.info("terminating %d instance(s): %s", len(new), ", ".join(new))
        if clock() + poll_seconds > deadline:
            raise CleanupError(
                f"instances of cluster {cluster_name} still not terminated at the deadline: "
                + ", ".join(remaining)
            )
        sleep(poll_seconds)


def delete_launch_templates(ec2: Any, cluster_name: str) -> list[str]:
    """Delete the launch templates that Karpenter created for this cluster."""
    deleted: list[str] = []
    paginator = ec2.get_paginator("describe_launch_templates")
    for page in paginator.paginate(Filters=_owned_filters(cluster_name)):
        for template in page["LaunchTemplates"]:
            try:
                ec2.delete_launch_template(LaunchTemplateId=template["LaunchTemplateId"])
            except ClientError as error:
                if error.response["Error"]["Code"] not in ("InvalidLaunchTemplateId.NotFound",):
                    raise
            deleted.append(template["LaunchTemplateName"])
    return deleted


def _tags(iam: Any, profile_name: str) -> dict[str, str]:
    profile = iam.get_instance_profile(InstanceProfileName=profile_name)["InstanceProfile"]
    if "Tags" in profile:
        return {tag["Key"]: tag["Value"] for tag in profile["Tags"]}
    # The InstanceProfile type carries its tags; should a response leave them out, ask for them.
    tags: dict[str, str] = {}
    for page in iam.get_paginator("list_instance_profile_tags").paginate(InstanceProfileName=profile_name):
        tags.update({tag["Key"]: tag["Value"] for tag in page["Tags"]})
    return tags


def _profiles(iam: Any) -> Iterable[dict[str, Any]]:
    # ListInstanceProfiles returns no tags (IAM list calls return a subset of attributes), so each
    # profile's tags are read with GetInstanceProfile, the call Karpenter's own policy grants for
    # reading profiles. Karpenter names its profiles `<cluster>_<hash>`; the tags decide, not names.
    for page in iam.get_paginator("list_instance_profiles").paginate():
        yield from page["InstanceProfiles"]


def delete_instance_profiles(iam: Any, cluster_name: str, region: str) -> list[str]:
    """Delete the instance profiles that Karpenter created for this cluster in this region."""
    deleted: list[str] = []
    for profile in _profiles(iam):
        name = profile["InstanceProfileName"]
        try:
            tags = _tags(iam, name)
            if (
                tags.get(cluster_tag(cluster_name)) != "owned"
                or tags.get(REGION_TAG) != region
                or NODECLASS_TAG not in tags
            ):
                continue
            for role in profile.get("Roles", []):
                iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"])
            iam.delete_instance_profile(InstanceProfileName=name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchEntity":
                continue  # deleted meanwhile (by Karpenter or a previous attempt)
            raise
        deleted.append(name)
    return deleted


def cleanup(
    cluster_name: str,
    *,
    region: str,
    deadline: float,
    ec2: Any = None,
    iam: Any = None,
    poll_seconds: float = 10.0,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> CleanupReport:
    """Remove every instance, launch template and instance profile Karpenter left for the cluster.

    Instances go first: a launch template can be deleted while instances use it, but an instance
    profile still attached to a running instance would keep the node role in use.
    """
    if not cluster_name:
        raise CleanupError("ClusterName is empty; refusing to clean up without a cluster to scope by")
    ec2 = ec2 or boto3.client("ec2", region_name=region)
    iam = iam or boto3.client("iam")
    report = CleanupReport()
    report.terminated_instances = terminate_instances(
        ec2, cluster_name, deadline=deadline, poll_seconds=poll_seconds, clock=clock, sleep=sleep
    )
    report.deleted_launch_templates = delete_launch_templates(ec2, cluster_name)
    report.deleted_instance_profiles = delete_instance_profiles(iam, cluster_name, region)
    return report


def _send(event: dict[str, Any], status: str, reason: str, physical_id: str) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3500],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": {},
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # the pre-signed S3 URL from CloudFormation
        logger.info("CloudFormation response: %s %s", status, response.status)


def handler(event: dict[str, Any], context: Any) -> None:
    """CloudFormation custom resource entry point: cleans up on Delete, answers every request."""
    logged = {key: value for key, value in event.items() if key != "ResponseURL"}
    logger.info("event: %s", json.dumps(logged))
    props = event.get("ResourceProperties", {})
    cluster_name = props.get("ClusterName", "")
    physical_id = event.get("PhysicalResourceId") or f"karpenter-cleanup-{cluster_name}"
    status, reason = "SUCCESS", "nothing to do"
    try:
        if event["RequestType"] == "Delete":
            region = os.environ.get("AWS_REGION", "")
            budget = context.get_remaining_time_in_millis() / 1000 - RESPONSE_RESERVE_SECONDS
            report = cleanup(cluster_name, region=region, deadline=time.monotonic() + budget)
            reason = report.summary()
            logger.info("%s for cluster %s", reason, cluster_name)
    except CleanupError as error:
        status, reason = "FAILED", f"karpenter cleanup for cluster {cluster_name}: {error}"
    except ClientError as error:
        status, reason = "FAILED", f"karpenter cleanup for cluster {cluster_name}: AWS error {error}"
    except Exception as error:
        logger.exception("unexpected error")
        status, reason = (
            "FAILED",
            f"karpenter cleanup for cluster {cluster_name}: {type(error).__name__}: {error}",
        )
    if status == "FAILED":
        logger.error(reason)
    _send(event, status, reason, physical_id)
