"""Amazon Inspector findings on ECR images, delivered to people, for the ECR part of the talk.

Inspector publishes each finding to EventBridge (source `aws.inspector2`, detail-type
`Inspector2 Finding`); a rule picks the active findings on ECR images
(`detail.resources[].type` `AWS_ECR_CONTAINER_IMAGE`) at or above a severity and sends them to
an encrypted SNS topic. https://docs.aws.amazon.com/inspector/latest/user/eventbridge-integration.html
"""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

# Inspector's finding severities, lowest first (UNTRIAGED has no rank and is never sent).
# https://docs.aws.amazon.com/inspector/v2/APIReference/API_Finding.html
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ScanFindingAlerts(Construct):
    """An EventBridge rule that sends Inspector findings on ECR images to an SNS topic.

    Only findings in status ACTIVE and of `minimum_severity` (default HIGH) or above are sent,
    so a sandbox full of old base images does not flood a mailbox. The topic is encrypted with
    its own customer managed key (rotation on) that EventBridge may use, and refuses
    non-TLS publishers. With `email`, the address is subscribed (AWS mails a confirmation link
    first). The key follows `removal_policy` (default DESTROY: scheduled for deletion after
    seven days).

    Attributes: `topic`, `rule`, `key`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        minimum_severity: str = "HIGH",
        email: str | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        if minimum_severity not in SEVERITIES:
            raise ValueError(
                f"minimum_severity must be one of {', '.join(SEVERITIES)}, got {minimum_severity!r}"
            )
        if email is not None and not _EMAIL.fullmatch(email):
            raise ValueError(f"email must be an e-mail address, got {email!r}")
        self.severities = SEVERITIES[SEVERITIES.index(minimum_severity) :]

        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the topic of Amazon Inspector findings on ECR images",
            enable_key_rotation=True,
            pending_window=cdk.Duration.days(7),
            removal_policy=removal_policy,
        )
        self.topic = sns.Topic(self, "Resource", master_key=self.key, enforce_ssl=True)
        if email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        self.rule = events.Rule(
            self,
            "Rule",
            description=f"Active Amazon Inspector findings on ECR images, {minimum_severity} or above",
            event_pattern=events.EventPattern(
                source=["aws.inspector2"],
                detail_type=["Inspector2 Finding"],
                detail={
                    "severity": list(self.severities),
                    "status": ["ACTIVE"],
                    "resources": {"type": ["AWS_ECR_CONTAINER_IMAGE"]},
                },
            ),
        )
        # The target grants events.amazonaws.com sns:Publish on the topic and
        # kms:Decrypt / kms:GenerateDataKey* on its key (the key policy names the service).
        self.rule.add_target(targets.SnsTopic(self.topic))
