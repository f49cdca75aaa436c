"""Amazon Inspector findings on ECR images, delivered to people, for the ECR part of the talk.

Inspector publishes each finding to EventBridge (source `aws.inspector2`, detail-type
`Inspector2 Finding`); a rule picks the active findings on ECR images
(`detail.resources[].type` `AWS_ECR_CONTAINER_IMAGE`) at or above a severity and sends them to
an encrypted SNS topic. https://docs.aws.amazon.com/inspector/latest/user/eventbridge-integration.html
A finding EventBridge cannot deliver (after its retries) goes to a dead-letter queue instead of
being dropped, and an alarm on that queue tells the topic's subscribers.
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html

The topic and its key are `_shared/notifications.py`'s `FindingAlerts`, which the security unit's
GuardDuty alerts share.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam

from .._shared.notifications import FindingAlerts, dead_letter_queue

# Inspector's finding severities, lowest first (UNTRIAGED has no rank and is never sent).
# https://docs.aws.amazon.com/inspector/v2/APIReference/API_Finding.html
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")


class ScanFindingAlerts(FindingAlerts):
    """An EventBridge rule that sends Inspector findings on ECR images to an SNS topic.

    Only findings in status ACTIVE and of `minimum_severity` (default HIGH) or above are sent,
    so a sandbox full of old base images does not flood a mailbox. The topic is encrypted with
    its own customer managed key (rotation on) that EventBridge may use, and refuses
    non-TLS publishers. With `email`, the address is subscribed (AWS mails a confirmation link
    first). The key follows `removal_policy` (default DESTROY: scheduled for deletion after
    seven days).

    Findings that EventBridge fails to deliver to the topic land in `dead_letter_queue` (same key,
    TLS only, kept 14 days, SQS's maximum), and `dead_letter_alarm` goes off on the first one.

    Attributes: `topic`, `rule`, `key`, `dead_letter_queue`, `dead_letter_alarm`, `severities`.
    """

    severity_names = SEVERITIES
    key_description = "Encrypts the topic of Amazon Inspector findings on ECR images"
    source = "aws.inspector2"
    detail_type = "Inspector2 Finding"

    def _route(self, minimum_severity: str, removal_policy: cdk.RemovalPolicy) -> None:
        self.severities = SEVERITIES[SEVERITIES.index(minimum_severity) :]
        self.rule = self._findings_rule(
            f"Active Amazon Inspector findings on ECR images, {minimum_severity} or above",
            {
                "severity": list(self.severities),
                "status": ["ACTIVE"],
                "resources": {"type": ["AWS_ECR_CONTAINER_IMAGE"]},
            },
        )
        self.dead_letter_queue = dead_letter_queue(
            self, "DeadLetters", key=self.key, removal_policy=removal_policy
        )
        # The target grants events.amazonaws.com sns:Publish on the topic and
        # kms:Decrypt / kms:GenerateDataKey* on its key (the key policy names the service), and
        # sqs:SendMessage on the dead-letter queue for this rule only (aws:SourceArn).
        self.rule.add_target(targets.SnsTopic(self.topic, dead_letter_queue=self.dead_letter_queue))
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description="Amazon Inspector findings on ECR images that EventBridge could not deliver "
            "to the findings topic; they wait in the dead-letter queue",
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
        # cdk-nag recognizes a dead-letter queue only in another queue's redrive policy.
        cdk.Validations.of(self.dead_letter_queue.node.default_child).acknowledge(  # type: ignore[arg-type]
            cdk.Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue is the dead-letter queue of the findings rule's target (EventBridge "
                "DeadLetterConfig), which cdk-nag does not detect; a DLQ needs no DLQ of its own.",
            )
        )
