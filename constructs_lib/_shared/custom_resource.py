"""The shape of every unit's custom resources: one Lambda function that answers CloudFormation itself.

No provider framework: CloudFormation invokes the function and the handler PUTs its answer to the
request's ResponseURL (the shared runtime module `cfn_response`). The function gets its own role,
with write access to its own log group only (no logs:CreateLogGroup, so a last log line cannot
re-create a deleted group), and a package holding its handler and the modules it imports only. The
custom resource is deleted before its policy, role and log group, which its Delete still needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .lambda_package import handler_code


@dataclass(frozen=True)
class DirectCustomResourceParts:
    """What `direct_custom_resource` creates, for callers to order and acknowledge."""

    resource: cdk.CustomResource
    function: lambda_.Function
    role: iam.Role
    policy: iam.Policy
    log_group: logs.LogGroup


def direct_custom_resource(
    scope: Construct,
    *,
    runtime: Path,
    handler_module: str,
    resource_type: str,
    properties: Mapping[str, Any],
    statements: Sequence[iam.PolicyStatement],
    timeout: cdk.Duration,
    description: str,
    log_retention: logs.RetentionDays,
    removal_policy: cdk.RemovalPolicy,
    service_timeout: cdk.Duration | None = None,
    log_encryption_key: kms.IKey | None = None,
    memory_size: int = 128,
    role_description: str | None = None,
) -> DirectCustomResourceParts:
    """Children `LogGroup`, `Role`, `Function`, `Policy` and `Resource` of `scope`.

    `runtime` is the unit's `runtime/` folder and `handler_module` a file of it whose `handler`
    answers CloudFormation. The package holds that handler and the modules it imports
    (`lambda_package.handler_code`), so that a unit's other handlers do not change this function's
    code.
    `service_timeout` (default: two minutes over `timeout`) must exceed `timeout`: if the function
    dies without answering, CloudFormation gives up after it rather than after the default hour.
    `statements` may be empty and added to `policy` later, before synthesis.
    """
    log_group = logs.LogGroup(
        scope,
        "LogGroup",
        retention=log_retention,
        removal_policy=removal_policy,
        encryption_key=log_encryption_key,
    )
    role = iam.Role(
        scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=role_description
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        "Function",
        role=role,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler=f"{handler_module}.handler",
        code=handler_code(runtime, handler_module),
        timeout=timeout,
        memory_size=memory_size,
        log_group=log_group,
        # CloudFormation invokes it asynchronously and does not retry: a retried request would race
        # the failure that the ServiceTimeout already reports, and a retried Create would act twice.
        retry_attempts=0,
        description=description,
    )
    policy = iam.Policy(scope, "Policy", roles=[role], statements=list(statements))
    resource = cdk.CustomResource(
        scope,
        "Resource",
        service_token=function.function_arn,
        resource_type=resource_type,
        properties=dict(properties),
        service_timeout=service_timeout or timeout.plus(cdk.Duration.minutes(2)),
    )
    for dependency in (policy, role, log_group):
        resource.node.add_dependency(dependency)
    return DirectCustomResourceParts(resource, function, role, policy, log_group)


class DirectCustomResource(Construct):
    """`direct_custom_resource` as a construct of its own, for units whose helpers subclass it.

    Children `LogGroup`, `Role`, `Function`, `Policy`, `Resource`; the arguments are those of
    `direct_custom_resource`.

    Attributes: `resource` (the custom resource), `function`, `role`, `policy`, `log_group`.
    """

    def __init__(self, scope: Construct, construct_id: str, **arguments: Any) -> None:
        super().__init__(scope, construct_id)
        parts = direct_custom_resource(self, **arguments)
        self.resource = parts.resource
        self.function = parts.function
        self.role = parts.role
        self.policy = parts.policy
        self.log_group = parts.log_group
