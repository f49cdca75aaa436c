"""The application's own ECR repository (talk: ECR), KMS-encrypted, immutable tags, images expiring.

The arm64/multi-arch image build pushes here. Scanning is left to the registry's enhanced scanning
configuration, which overrides any per-repository scan-on-push setting.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from constructs import Construct


class ApplicationRepository(ecr.Repository):
    """An `ecr.Repository` encrypted with `encryption_key`, tags immutable, with two lifecycle rules.

    Untagged images expire `untagged_expiry_days` after push, and only the `keep_last_images`
    newest images are kept. With the DESTROY removal policy (a sandbox) CloudFormation also deletes
    the images with the repository (native EmptyOnDelete), so `cdk destroy` leaves nothing.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository_name: str | None,
        encryption_key: kms.IKey,
        untagged_expiry_days: int,
        keep_last_images: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            repository_name=repository_name,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=encryption_key,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description=f"Expire untagged images {untagged_expiry_days} days after push",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=cdk.Duration.days(untagged_expiry_days),
                ),
                ecr.LifecycleRule(
                    rule_priority=2,
                    description=f"Keep only the {keep_last_images} newest images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=keep_last_images,
                ),
            ],
            removal_policy=removal_policy,
            empty_on_delete=True if removal_policy == cdk.RemovalPolicy.DESTROY else None,
        )
