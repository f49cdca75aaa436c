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

from .._shared.notifications import FindingAlerts

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
    findings = "Amazon Inspector findings on ECR images"
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
        self._deliver("DeadLetters", removal_policy)
