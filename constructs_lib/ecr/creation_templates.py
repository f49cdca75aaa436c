"""Repository creation templates: how ECR shapes the repositories it creates itself (talk: ECR).

Pull-through cache and replication create repositories on ECR's own initiative; a creation
template whose prefix matches gives them encryption, a lifecycle policy and tag mutability at
creation (later template changes do not touch existing repositories). A template that uses a
customer managed KMS key or resource tags needs a role that ECR assumes.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .._shared.resources import service_role

APPLIED_FOR = ("PULL_THROUGH_CACHE", "REPLICATION", "CREATE_ON_PUSH")
_PREFIX = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*|ROOT")

# What the custom role may do, as AWS documents it for creation templates:
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-custom.html
ROLE_ECR_ACTIONS = ("ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource")
ROLE_KMS_ACTIONS = ("kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey")


def lifecycle_policy(*, untagged_expiry_days: int, keep_last_images: int) -> str:
    """An ECR lifecycle policy (JSON text): expire untagged images, keep the newest images.

    https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
    """
    if not 1 <= untagged_expiry_days <= 3650:
        raise ValueError(f"untagged_expiry_days must be between 1 and 3650, got {untagged_expiry_days}")
    if not 1 <= keep_last_images <= 10000:
        raise ValueError(f"keep_last_images must be between 1 and 10000, got {keep_last_images}")
    rules = [
        {
            "rulePriority": 1,
            "description": f"Expire untagged images {untagged_expiry_days} days after push",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": untagged_expiry_days,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"Keep only the {keep_last_images} newest images",
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": keep_last_images,
            },
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules}, separators=(",", ":"))


class RepositoryCreationTemplates(Construct):
    """Creation templates that share one KMS key, one lifecycle policy and one ECR-trusted role.

    Add one template per prefix with `add(...)`. Every template encrypts with `encryption_key`
    (a customer managed key: give it rotation) and carries the same lifecycle policy (untagged
    images expire after `untagged_expiry_days`, default 7; only the newest `keep_last_images`,
    default 30, are kept). The role, trusted by `ecr.amazonaws.com`, gets exactly the actions AWS
    documents for it, narrowed to the repositories under the templates' prefixes and to the key.

    A template acts in the registry (account and region) that it belongs to, and its KMS key
    must be in that region. A REPLICATION template therefore shapes the repositories that
    replication creates *in this region*: put it in the destination region's stack, not in the
    stack that owns the replication configuration.

    Attributes: `role`, `templates` (prefix -> `CfnRepositoryCreationTemplate`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        untagged_expiry_days: int = 7,
        keep_last_images: int = 30,
    ) -> None:
        super().__init__(scope, construct_id)
        self._key = encryption_key
        self._lifecycle = lifecycle_policy(
            untagged_expiry_days=untagged_expiry_days, keep_last_images=keep_last_images
        )
        self.templates: dict[str, ecr.CfnRepositoryCreationTemplate] = {}
        self.role = service_role(
            self,
            "Role",
            "ecr.amazonaws.com",
            description="Assumed by Amazon ECR to create repositories from creation templates",
        )
        # Attached with the first template: a statement without resources would be invalid.
        self._repositories = iam.PolicyStatement(actions=list(ROLE_ECR_ACTIONS))
        self._key_use = iam.PolicyStatement(
            actions=list(ROLE_KMS_ACTIONS), resources=[encryption_key.key_arn]
        )

    def add(
        self,
        construct_id: str,
        *,
        prefix: str,
        applied_for: Sequence[str],
        image_tag_mutability: ecr.TagMutability,
        description: str | None = None,
    ) -> ecr.CfnRepositoryCreationTemplate:
        """A template for repositories created under `prefix/` in the given scenarios."""
        if prefix in self.templates:
            raise ValueError(f"prefix must be unique among templates, got {prefix!r} twice")
        if not (len(prefix) <= 256 and _PREFIX.fullmatch(prefix)):
            raise ValueError(f"prefix must be a repository name prefix (or ROOT), got {prefix!r}")
        if not applied_for or any(a not in APPLIED_FOR for a in applied_for):
            raise ValueError(
                f"applied_for must list some of {', '.join(APPLIED_FOR)}, got {list(applied_for)}"
            )
        pattern = "*" if prefix == "ROOT" else f"{prefix}/*"
        if not self.templates:
            self.role.add_to_principal_policy(self._repositories)
            self.role.add_to_principal_policy(self._key_use)
        self._repositories.add_resources(
            f"arn:{cdk.Aws.PARTITION}:ecr:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:repository/{pattern}"
        )
        policy = self.role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, iam.CfnPolicy)
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/{pattern}]",
                reason=(
                    f"ECR creates repositories under {prefix}/ on its own (cache pulls, replication), with "
                    "names not known in advance; the role may create and tag only those (AWS's template role "
                    "policy uses *)."
                ),
            )
        )
        template = ecr.CfnRepositoryCreationTemplate(
            self,
            construct_id,
            prefix=prefix,
            applied_for=list(applied_for),
            description=description,
            encryption_configuration=ecr.CfnRepositoryCreationTemplate.EncryptionConfigurationProperty(
                encryption_type="KMS", kms_key=self._key.key_arn
            ),
            image_tag_mutability=image_tag_mutability.value,
            lifecycle_policy=self._lifecycle,
            custom_role_arn=self.role.role_arn,
        )
        # ECR checks the role when the template is created: its policy must exist first.
        template.node.add_dependency(self.role)
        self.templates[prefix] = template
        return template
