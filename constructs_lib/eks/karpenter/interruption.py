"""Karpenter's interruption queue and the EventBridge rules that feed it (Spot, rebalance, health)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..._shared.nag import acknowledge_resource

# The EventBridge events Karpenter reacts to, as in the upstream getting-started template.
INTERRUPTION_EVENTS: dict[str, tuple[str, str]] = {
    "ScheduledChangeRule": ("aws.health", "AWS Health Event"),
    "SpotInterruptionRule": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "RebalanceRule": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "InstanceStateChangeRule": ("aws.ec2", "EC2 Instance State-change Notification"),
    "CapacityReservationInterruptionRule": (
        "aws.ec2",
        "EC2 Capacity Reservation Instance Interruption Warning",
    ),
}


class InterruptionQueue(Construct):
    """The queue (SQS-managed encryption, TLS only, 5 minutes' retention) and its five rules.

    Attributes: `queue`, `rules` (by id).
    """

    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: cdk.RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            # Interruption notices are useless after a few minutes (upstream: 300 seconds).
            retention_period=cdk.Duration.minutes(5),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=removal_policy,
        )
        acknowledge_resource(
            self.queue,
            {
                "AwsSolutions-SQS3": "Interruption notices are transient: Karpenter deletes each one after "
                "acting on it, and one it cannot use is worthless after the 5-minute retention, so a "
                "dead-letter queue would only collect stale events.",
            },
        )
        self.rules = {
            rule_id: events.Rule(
                self,
                rule_id,
                event_pattern=events.EventPattern(source=[source], detail_type=[detail_type]),
                # The target adds a queue policy statement allowing events.amazonaws.com to send,
                # scoped to this rule's ARN (narrower than upstream's service-wide grant).
                targets=[targets.SqsQueue(self.queue)],
            )
            for rule_id, (source, detail_type) in INTERRUPTION_EVENTS.items()
        }
