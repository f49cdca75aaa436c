"""An encrypted, TLS-only SNS topic for findings, and the encrypted dead-letter queue beside it.

The ECR (Inspector) and GuardDuty findings constructs send findings to people the same way; they
differ in the rule and its pattern. Both pieces are built directly in the caller's scope under the
ids the caller gives, so the constructs keep their logical ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .resources import rotating_key

# The shape SNS accepts for an e-mail endpoint, checked at synth rather than at subscription time.
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"


@dataclass(frozen=True)
class FindingsTopic:
    """What `findings_topic` creates: the key, and the topic it encrypts."""

    key: kms.Key
    topic: sns.Topic


def findings_topic(
    scope: Construct,
    *,
    key_description: str,
    email: str | None,
    removal_policy: cdk.RemovalPolicy,
) -> FindingsTopic:
    """Children `Key` (rotating, seven-day deletion window) and `Resource` (the topic) of `scope`.

    The topic refuses publishers that do not use TLS; with `email`, the address is subscribed
    (AWS mails a confirmation link first).
    """
    if email is not None and not re.fullmatch(EMAIL_PATTERN, email):
        raise ValueError(f"email must be an e-mail address, got {email!r}")
    key = rotating_key(
        scope,
        "Key",
        description=key_description,
        pending_window=cdk.Duration.days(7),
        removal_policy=removal_policy,
    )
    topic = sns.Topic(scope, "Resource", master_key=key, enforce_ssl=True)
    if email is not None:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    return FindingsTopic(key, topic)


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
