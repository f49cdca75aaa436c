"""The acknowledgment check in test_validators must catch what it is there to catch."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

from tests.conftest import Synthesized
from tests.test_validators import acknowledgments


def test_acknowledgments_are_read_with_their_rule_and_reason(tmp_path: Path) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    queue = sqs.Queue(stack, "Queue")
    cdk.Validations.of(queue).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-SQS3", reason="this queue is itself a dead-letter queue for tests"
        )
    )
    cdk.Validations.of(stack).acknowledge(cdk.Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason="x"))
    cdk.Validations.of(queue).acknowledge(
        cdk.Acknowledgment(id="CloudFormation-Validate::F3002", reason="cdk")
    )
    found = acknowledgments(Synthesized(app=app, stacks={"S": stack}, outdir=tmp_path, error=None))
    assert ("S/Queue", "AwsSolutions-SQS3", "this queue is itself a dead-letter queue for tests") in found
    assert ("S", "AwsSolutions-IAM5[Resource::*]", "x") in found
    assert all(rule_id.startswith("AwsSolutions-") for _, rule_id, _ in found)
