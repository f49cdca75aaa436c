"""cdk-nag acknowledgments shared by the constructs of this folder.

Each construct acknowledges the findings of the resources it creates, scoped to one resource and
with its reason, so that it passes cdk-nag's AwsSolutions pack when copied alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from constructs import IConstruct


def acknowledge(construct: IConstruct, reasons: Mapping[str, str]) -> None:
    """Acknowledge each `{rule id: reason}` on `construct` (one resource, never a whole stack)."""
    for rule, reason in reasons.items():
        cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def nag_text(stack: cdk.Stack, value: str) -> str:
    """How cdk-nag writes a resource ARN in a granular finding id (its flattenCfnReference)."""

    def visit(node: Any) -> str:
        if isinstance(node, str):
            return node.replace("${", "<").replace("}", ">")
        if isinstance(node, dict) and "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(visit(item) for item in items)
        if isinstance(node, dict) and "Fn::Sub" in node:
            return visit(node["Fn::Sub"])
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{visit(resource)}.{visit(attribute)}>"
        if isinstance(node, dict) and "Ref" in node:
            return f"<{visit(node['Ref'])}>"
        return json.dumps(node, separators=(",", ":"))

    return visit(stack.resolve(value))


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
