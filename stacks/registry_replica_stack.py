"""RegistryReplica stack: the creation templates that shape ECR's replicas in the destination region.

Deployed to `registry.replication.destination_region` (same account) beside the Registry stack,
which owns the replication configuration and depends on this stack. A repository creation
template is a setting of one registry (account and region), and replication creates the replica
repository in the destination registry, so only a template there shapes the replicas; the KMS
key it names must be in that region too.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-settings.html
https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_EncryptionConfigurationForRepositoryCreationTemplate.html

Teardown: `cdk destroy` deletes the Registry stack first (it depends on this one); in the
sandbox its cleanup custom resource deletes the replicas here (ECR retires their grants on this
stack's key with the cleanup role's `kms:RetireGrant`, allowed in this region through ECR only),
then this stack deletes the templates and schedules the key for deletion, so no replica
outlives its key. If a replica cannot be deleted, the Registry delete fails and this stack,
with its key, stays.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_ecr as ecr
from constructs import Construct

from stacks.config.registry import RegistryConfig
from stacks.registry_stack import creation_templates
from stacks.stage import StageStack


class RegistryReplicaStack(StageStack):
    """REPLICATION creation templates, their KMS key and their ECR role, in the destination region.

    One template per replicated namespace (`registry.replication.repository_prefixes` that end
    in `/`): KMS encryption with this stack's key, the Registry's lifecycle policy, and
    immutable tags. Attributes: `key`, `templates`.
    """

    # The usual stack signature (see StageStack): the registry section alone, as RegistryStack's.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: RegistryConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        prefixes = config.replication.template_prefixes
        if not prefixes:
            raise ValueError(
                "repository_prefixes must include a prefix ending in '/' for a replica template, "
                f"got {list(config.replication.repository_prefixes)}"
            )

        # Retained in production with the replicas it encrypts; in the sandbox it is scheduled
        # for deletion only after the Registry stack's cleanup has deleted the replicas.
        self.key, self.templates = creation_templates(
            self,
            config,
            key_description="Encrypts the repositories that ECR replication creates in this region",
        )
        for i, prefix in enumerate(prefixes):
            # IMMUTABLE, like the application repository the replicas come from: a replica
            # tag must never point at something other than its source tag.
            self.templates.add(
                f"Replica{i}",
                prefix=prefix,
                applied_for=["REPLICATION"],
                image_tag_mutability=ecr.TagMutability.IMMUTABLE,
                description="Repositories that replication creates in this region",
            )
