"""GuardDuty findings delivered to people, for the GuardDuty part of the talk.

GuardDuty publishes each new finding (and each update of one) to EventBridge in its region, with
source `aws.guardduty` and detail-type `GuardDuty Finding`, and a numeric `detail.severity`
(https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html). A rule with
numeric matching picks those at or above a severity and sends them to an encrypted SNS topic.

The topic and its key are `_shared/notifications.py`'s `FindingAlerts`, which the ECR unit's
Inspector alerts share.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events

from .._shared.notifications import FindingAlerts

# The lowest value of each GuardDuty severity level (Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9,
# Critical 9.0-10.0): https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html
SEVERITY_LEVELS = {"LOW": 1, "MEDIUM": 4, "HIGH": 7, "CRITICAL": 9}


class GuardDutyFindingAlerts(FindingAlerts):
    """An EventBridge rule that sends GuardDuty findings of `minimum_severity` or above to an SNS topic.

    The topic is encrypted with its own customer managed key (rotation on) and refuses publishers
    that do not use TLS. Deliveries that EventBridge cannot make (the topic gone, its key
    disabled) land in a dead-letter queue encrypted with the same key, kept 14 days, and an alarm
    tells the topic on the first one, so a finding is never lost silently. With `email`, the
    address is subscribed (AWS mails a confirmation link first). Defaults: HIGH and above (a
    sandbox sees few, all worth a look); the key follows `removal_policy` (default DESTROY:
    scheduled for deletion after seven days).

    Attributes: `topic`, `rule`, `key`, `dead_letter_queue`, `dead_letter_alarm`, `minimum_value`.
    """

    severity_names = tuple(SEVERITY_LEVELS)
    key_description = "Encrypts the topic of GuardDuty findings and its dead-letter queue"
    findings = "GuardDuty findings"
    source = "aws.guardduty"
    detail_type = "GuardDuty Finding"

    def _route(self, minimum_severity: str, removal_policy: cdk.RemovalPolicy) -> None:
        self.minimum_value = SEVERITY_LEVELS[minimum_severity]
        self.rule = self._findings_rule(
            f"GuardDuty findings of severity {minimum_severity} ({self.minimum_value}) or above",
            {"severity": events.Match.greater_than_or_equal(self.minimum_value)},
        )
        self._deliver("DeadLetterQueue", removal_policy)
