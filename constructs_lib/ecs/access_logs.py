"""The S3 bucket an internet-facing ALB of the ECS unit writes its access logs to (production).

A function rather than a construct of its own: the bucket sits directly in the caller's scope, so
its logical id stays the one a deployed, retained bucket already has.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib._shared.nag import acknowledge


def access_log_bucket(scope: Construct, construct_id: str, *, retention_days: int) -> s3.Bucket:
    """An ALB access log bucket. ELB writes with SSE-S3 only (no KMS), so it uses S3-managed keys.

    It is retained on `cdk destroy` whatever the stage: access logs are audit data, and a
    non-empty bucket would otherwise fail the stack's deletion. Versioned, so that an overwrite
    or a delete of a log object keeps the earlier version for the same retention.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
    """
    if retention_days < 1:
        raise ValueError(f"retention_days must be at least 1, got {retention_days}")
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        versioned=True,
        lifecycle_rules=[
            s3.LifecycleRule(
                expiration=cdk.Duration.days(retention_days),
                noncurrent_version_expiration=cdk.Duration.days(retention_days),
            )
        ],
    )
    acknowledge(
        bucket,
        {
            "AwsSolutions-S1": "This bucket is the load balancer's access log destination; logging "
            "its own access would need another bucket for no added audit value.",
        },
    )
    return bucket
