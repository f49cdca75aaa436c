"""Findings sent to people: an encrypted, TLS-only SNS topic, and the encrypted dead-letter queue beside it.

The ECR (Inspector) and GuardDuty findings constructs send findings to people the same way; they
differ in their severities and in the rule and its pattern (`FindingAlerts`). A finding that
EventBridge cannot deliver to the topic (after its retries) waits in the dead-letter queue, and an
alarm tells the topic on the first one, so that it does not wait unseen. The dead-letter queue is
built under the id its caller gives, so each construct keeps its logical ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .nag import acknowledge
from .resources import rotating_key

# The shape SNS accepts for an e-mail endpoint, checked at synth rather than at subscription time.
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"


class FindingAlerts(Construct):
    """Findings of `minimum_severity` or above, sent to people through an encrypted, TLS-only SNS topic.

    The base of the ECR (Inspector) and GuardDuty alerts, which differ in their severity names and
    their EventBridge rule: a subclass names its severities (`severity_names`, lowest first), what
    its key encrypts (`key_description`) and its events (`source`, `detail_type`), and builds its
    rule (with `_findings_rule`) in `_route`, then delivers it with `_deliver`.

    Children `Key` (rotating, seven-day deletion window, following `removal_policy`) and
    `Resource`, the topic, which refuses publishers that do not use TLS; with `email`, the address
    is subscribed (AWS mails a confirmation link first).

    Attributes: `key`, `topic`, `rule`, `dead_letter_queue`, `dead_letter_alarm`.
    """

    severity_names: ClassVar[Sequence[str]]
    key_description: ClassVar[str]
    # The `source` and `detail-type` of the findings' EventBridge events.
    source: ClassVar[str]
    detail_type: ClassVar[str]
    # What the findings are, for the alarm: "GuardDuty findings".
    findings: ClassVar[str]
    rule: events.Rule
    dead_letter_queue: sqs.Queue
    dead_letter_alarm: cloudwatch.Alarm

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
        if minimum_severity not in self.severity_names:
            raise ValueError(
                f"minimum_severity must be one of {', '.join(self.severity_names)}, got {minimum_severity!r}"
            )
        if email is not None and not re.fullmatch(EMAIL_PATTERN, email):
            raise ValueError(f"email must be an e-mail address, got {email!r}")
        self.key = rotating_key(
            self,
            "Key",
            description=self.key_description,
            pending_window=cdk.Duration.days(7),
            removal_policy=removal_policy,
        )
        self.topic = sns.Topic(self, "Resource", master_key=self.key, enforce_ssl=True)
        if email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self._route(minimum_severity, removal_policy)

    def _route(self, minimum_severity: str, removal_policy: cdk.RemovalPolicy) -> None:
        """Set `rule` (`_findings_rule`) and deliver it to `topic` (`_deliver`)."""
        raise NotImplementedError

    def _deliver(self, dead_letter_id: str, removal_policy: cdk.RemovalPolicy) -> None:
        """Send `rule`'s findings to `topic`; what EventBridge cannot deliver waits in child
        `dead_letter_id`, and child `DeadLettersAlarm` tells the topic on the first one."""
        self.dead_letter_queue = dead_letter_queue(
            self, dead_letter_id, key=self.key, removal_policy=removal_policy
        )
        # The target grants events.amazonaws.com sns:Publish on the topic and
        # kms:Decrypt / kms:GenerateDataKey* on its key (the key policy names the service), and
        # sqs:SendMessage on the dead-letter queue for this rule only (aws:SourceArn).
        self.rule.add_target(targets.SnsTopic(self.topic, dead_letter_queue=self.dead_letter_queue))
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description=f"{self.findings} that EventBridge could not deliver to the findings topic; "
            "they wait in the dead-letter queue",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5), statistic="Maximum"
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.dead_letter_alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        # CloudWatch publishes the alarm to the encrypted topic and needs the key for it, only on
        # behalf of this account's alarms (naming this alarm's ARN would make the key, the topic and
        # the alarm depend on each other).
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{cdk.Aws.PARTITION}:cloudwatch:{cdk.Aws.REGION}:"
                        f"{cdk.Aws.ACCOUNT_ID}:alarm:*"
                    },
                    "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                },
            )
        )

    def _findings_rule(self, description: str, detail: Mapping[str, Any]) -> events.Rule:
        """Child `Rule`: the events of `source` and `detail_type` whose detail matches `detail`."""
        return events.Rule(
            self,
            "Rule",
            description=description,
            event_pattern=events.EventPattern(
                source=[self.source], detail_type=[self.detail_type], detail=dict(detail)
            ),
        )


def dead_letter_queue(
    scope: Construct, construct_id: str, *, key: kms.IKey, removal_policy: cdk.RemovalPolicy
) -> sqs.Queue:
    """A queue for what EventBridge cannot deliver: encrypted with `key`, TLS only, kept 14 days
    (SQS's maximum)."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
        removal_policy=removal_policy,
    )
    acknowledge(
        queue,
        {
            "AwsSolutions-SQS3": "This queue is itself the dead-letter queue of an EventBridge rule's "
            "target (DeadLetterConfig), which cdk-nag does not detect (it looks for redrive policies "
            "of other queues); a dead-letter queue of its own would only move the same undeliverable "
            "events once more."
        },
    )
    return queue
