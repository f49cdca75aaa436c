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
3. removes the role from, and deletes, every instance profile under the path Karpenter 1.14
   creates them in, `/karpenter/<region>/<cluster>/<EC2NodeClass uid>/` (karpenter-provider-aws
   v1.14.1 `pkg/controllers/nodeclass/instanceprofile.go`; its own garbage collector lists by the
   same `/karpenter/<region>/<cluster>/` prefix, `pkg/controllers/nodeclass/garbagecollection/
   controller.go`), and tagged `kubernetes.io/cluster/<cluster>=owned`,
   `topology.kubernetes.io/region=<region>` and `karpenter.k8s.aws/ec2nodeclass`.

These are the tags that Karpenter's own controller policy requires on what it creates and
deletes, so the handler's IAM can be scoped by exactly the same conditions. Everything else
(other clusters' instances, untagged resources) is left alone. Create and Update do nothing, and
so does a Delete unless the stack itself is being deleted or rolled back: CloudFormation also
sends Delete when an update moves or replaces this resource, and the nodes are live then. The
work is idempotent (a second Delete finds nothing) and checks the Lambda's remaining time inside
every loop; on failure CloudFormation gets a one-line reason naming what is left.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
import cfn_response
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

NODEPOOL_TAG = "karpenter.sh/nodepool"
NODECLASS_TAG = "karpenter.k8s.aws/ec2nodeclass"
REGION_TAG = "topology.kubernetes.io/region"
# Instance states that still hold an ENI in the VPC; `terminated` is the only finished state.
LIVE_STATES = ("pending", "running", "shutting-down", "stopping", "stopped")
POLL_SECONDS = 10.0


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
    out_of_time: Callable[[], bool],
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], None] | None = None,
) -> list[str]:
    """Terminate this cluster's Karpenter instances and wait until none is left running."""
    sleep = sleep or time.sleep
    requested: list[str] = []
    while True:
        remaining = live_instances(ec2, cluster_name)
        if not remaining:
            return requested
        new = [i for i in remaining if i not in requested]
        # TerminateInstances takes at most 1000 IDs per call.
        for start in range(0, len(new), 1000):
            _check_time(out_of_time, f"instances of cluster {cluster_name} not yet terminated", remaining)
            ec2.terminate_instances(InstanceIds=new[start : start + 1000])
            requested.extend(new[start : start + 1000])
            logger.info("terminating %s", ", ".join(new[start : start + 1000]))
        _check_time(out_of_time, f"instances of cluster {cluster_name} still not terminated", remaining)
        sleep(poll_seconds)


def _check_time(out_of_time: Callable[[], bool], what: str, left: Iterable[str]) -> None:
    if out_of_time():
        raise CleanupError(f"{what} when time ran out: {', '.join(left) or 'none listed yet'}")


def delete_launch_templates(ec2: Any, cluster_name: str, *, out_of_time: Callable[[], bool]) -> list[str]:
    """Delete the launch templates that Karpenter created for this cluster."""
    deleted: list[str] = []
    paginator = ec2.get_paginator("describe_launch_templates")
    for page in paginator.paginate(Filters=_owned_filters(cluster_name)):
        for template in page["LaunchTemplates"]:
            _check_time(
                out_of_time,
                f"launch templates of cluster {cluster_name} left",
                [template["LaunchTemplateName"]],
            )
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


def profile_path(cluster_name: str, region: str) -> str:
    """The IAM path under which Karpenter 1.14 creates this cluster's instance profiles."""
    return f"/karpenter/{region}/{cluster_name}/"


def _profiles(iam: Any, path_prefix: str) -> Iterable[dict[str, Any]]:
    # ListInstanceProfiles returns no tags (IAM list calls return a subset of attributes), so each
    # profile's tags are read with GetInstanceProfile, the call Karpenter's own policy grants for
    # reading profiles. The path prefix keeps the listing to this cluster's profiles, however many
    # the account holds; the check of the path is for a listing that ignores the prefix.
    for page in iam.get_paginator("list_instance_profiles").paginate(PathPrefix=path_prefix):
        yield from (p for p in page["InstanceProfiles"] if p.get("Path", "").startswith(path_prefix))


def delete_instance_profiles(
    iam: Any, cluster_name: str, region: str, *, out_of_time: Callable[[], bool]
) -> list[str]:
    """Delete the instance profiles that Karpenter created for this cluster in this region."""
    deleted: list[str] = []
    for profile in _profiles(iam, profile_path(cluster_name, region)):
        name = profile["InstanceProfileName"]
        _check_time(out_of_time, f"instance profiles of cluster {cluster_name} left", [name])
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
    out_of_time: Callable[[], bool],
    ec2: Any = None,
    iam: Any = None,
    poll_seconds: float = POLL_SECONDS,
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
        ec2, cluster_name, out_of_time=out_of_time, poll_seconds=poll_seconds, sleep=sleep
    )
    report.deleted_launch_templates = delete_launch_templates(ec2, cluster_name, out_of_time=out_of_time)
    report.deleted_instance_profiles = delete_instance_profiles(
        iam, cluster_name, region, out_of_time=out_of_time
    )
    return report


def handler(event: dict[str, Any], context: Any) -> None:
    """CloudFormation custom resource entry point: cleans up on a stack delete, answers every request."""
    logged = {key: value for key, value in event.items() if key != "ResponseURL"}
    logger.info("event: %s", json.dumps(logged))
    cluster_name = event.get("ResourceProperties", {}).get("ClusterName", "")
    status, reason = "SUCCESS", "nothing to do on create or update"
    try:
        if event["RequestType"] == "Delete":
            if cfn_response.stack_is_being_torn_down(event):
                report = cleanup(
                    cluster_name,
                    region=os.environ.get("AWS_REGION", ""),
                    out_of_time=lambda: cfn_response.out_of_time(context),
                )
                reason = f"{report.summary()} for cluster {cluster_name}"
            else:
                reason = (
                    f"stack is not being deleted or rolled back: nodes of cluster {cluster_name} left alone"
                )
    except (CleanupError, ClientError) as error:
        status, reason = "FAILED", f"karpenter cleanup for cluster {cluster_name}: {error}"
    except Exception as error:
        logger.exception("unexpected error")
        status, reason = "FAILED", f"karpenter cleanup of {cluster_name}: {type(error).__name__}: {error}"
    logger.info(reason)
    cfn_response.respond(event, context, status, reason=reason)
