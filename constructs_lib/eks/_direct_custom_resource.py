"""The shape this unit's teardown helpers share: one Lambda function that answers CloudFormation.

No provider framework: CloudFormation invokes the function itself and the handler PUTs its answer
to the request's ResponseURL (see `runtime/`). The function gets its own role, with write access
to its own log group only (no logs:CreateLogGroup, so a last log line cannot re-create a deleted
group), and its own package holding just its handler and the unit's `cfn_response`. The custom
resource is deleted before its policy, role and log group, which its Delete still needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

RUNTIME = Path(__file__).parent / "runtime"


class DirectCustomResource(Construct):
    """Base of this unit's teardown helpers: children `LogGroup`, `Role`, `Function`, `Policy`, `Resource`.

    `handler_module` names a file of `runtime/` whose `handler` answers CloudFormation.
    `service_timeout` must exceed `timeout`: if the function dies without answering,
    CloudFormation gives up after it rather than after the default hour.

    Attributes: `resource` (the custom resource), `function`, `role`, `policy`, `log_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler_module: str,
        resource_type: str,
        properties: Mapping[str, Any],
        statements: Sequence[iam.PolicyStatement],
        timeout: cdk.Duration,
        service_timeout: cdk.Duration,
        description: str,
        log_retention: logs.RetentionDays,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=log_retention, removal_policy=removal_policy
        )
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            role=self.role,
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"{handler_module}.handler",
            # Its own handler and the unit's response module only: the folder holds the unit's other
            # handlers too, and bytecode caches would change the asset hash from run to run.
            code=lambda_.Code.from_asset(
                str(RUNTIME), exclude=["*", "!__init__.py", "!cfn_response.py", f"!{handler_module}.py"]
            ),
            timeout=timeout,
            memory_size=128,
            log_group=self.log_group,
            # CloudFormation invokes it asynchronously and does not retry: a retried request would
            # race the failure that the ServiceTimeout already reports (and a retried Create acts twice).
            retry_attempts=0,
            description=description,
        )
        self.policy = iam.Policy(self, "Policy", roles=[self.role], statements=list(statements))
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=resource_type,
            properties=dict(properties),
            service_timeout=service_timeout,
        )
        for dependency in (self.policy, self.role, self.log_group):
            self.resource.node.add_dependency(dependency)
