"""DataStores stack: Aurora Serverless v2 and Valkey serverless in isolated subnets; the web sample's image.

Slide 28 of the talk, composed from `constructs_lib/data`. Both web front ends (the AppRunner and
ExpressMode stacks) run the sample built here and reach these stores; this stack knows neither of
them: each front end adds its own ingress rules on the stores' security groups (`admit`), so
either one deploys and destroys alone.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from constructs_lib._shared.log_key import admit_generated_groups
from constructs_lib._shared.resources import rotating_key
from constructs_lib.data import (
    ServerlessPostgres,
    ServerlessPostgresProps,
    ServerlessValkey,
    ServerlessValkeyProps,
)
from constructs_lib.ecs import MultiArchImageBuild, MultiArchImageBuildProps
from constructs_lib.web import SAMPLE_APP_DIR
from stacks.config.web import WebConfig
from stacks.stage import StageStack


class DataStoresStack(StageStack):
    """The private data stores of the web feature, the sample's repository and its image build.

    Attributes: `postgres`, `valkey`, `key`, `repository`, `image_build`.
    """

    # The usual stack signature (see StageStack), as EksStack's.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        config: WebConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = self.settings
        removal_policy = settings.removal_policy

        self.key = rotating_key(
            self,
            "Key",
            description="Encrypts the web data stores, their credentials and the stack's log groups",
            removal_policy=removal_policy,
        )
        # Also the image build's log group, whose name CloudFormation makes.
        admit_generated_groups(self.key, self)
        aurora, valkey = config.aurora, config.valkey
        self.postgres = ServerlessPostgres(
            self,
            "Postgres",
            vpc=vpc,
            props=ServerlessPostgresProps(
                engine_version=aurora.engine_version,
                min_capacity=aurora.min_capacity,
                max_capacity=aurora.max_capacity,
                auto_pause=cdk.Duration.minutes(aurora.auto_pause_minutes),
                encryption_key=self.key,
                log_retention=settings.log_retention,
                # Production keeps a final snapshot (with the key and secret to restore it).
                removal_policy=cdk.RemovalPolicy.DESTROY if settings.sandbox else cdk.RemovalPolicy.SNAPSHOT,
                deletion_protection=settings.deletion_protection,
            ),
        )
        # Shaped like Postgres above (and other stacks' props): each store's own props, set by name.
        self.valkey = ServerlessValkey(
            self,
            "Valkey",
            vpc=vpc,
            props=ServerlessValkeyProps(
                major_engine_version=valkey.major_engine_version,
                max_data_storage_gb=valkey.max_data_storage_gb,
                max_ecpu_per_second=valkey.max_ecpu_per_second,
                encryption_key=self.key,
                snapshot_retention_days=valkey.snapshot_retention_days,
                removal_policy=removal_policy,
            ),
        )

        # Immutable tags: a front end names one tag, and that tag never changes under it.
        self.repository = ecr.Repository(
            self,
            "Repository",
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description="Expire untagged images after a week",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=cdk.Duration.days(7),
                )
            ],
            removal_policy=removal_policy,
            # Sandbox: CloudFormation deletes the images with the repository (native EmptyOnDelete).
            empty_on_delete=True if settings.sandbox else None,
        )
        self.image_build = MultiArchImageBuild(
            self,
            "ImageBuild",
            props=MultiArchImageBuildProps(
                repository=self.repository,
                source_dir=SAMPLE_APP_DIR,
                multi_arch=True,
                encryption_key=self.key,
                log_retention=settings.log_retention,
                log_encryption_key=self.key,
                removal_policy=removal_policy,
            ),
        )

        cdk.CfnOutput(
            self,
            "BuildCommand",
            value=f"{self.image_build.start_build_command} "
            f"--environment-variables-override name=IMAGE_TAG,value={config.image_tag}",
            description="Builds the web sample (arm64 and amd64) under the tag the front ends run",
        )
        cdk.CfnOutput(self, "DatabaseSecretArn", value=self.postgres.secret.secret_arn)
        cdk.CfnOutput(self, "ValkeyEndpoint", value=self.valkey.endpoint)
