"""Teardown of what GuardDuty's automated agents make in a VPC, for the GuardDuty part of the talk.

With automated agent configuration GuardDuty creates an interface endpoint for
`com.amazonaws.<region>.guardduty-data` and a security group in every VPC where it deploys its
agent, outside CloudFormation, tagged `GuardDutyManaged=true`; they keep the VPC from deleting.
An endpoint made in CDK would not replace them: the docs ask for your own endpoint only when you
install the agent yourself (which ECS on Fargate does not allow), and say that with automated
agents GuardDuty "establishes connectivity automatically"
(https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-agent-connectivity.html). So
this custom resource deletes GuardDuty's own endpoint and group in one VPC when its stack is
deleted (`runtime/agent_endpoint_cleanup.py`).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.custom_resource import direct_custom_resource
from .._shared.nag import acknowledge, wildcard

# GuardDuty tags what it creates for its agents with this key and the value `true`:
# https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-agent-resource-clean-up.html
MANAGED_TAG = "GuardDutyManaged"
# Interface endpoint network interfaces take a minute or two to go; the group waits for them.
DEFAULT_TIMEOUT = cdk.Duration.minutes(10)

RUNTIME = Path(__file__).parent / "runtime"


class GuardDutyAgentEndpointCleanup(Construct):
    """One Lambda function called directly by CloudFormation (no provider framework).

    On stack delete or rollback only, it deletes the endpoints of `vpc` tagged
    `GuardDutyManaged=true` whose service is `guardduty-data` (or its FIPS variant), waits for
    them to go, then deletes the security groups of `vpc` with the same tag. Nothing in other
    VPCs, and no endpoint without GuardDuty's tag, is touched. Create and Update do nothing.

    Make the detector's custom resource depend on this one, so that on delete the features are
    turned off (or the detector deleted) first and GuardDuty stops making endpoints before this
    runs. Deploy it in a stack that the VPC's stack outlives.

    Defaults: a ten-minute function timeout, logs kept a week and deleted with the stack.

    Attributes: `resource`, `function`, `role`, `policy`, `log_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        timeout: cdk.Duration = DEFAULT_TIMEOUT,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        log_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 2 <= timeout.to_minutes() <= 15:
            raise ValueError(f"timeout must be between 2 and 15 minutes, got {timeout.to_human_string()}")
        region = cdk.Aws.REGION
        parts = direct_custom_resource(
            self,
            runtime=RUNTIME,
            handler_module="agent_endpoint_cleanup",
            resource_type="Custom::GuardDutyAgentEndpointCleanup",
            properties={
                "VpcId": vpc.vpc_id,
                "ServiceNames": [
                    f"com.amazonaws.{region}.guardduty-data",
                    f"com.amazonaws.{region}.guardduty-data-fips",
                ],
            },
            statements=_statements(vpc),
            timeout=timeout,
            description="Deletes the VPC endpoint and security group GuardDuty made for its agents "
            "in one VPC, on stack delete",
            log_retention=log_retention,
            log_encryption_key=log_key,
            removal_policy=removal_policy,
        )
        self.resource, self.function, self.role = parts.resource, parts.function, parts.role
        self.policy, self.log_group = parts.policy, parts.log_group

        acknowledge(
            self.policy,
            {
                wildcard(
                    "*"
                ): "EC2 DescribeVpcEndpoints and DescribeSecurityGroups support no resource-level "
                "permissions, and they only read.",
                wildcard(
                    "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:vpc-endpoint/*"
                ): "GuardDuty "
                "creates the endpoint at run time; a condition limits deletion to endpoints with GuardDuty's "
                f"tag {MANAGED_TAG}=true, and the handler deletes only those of this VPC.",
                wildcard(
                    "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*"
                ): "GuardDuty "
                "creates the group at run time; a condition limits deletion to groups tagged "
                f"{MANAGED_TAG}=true in this VPC.",
            },
        )


def _statements(vpc: ec2.IVpc) -> list[iam.PolicyStatement]:
    """Describe on `*` (no resource-level scoping); deletes only on GuardDuty's tagged resources of this VPC.

    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html:
    DeleteVpcEndpoints (resource `vpc-endpoint`) and DeleteSecurityGroup (resource
    `security-group`) take `aws:ResourceTag/${TagKey}`; the security group also takes `ec2:Vpc`
    (as in https://docs.aws.amazon.com/vpc/latest/userguide/vpc-policy-examples.html). The
    endpoint grant rests on GuardDuty's tag alone, and the handler picks only this VPC's endpoints.
    """
    partition, region, account = cdk.Aws.PARTITION, cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
    ec2_arn = f"arn:{partition}:ec2:{region}:{account}"
    owned = {f"aws:ResourceTag/{MANAGED_TAG}": "true"}
    owned_in_vpc = {**owned, "ec2:Vpc": f"{ec2_arn}:vpc/{vpc.vpc_id}"}
    return [
        iam.PolicyStatement(
            sid="DescribeGuardDutyEndpoints",
            actions=["ec2:DescribeVpcEndpoints", "ec2:DescribeSecurityGroups"],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="DeleteGuardDutyEndpointsInVpc",
            actions=["ec2:DeleteVpcEndpoints"],
            resources=[f"{ec2_arn}:vpc-endpoint/*"],
            conditions={"StringEquals": owned},
        ),
        iam.PolicyStatement(
            sid="DeleteGuardDutySecurityGroupsInVpc",
            actions=["ec2:DeleteSecurityGroup"],
            resources=[f"{ec2_arn}:security-group/*"],
            conditions={"StringEquals": owned_in_vpc},
        ),
        iam.PolicyStatement(
            sid="ReadOwnStack",
            actions=["cloudformation:DescribeStacks"],
            # The function reads only its own stack's status, before deleting anything.
            resources=[cdk.Aws.STACK_ID],
        ),
    ]
