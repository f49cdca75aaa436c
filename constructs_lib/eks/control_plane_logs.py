"""Guard of the EKS control-plane log group: keeps a group that EKS re-creates from outliving the stack.

While a cluster is deleted EKS keeps writing logs, and its service-linked role re-creates
`/aws/eks/<cluster>/cluster` if CloudFormation already deleted it: `cdk destroy` then leaves it
behind and the next deploy fails with "already exists" on the group (terraform-aws-modules/
terraform-aws-eks issues #920, #2486, #2763). See `runtime/control_plane_logs.py`; the guard's
rights and timing are `_shared/log_group_guard.py`'s, shared with the ECS Container Insights guard.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.log_group_guard import DEFAULT_WATCH, LogGroupGuard

RUNTIME = Path(__file__).parent / "runtime"


class ControlPlaneLogsGuard(LogGroupGuard):
    """One Lambda function, called directly by CloudFormation (no provider framework).

    Make the control-plane log group depend on `resource` (`Ipv6Cluster` does), so that the guard
    comes before the group on create and after it on delete:

    - on create, it deletes a group of that name left by an earlier cluster (never while a
      cluster of that name exists), so the stack can create its own;
    - on delete, after the cluster and the group are gone, it deletes the group each time it
      reappears within `watch` (then stops; the next create catches anything later).

    Meant for stacks that delete the group with them: retained groups need no guard.

    Attributes: those of `DirectCustomResource` (`resource`, `function`, `role`, `policy`, `log_group`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        watch: cdk.Duration = DEFAULT_WATCH,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            runtime=RUNTIME,
            handler_module="control_plane_logs",
            resource_type="Custom::EksControlPlaneLogsGuard",
            cluster_name=cluster_name,
            group_name=f"/aws/eks/{cluster_name}/cluster",
            describe_cluster="eks:DescribeCluster",
            watch=watch,
            description=f"Deletes the control-plane log group of EKS cluster {cluster_name} when EKS "
            "re-creates it outside the stack (before create, after delete)",
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
