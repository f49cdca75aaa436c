"""The shape this unit's custom resources share: one Lambda function that answers CloudFormation.

No provider framework: CloudFormation invokes the function itself and the handler PUTs its answer
to the request's ResponseURL (`runtime/cfn_response.py`). The function gets its own role, with
write access to its own log group only (no logs:CreateLogGroup, so a last log line cannot
re-create a deleted group), and its own package holding just its handler and `cfn_response`. The
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

UNIT = Path(__file__).parent


@dataclass(frozen=True)
class DirectCustomResource:
    """What `direct_custom_resource` creates, for callers to order and acknowledge."""

    resource: cdk.CustomResource
    function: lambda_.Function
    role: iam.Role
    policy: iam.Policy
    log_group: logs.LogGroup


def direct_custom_resource(
    scope: Construct,
    *,
    handler_module: str,
    resource_type: str,
    properties: Mapping[str, Any],
    statements: Sequence[iam.PolicyStatement],
    timeout: cdk.Duration,
    description: str,
    log_retention: logs.RetentionDays,
    log_key: kms.IKey | None,
    removal_policy: cdk.RemovalPolicy,
) -> DirectCustomResource:
    """Children `LogGroup`, `Role`, `Function`, `Policy` and `Resource` of `scope`.

    `handler_module` names a file of `runtime/` whose `handler` answers CloudFormation. The
    custom resource's ServiceTimeout is two minutes over the function's: if the function dies
    without answering, CloudFormation gives up after it rather than after the default hour.
    """
    log_group = logs.LogGroup(
        scope, "LogGroup", retention=log_retention, encryption_key=log_key, removal_policy=removal_policy
    )
    role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        "Function",
        role=role,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        # `runtime` stays a package in the function, so the handler imports `cfn_response` as in the
        # tests. Its own handler and the protocol module only: bytecode caches would change the
        # asset hash (and the function) from run to run.
        handler=f"runtime.{handler_module}.handler",
        code=lambda_.Code.from_asset(
            str(UNIT),
            exclude=[
                "*",
                "!runtime",
                "!runtime/__init__.py",
                "!runtime/cfn_response.py",
                f"!runtime/{handler_module}.py",
            ],
        ),
        timeout=timeout,
        memory_size=128,
        log_group=log_group,
        # CloudFormation invokes once and waits; an asynchronous retry of a Create would act twice.
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
        service_timeout=timeout.plus(cdk.Duration.minutes(2)),
    )
    for dependency in (policy, role, log_group):
        resource.node.add_dependency(dependency)
    return DirectCustomResource(resource, function, role, policy, log_group)
