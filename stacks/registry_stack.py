"""Registry stack: ECR enhanced scanning, finding alerts, pull-through cache, creation templates, replication.

The only owner of the registry-wide singletons of its account and region (scanning and
replication configurations, cache rules, creation templates). Consumers (EcsFargate, Eks) get
`pull_through_cache` and `app_repository` from it in `app.py`. The creation templates of the
replicas live in the destination region, in the RegistryReplica stack that this one depends on.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from constructs_lib.ecr import (
    ApplicationRepository,
    CleanupTarget,
    CreatedRepositoryCleanup,
    CrossRegionReplication,
    EnhancedScanning,
    PullThroughCache,
    RepositoryCreationTemplates,
    ScanFindingAlerts,
)
from stacks.config.registry import RegistryConfig
from stacks.keys import stack_key
from stacks.stage import StageStack


class RegistryStack(StageStack):
    """ECR for the whole account and region, plus the application repository.

    Attributes: `pull_through_cache` (`PullThroughCache`), `app_repository` (`ApplicationRepository`),
    `key` (the KMS key of the application and template-made repositories), `scanning`,
    `findings`, `templates`, `replication` (None when disabled).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: RegistryConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal_policy = self.settings.removal_policy

        self.scanning = EnhancedScanning(
            self,
            "Scanning",
            continuous_filters=config.scanning.continuous_filters,
            scan_on_push_filters=config.scanning.scan_on_push_filters,
            # Apart from the stage's removal policy: whether the account may deactivate
            # Inspector depends on its Organization, not on the stage.
            removal_policy=(
                cdk.RemovalPolicy.RETAIN if config.scanning.retain_on_delete else cdk.RemovalPolicy.DESTROY
            ),
        )
        self.findings = ScanFindingAlerts(
            self,
            "Findings",
            minimum_severity=config.findings.minimum_severity,
            email=config.findings.email,
            removal_policy=removal_policy,
        )

        ptc = config.pull_through_cache
        self.pull_through_cache = PullThroughCache(
            self,
            "PullThroughCache",
            upstreams=ptc.upstreams,
            # Secrets are referenced by ARN, never created here: their values stay out of templates.
            credentials={
                upstream: secretsmanager.Secret.from_secret_complete_arn(
                    self, f"{_pascal(upstream)}Credentials", secret_arn
                )
                for upstream, secret_arn in ptc.credentials.items()
            },
        )

        self.key, self.templates = creation_templates(
            self,
            config,
            key_description="Encrypts the application repository and the repositories ECR creates "
            "from templates",
        )
        for upstream, prefix in self.pull_through_cache.prefixes.items():
            # MUTABLE: a cached tag follows its upstream (ECR re-points `nginx:stable` when the
            # upstream moves it); with IMMUTABLE the cache could never refresh a moved tag.
            # The untagged images a refresh leaves behind expire by the lifecycle policy.
            self.templates.add(
                f"Cache{_pascal(upstream)}",
                prefix=prefix,
                applied_for=["PULL_THROUGH_CACHE"],
                image_tag_mutability=ecr.TagMutability.MUTABLE,
                description=f"Repositories cached from {upstream}",
            )

        self.replication: CrossRegionReplication | None = None
        if config.replication.enabled:
            self.replication = CrossRegionReplication(
                self,
                "Replication",
                destination_region=config.replication.destination_region,
                repository_prefixes=config.replication.repository_prefixes,
            )
            # No REPLICATION template here: replication only flows out of this region, and the
            # replicas are created (and shaped by the templates) in the destination registry,
            # which the RegistryReplica stack sets up.

        self.app_repository = ApplicationRepository(
            self,
            "AppRepository",
            repository_name=config.application_repository,
            encryption_key=self.key,
            untagged_expiry_days=config.lifecycle.untagged_expiry_days,
            keep_last_images=config.lifecycle.keep_last_images,
            removal_policy=removal_policy,
        )

        if self.settings.sandbox:
            # Cached and replicated repositories are not CloudFormation resources: delete them
            # with the stack, or they outlive the key they are encrypted with.
            targets = [
                CleanupTarget(f"{prefix}/", encryption_key=self.key)
                for prefix in self.pull_through_cache.prefixes.values()
            ]
            if self.replication is not None:
                # Every replication filter as written, with or without a trailing `/`: whatever
                # replicates is cleaned up. Replicas under a template prefix are encrypted with
                # the RegistryReplica stack's key; this stack depends on that one, so `cdk
                # destroy` deletes them here before that key goes. That key is in another
                # region: no reference, the grant is scoped through ECR.
                targets += [
                    CleanupTarget(prefix, region=self.replication.destination_region)
                    for prefix in self.replication.repository_prefixes
                ]
            self.cleanup = CreatedRepositoryCleanup(
                self, "CreatedRepositoryCleanup", targets=targets, log_retention=self.settings.log_retention
            )
            # Deleted first: after the rules and replication stop making repositories.
            self.cleanup.node.add_dependency(self.pull_through_cache, self.templates, self.key)
            if self.replication is not None:
                self.cleanup.node.add_dependency(self.replication)

        cdk.CfnOutput(self, "AppRepositoryUri", value=self.app_repository.repository_uri)
        cdk.CfnOutput(self, "FindingsTopicArn", value=self.findings.topic.topic_arn)
        for upstream in self.pull_through_cache.prefixes:
            cdk.CfnOutput(
                self,
                f"CachePrefix{_pascal(upstream)}",
                value=self.pull_through_cache.prefix_uri(upstream),
                description=f"Pull {upstream} images through this prefix",
            )


def creation_templates(
    stack: StageStack, config: RegistryConfig, *, key_description: str
) -> tuple[kms.Key, RepositoryCreationTemplates]:
    """A region's repository key (`RepositoryKey`) and the creation templates that name it.

    The Registry stack and, in the replication destination, the RegistryReplica stack each make
    one: a template and the key it names must be in the region where ECR creates the repository.
    The templates give what they create the registry's lifecycle policy.
    """
    key = stack_key(
        stack, "RepositoryKey", description=key_description, removal_policy=stack.settings.removal_policy
    )
    templates = RepositoryCreationTemplates(
        stack,
        "CreationTemplates",
        encryption_key=key,
        untagged_expiry_days=config.lifecycle.untagged_expiry_days,
        keep_last_images=config.lifecycle.keep_last_images,
    )
    return key, templates


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
