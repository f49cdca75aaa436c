"""Log groups, owned by the stack, for the Lambda functions of CDK's built-in custom resource providers.

aws-cdk-lib creates some providers itself with `CustomResourceProvider` (the VPC's default
security group restriction, the `CfnJson` resolver): raw Lambda functions without a log group,
so Lambda creates `/aws/lambda/<function>` on the first invocation, outside the stack, with no
retention, and `cdk destroy` leaves it behind. This gives each one a log group by that name, with
the stage's retention and removal policy, created before any custom resource runs and deleted
after the last one (custom resources depend on it).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

from stacks.stage import StageSettings


def own_provider_log_groups(stack: cdk.Stack, settings: StageSettings) -> list[logs.LogGroup]:
    """Create the log groups of `stack`'s core custom resource providers; return them."""
    providers = [c for c in stack.node.find_all() if isinstance(c, cdk.CustomResourceProviderBase)]
    log_groups = []
    for provider in providers:
        handler = provider.node.find_child("Handler")
        assert isinstance(handler, cdk.CfnResource)
        log_group = logs.LogGroup(
            stack,
            f"{provider.node.id.replace(':', '')}Logs",
            log_group_name=cdk.Fn.join("", ["/aws/lambda/", handler.ref]),
            retention=settings.log_retention,
            removal_policy=settings.removal_policy,
        )
        log_groups.append(log_group)
    if log_groups:
        # Which custom resource calls which provider is known only to CloudFormation
        # (its ServiceToken), so every custom resource in the stack waits for the groups.
        for construct in stack.node.find_all():
            if isinstance(construct, cdk.CfnResource) and construct.cfn_resource_type.startswith("Custom::"):
                for log_group in log_groups:
                    construct.node.add_dependency(log_group)
    return log_groups
