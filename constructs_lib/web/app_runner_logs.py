"""A teardown helper for App Runner: the service's own log groups go with the stack.

App Runner writes `/aws/apprunner/<service name>/<service id>/{service,application}` itself,
without retention and outside CloudFormation. This direct custom resource (one Lambda function
that CloudFormation invokes itself, no provider framework) is created before the service and
deleted after it, and on a stack delete or rollback deletes the groups under the service's
name: see `runtime/app_runner_logs.py`.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.custom_resource import direct_custom_resource
from .._shared.log_key import log_group_arn
from .._shared.nag import acknowledge, nag_text

UNIT = Path(__file__).parent
HANDLER = "app_runner_logs"


class AppRunnerLogCleanup(Construct):
    """Deletes `/aws/apprunner/<service_name>/*` once the stack is being deleted or rolled back.

    Make the App Runner service depend on this construct, so that the groups are deleted after
    the service that writes them. The function has its own role and its own log group (write
    only: no logs:CreateLogGroup, so its last log line cannot re-create a deleted group).

    Attributes: `resource`, `function`, `role`, `log_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        service_groups = log_group_arn(self, f"/aws/apprunner/{service_name}/*")
        parts = direct_custom_resource(
            self,
            runtime=UNIT / "runtime",
            handler_module=HANDLER,
            resource_type="Custom::AppRunnerLogCleanup",
            properties={"ServiceName": service_name},
            statements=[
                # DescribeLogGroups is authorized on the account's log groups as a whole, not per group.
                iam.PolicyStatement(actions=["logs:DescribeLogGroups"], resources=["*"]),
                iam.PolicyStatement(actions=["logs:DeleteLogGroup"], resources=[service_groups]),
                iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[stack.stack_id]),
            ],
            timeout=cdk.Duration.minutes(2),
            description="Deletes the App Runner service's own log groups when the stack is deleted",
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.resource, self.function, self.role = parts.resource, parts.function, parts.role
        self.log_group = parts.log_group
        policy = parts.policy
        acknowledge(
            policy,
            {
                "AwsSolutions-IAM5[Resource::*]": "logs:DescribeLogGroups has no resource-level scope "
                "narrower than the account; the function deletes only the groups under the service's "
                "prefix.",
                f"AwsSolutions-IAM5[Resource::{nag_text(stack, service_groups)}]": (
                    "App Runner names the groups after the service's name (fixed here) and its id (known "
                    "only after creation): the prefix is this one service's."
                ),
            },
        )
