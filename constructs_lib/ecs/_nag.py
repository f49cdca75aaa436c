"""cdk-nag acknowledgments that ECS Exec brings to a service of this unit (the ECS slides).

The generic helpers are `constructs_lib/_shared/nag.py`; this module holds what only ECS needs.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs

from .._shared.nag import acknowledge, nag_text


def acknowledge_ecs_exec(service: ecs.BaseService, cluster: ecs.ICluster) -> None:
    """The task role findings that `enable_execute_command=True` brings, read from what CDK grants.

    ECS Exec adds the ssmmessages channel actions on `*` to the task role and, when the cluster
    logs sessions to a CloudWatch log group, `logs:DescribeLogGroups` on `*` and the stream
    actions on that group's streams (aws-ecs BaseService.enableExecuteCommand in aws-cdk-lib).
    The log group is read from `cluster.execute_command_configuration`, which an imported
    cluster carries when it is given one. Session logs to S3 are not acknowledged here: their
    `<bucket>/*` grant stays a finding for whoever configures them to review.
    """
    stack = cdk.Stack.of(service)
    task_policy = service.task_definition.task_role.node.find_child("DefaultPolicy")
    reasons = {
        "AwsSolutions-IAM5[Resource::*]": (
            "ECS Exec: ssmmessages:Create/Open Control/Data Channel and logs:DescribeLogGroups have no "
            "resource-level permissions (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
            "ecs-exec.html#ecs-exec-required-iam-permissions)."
        )
    }
    exec_configuration = cluster.execute_command_configuration
    log_configuration = exec_configuration.log_configuration if exec_configuration is not None else None
    logging = exec_configuration.logging if exec_configuration is not None else None
    if (
        logging != ecs.ExecuteCommandLogging.NONE
        and log_configuration is not None
        and log_configuration.cloud_watch_log_group is not None
    ):
        # The same ARN CDK writes into the grant, so that the finding id matches.
        exec_streams = nag_text(
            stack,
            f"arn:{stack.partition}:logs:{service.env.region}:{service.env.account}:log-group:"
            f"{log_configuration.cloud_watch_log_group.log_group_ref.log_group_name}:*",
        )
        reasons[f"AwsSolutions-IAM5[Resource::{exec_streams}]"] = (
            "ECS Exec writes each session to a new log stream of the cluster's session log group; "
            "stream names are made per session, so the grant covers the streams of that one group."
        )
    acknowledge(task_policy, reasons)
