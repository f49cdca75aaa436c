"""GuardDuty stack: EKS audit-log and runtime protection, ECS Fargate runtime monitoring, findings to people.

Delete order (CloudFormation deletes dependants first), which is the teardown design:
1. the findings rule, topic and queue (nothing depends on them);
2. the detector: deleted if this stack created it, else its features put back as they were, so
   GuardDuty stops deploying agents and making endpoints;
3. the agent endpoint cleanup: GuardDuty's endpoint and security group in the Network VPC;
4. the VPC, in the Network stack, later (this stack depends on it).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.security import GuardDutyAgentEndpointCleanup, GuardDutyDetector, GuardDutyFindingAlerts
from stacks.config.guardduty import GuardDutyConfig
from stacks.keys import stack_key
from stacks.stage import StageStack


class GuardDutyStack(StageStack):
    """Composes the detector, the findings alerts and the agent endpoint cleanup.

    Attributes: `detector`, `findings`, `log_key`, `agent_endpoint_cleanup` (None when GuardDuty
    deploys no agents: Runtime Monitoring or its automated agents off, or features not managed).
    """

    # The usual stack signature (see StageStack), as EcsAnywhereStack's.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        config: GuardDutyConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        log_retention, removal_policy = self.settings.log_retention, self.settings.removal_policy
        self.log_key = stack_key(
            self,
            "LogKey",
            description="Encrypts the log groups of the GuardDuty stack's custom resources",
            removal_policy=removal_policy,
        )
        # CloudWatch Logs may use the key for this stack's generated log group names only:
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        partition, region, account = cdk.Aws.PARTITION, cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
        self.log_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsForThisStack",
                principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:"
                        f"log-group:{cdk.Aws.STACK_NAME}-*"
                    }
                },
            )
        )

        features = config.features
        self.agent_endpoint_cleanup: GuardDutyAgentEndpointCleanup | None = None
        if config.manage_features and features.creates_agent_endpoints:
            self.agent_endpoint_cleanup = GuardDutyAgentEndpointCleanup(
                self,
                "AgentEndpointCleanup",
                vpc=vpc,
                log_retention=log_retention,
                log_key=self.log_key,
                removal_policy=removal_policy,
            )
        self.detector = GuardDutyDetector(
            self,
            "Detector",
            features=features,
            manage_features=config.manage_features,
            log_retention=log_retention,
            log_key=self.log_key,
            removal_policy=removal_policy,
        )
        if self.agent_endpoint_cleanup is not None:
            # Deleted before the cleanup runs: GuardDuty stops making endpoints first.
            self.detector.resource.node.add_dependency(self.agent_endpoint_cleanup.resource)

        # As in the Registry stack: each unit's findings construct, with its own severity scale.
        self.findings = GuardDutyFindingAlerts(
            self,
            "Findings",
            minimum_severity=config.findings.minimum_severity,
            email=config.findings.email,
            removal_policy=removal_policy,
        )
        cdk.CfnOutput(self, "DetectorId", value=self.detector.detector_id)
        cdk.CfnOutput(self, "FindingsTopicArn", value=self.findings.topic.topic_arn)
