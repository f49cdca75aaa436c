"""GuardDuty findings delivered to people, for the GuardDuty part of the talk.

GuardDuty publishes each new finding (and each update of one) to EventBridge in its region, with
source `aws.guardduty` and detail-type `GuardDuty Finding`, and a numeric `detail.severity`
(https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html). A rule with
numeric matching picks those at or above a severity and sends them to an encrypted SNS topic.

The ECR unit's `findings.py` has the same topic, key and dead-letter queue for Inspector; they
stay apart on purpose: their construct ids (so the deployed queues) differ, and one shared
construct would rename, and so replace, one of the two.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from .._shared.nag import acknowledge
from .._shared.notifications import dead_letter_queue, findings_topic

# The lowest value of each GuardDuty severity level (Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9,
# Critical 9.0-10.0): https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html
SEVERITY_LEVELS = {"LOW": 1, "MEDIUM": 4, "HIGH": 7, "CRITICAL": 9}


class GuardDutyFindingAlerts(Construct):
    """An EventBridge rule that sends GuardDuty findings of `minimum_severity` or above to an SNS topic.

    The topic is encrypted with its own customer managed key (rotation on) and refuses publishers
    that do not use TLS. Deliveries that EventBridge cannot make (the topic gone, its key
    disabled) land in a dead-letter queue encrypted with the same key, kept 14 days, so a finding
    is never lost silently. With `email`, the address is subscribed (AWS mails a confirmation
    link first). Defaults: HIGH and above (a sandbox sees few, all worth a look); the key follows
    `removal_policy` (default DESTROY: scheduled for deletion after seven days).

    Attributes: `topic`, `rule`, `key`, `dead_letter_queue`, `minimum_value`.
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
        if minimum_severity not in SEVERITY_LEVELS:
            raise ValueError(
                f"minimum_severity must be one of {', '.join(SEVERITY_LEVELS)}, got {minimum_severity!r}"
            )
        self.minimum_value = SEVERITY_LEVELS[minimum_severity]

        topic = findings_topic(
            self,
            key_description="Encrypts the topic of GuardDuty findings and its dead-letter queue",
            email=email,
            removal_policy=removal_policy,
        )
        self.key, self.topic = topic.key, topic.topic
        self.dead_letter_queue = dead_letter_queue(
            self, "DeadLetterQueue", key=self.key, removal_policy=removal_policy
        )
        acknowledge(
            self.dead_letter_queue,
            {
                "AwsSolutions-SQS3": "This queue is itself the dead-letter queue of the findings rule's "
                "target; a dead-letter queue of its own would only move the same undeliverable findings "
                "once more."
            },
        )

        self.rule = events.Rule(
            self,
            "Rule",
            description=f"GuardDuty findings of severity {minimum_severity} ({self.minimum_value}) or above",
            event_pattern=events.EventPattern(
                source=["aws.guardduty"],
                detail_type=["GuardDuty Finding"],
                detail={"severity": events.Match.greater_than_or_equal(self.minimum_value)},
            ),
        )
        # The target grants events.amazonaws.com sns:Publish on the topic and the use of its key,
        # which also encrypts the dead-letter queue; the queue's policy admits this rule only.
        self.rule.add_target(targets.SnsTopic(self.topic, dead_letter_queue=self.dead_letter_queue))
