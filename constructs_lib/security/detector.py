"""The account's GuardDuty detector with the container features on, for the GuardDuty part of the talk.

EKS audit log monitoring reads the cluster's Kubernetes audit log natively (no agent, nothing on
the cluster); Runtime Monitoring watches processes, files and network connections through an
agent that GuardDuty deploys itself: as the `aws-guardduty-agent` add-on on EKS clusters with EC2
nodes, and as a sidecar in new ECS Fargate tasks. Runtime Monitoring does not cover EKS pods on
Fargate (https://docs.aws.amazon.com/guardduty/latest/ug/how-runtime-monitoring-works-eks.html);
the audit log still covers those clusters. `AWS::GuardDuty::Detector` fails where a detector
exists already (one per account and region), so a custom resource creates or adopts it
(`runtime/detector.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.custom_resource import direct_custom_resource
from .._shared.nag import acknowledge, wildcard

# Protection plans that CreateDetector turns on unless told otherwise (all but Runtime Monitoring:
# https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateDetector.html). A detector
# this construct creates leaves them off, so the stack costs what its containers cost.
OTHER_PROTECTION_PLANS = (
    "S3_DATA_EVENTS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "LAMBDA_NETWORK_LOGS",
)

RUNTIME = Path(__file__).parent / "runtime"


def _status(enabled: bool) -> str:
    return "ENABLED" if enabled else "DISABLED"


@dataclass(frozen=True)
class GuardDutyFeatures:
    """Which container protections the detector runs; each is set explicitly, on or off.

    `runtime_monitoring` with the automated agents for EKS (`eks_addon_management`) and ECS on
    Fargate (`ecs_fargate_agent_management`, the only way to monitor Fargate tasks) is on by
    default; EC2 instances outside the clusters (`ec2_agent_management`) only when asked, since
    they are not part of this architecture and every monitored vCPU-hour is billed.
    """

    eks_audit_logs: bool = True
    runtime_monitoring: bool = True
    eks_addon_management: bool = True
    ecs_fargate_agent_management: bool = True
    ec2_agent_management: bool = False

    def validate(self) -> None:
        """Raise ValueError when an automated agent is asked for without Runtime Monitoring."""
        if not self.runtime_monitoring:
            for name in ("eks_addon_management", "ecs_fargate_agent_management", "ec2_agent_management"):
                if getattr(self, name):
                    raise ValueError(f"{name} needs runtime_monitoring: true, got runtime_monitoring: false")

    def to_api(self) -> list[dict[str, Any]]:
        """The `Features` of CreateDetector / UpdateDetector."""
        return [
            {"Name": "EKS_AUDIT_LOGS", "Status": _status(self.eks_audit_logs)},
            {
                "Name": "RUNTIME_MONITORING",
                "Status": _status(self.runtime_monitoring),
                "AdditionalConfiguration": [
                    {"Name": "EKS_ADDON_MANAGEMENT", "Status": _status(self.eks_addon_management)},
                    {
                        "Name": "ECS_FARGATE_AGENT_MANAGEMENT",
                        "Status": _status(self.ecs_fargate_agent_management),
                    },
                    {"Name": "EC2_AGENT_MANAGEMENT", "Status": _status(self.ec2_agent_management)},
                ],
            },
        ]

    @property
    def creates_agent_endpoints(self) -> bool:
        """True when GuardDuty deploys agents itself, and so creates its VPC endpoints."""
        return self.runtime_monitoring and (
            self.eks_addon_management or self.ecs_fargate_agent_management or self.ec2_agent_management
        )


class GuardDutyDetector(Construct):
    """The region's one detector, created when there is none and adopted when there is.

    A created detector is tagged `CreatedByStack=<stack id>` and deleted when the stack is
    deleted. An adopted one gets `features` set, and on stack delete the feature state it had
    before; it is never deleted. With `manage_features=False` nothing is changed at all (for a
    member account whose GuardDuty the Organization's delegated administrator manages, which
    refuses feature changes): the resource only reports the detector's id, and fails when there
    is none. With it on, a refused change fails the deploy with a reason naming the administrator.

    Defaults: the container features of `GuardDutyFeatures()`, other protection plans off on a
    detector this construct creates (`OTHER_PROTECTION_PLANS`), handler logs kept a week and
    deleted with the stack.

    Attributes: `detector_id` (token), `ownership` (token: created, adopted or observed),
    `resource`, `function`, `role`, `policy`, `log_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        features: GuardDutyFeatures | None = None,
        manage_features: bool = True,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK,
        log_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        self.features = features or GuardDutyFeatures()
        self.features.validate()
        parts = direct_custom_resource(
            self,
            runtime=RUNTIME,
            handler_module="detector",
            resource_type="Custom::GuardDutyDetector",
            properties={
                "Features": self.features.to_api(),
                "DisabledOnCreate": list(OTHER_PROTECTION_PLANS),
                "ManageFeatures": manage_features,
            },
            statements=_statements(),
            timeout=cdk.Duration.minutes(2),
            description="Creates or adopts the region's GuardDuty detector and sets its container features",
            log_retention=log_retention,
            log_encryption_key=log_key,
            removal_policy=removal_policy,
        )
        self.resource, self.function, self.role = parts.resource, parts.function, parts.role
        self.policy, self.log_group = parts.policy, parts.log_group
        self.detector_id = self.resource.get_att_string("DetectorId")
        self.ownership = self.resource.get_att_string("Ownership")

        acknowledge(
            self.policy,
            {
                wildcard("*"): "GuardDuty ListDetectors and CreateDetector have no resource type (Service "
                "Authorization Reference, Amazon GuardDuty); the region's one detector is what they list "
                "and create.",
                wildcard(
                    "arn:<AWS::Partition>:guardduty:<AWS::Region>:<AWS::AccountId>:detector/*"
                ): "The detector id exists only at run time (created, or found by ListDetectors); an account "
                "has one detector per region, so this names that one detector.",
            },
        )


def _statements() -> list[iam.PolicyStatement]:
    partition, region, account = cdk.Aws.PARTITION, cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
    detectors = f"arn:{partition}:guardduty:{region}:{account}:detector/*"
    # Opens like agent_endpoint_cleanup.py's list (reads on `*`, then scoped writes): its own rights.
    return [
        iam.PolicyStatement(
            sid="FindOrCreateDetector",
            actions=["guardduty:ListDetectors", "guardduty:CreateDetector"],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="ManageDetector",
            actions=[
                "guardduty:GetDetector",
                "guardduty:UpdateDetector",
                "guardduty:DeleteDetector",
                "guardduty:GetAdministratorAccount",
                # CreateDetector with Tags (the ownership tag) needs it.
                "guardduty:TagResource",
            ],
            resources=[detectors],
        ),
        iam.PolicyStatement(
            sid="GuardDutyServiceLinkedRole",
            # CreateDetector creates GuardDuty's service-linked role on first use:
            # https://docs.aws.amazon.com/guardduty/latest/ug/slr-permissions.html
            actions=["iam:CreateServiceLinkedRole"],
            resources=[
                f"arn:{partition}:iam::{account}:role/aws-service-role/guardduty.amazonaws.com/"
                "AWSServiceRoleForAmazonGuardDuty"
            ],
            conditions={"StringEquals": {"iam:AWSServiceName": "guardduty.amazonaws.com"}},
        ),
        iam.PolicyStatement(
            sid="ReadOwnStack",
            actions=["cloudformation:DescribeStacks"],
            # The function reads only its own stack's status, before undoing anything.
            resources=[cdk.Aws.STACK_ID],
        ),
    ]
