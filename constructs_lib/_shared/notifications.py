"""Findings sent to people: an encrypted, TLS-only SNS topic, and the encrypted dead-letter queue beside it.

The ECR (Inspector) and GuardDuty findings constructs send findings to people the same way; they
differ in their severities and in the rule and its pattern (`FindingAlerts`). The dead-letter
queue is built under the id its caller gives, so each construct keeps its logical ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .resources import rotating_key

# The shape SNS accepts for an e-mail endpoint, checked at synth rather than at subscription time.
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"


class FindingAlerts(Construct):
    """Findings of `minimum_severity` or above, sent to people through an encrypted, TLS-only SNS topic.

    The base of the ECR (Inspector) and GuardDuty alerts, which differ in their severity names and
    their EventBridge rule: a subclass names its severities (`severity_names`, lowest first), what
    its key encrypts (`key_description`) and its events (`source`, `detail_type`), and builds its
    rule (with `_findings_rule`) and dead-letter queue in `_route`, in the order it wants.

    Children `Key` (rotating, seven-day deletion window, following `removal_policy`) and
    `Resource`, the topic, which refuses publishers that do not use TLS; with `email`, the address
    is subscribed (AWS mails a confirmation link first).

    Attributes: `key`, `topic`, `rule`, `dead_letter_queue`.
    """

    severity_names: ClassVar[Sequence[str]]
    key_description: ClassVar[str]
    # The `source` and `detail-type` of the findings' EventBridge events.
    source: ClassVar[str]
    detail_type: ClassVar[str]
    rule: events.Rule
    dead_letter_queue: sqs.Queue

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
        """Set `rule` (`_findings_rule`, to `topic`) and `dead_letter_queue` (what it cannot deliver)."""
        raise NotImplementedError

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
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
        removal_policy=removal_policy,
    )
