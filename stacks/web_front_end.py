"""What the web sample's two front ends, the AppRunner and ExpressMode stacks, share.

Both run the image that the DataStores stack builds, hand it the same settings (the database
name and Valkey endpoints as variables, the credentials as a secret), and admit their own
security group to both stores with ingress rules that the front end's stack owns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from constructs_lib.web.sample import (
    DATABASE_NAME_VARIABLE,
    DATABASE_SECRET_VARIABLE,
    PORT,
    VALKEY_READER_VARIABLE,
    VALKEY_VARIABLE,
)
from stacks.data_stores_stack import DataStoresStack
from stacks.stage import StageStack


class SampleProps(TypedDict):
    """The props both front-end constructs take under these names, as the sample needs them."""

    repository: ecr.IRepository
    port: int
    environment: Mapping[str, str]
    secrets: Mapping[str, secretsmanager.ISecret]
    log_retention: logs.RetentionDays
    removal_policy: cdk.RemovalPolicy


class WebFrontEndStack(StageStack):
    """A front end of the web sample over the DataStores stack; the subclass creates the service.

    The subclass spreads `sample_props` into its construct's props, names the image tag, and calls
    `admit` with the service's security group. Attributes: `data_stores`, `image_tag`,
    `sample_props`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_stores: DataStoresStack,
        image_tag: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.data_stores = data_stores
        self.image_tag = image_tag
        postgres, valkey = data_stores.postgres, data_stores.valkey
        self.sample_props = SampleProps(
            repository=data_stores.repository,
            port=PORT,
            environment={
                DATABASE_NAME_VARIABLE: postgres.database_name,
                VALKEY_VARIABLE: valkey.endpoint,
                VALKEY_READER_VARIABLE: valkey.reader_endpoint,
            },
            secrets={DATABASE_SECRET_VARIABLE: postgres.secret},
            log_retention=self.settings.log_retention,
            removal_policy=self.settings.removal_policy,
        )

    def admit(self, peer: ec2.ISecurityGroup, description: str) -> None:
        """Let `peer` reach both stores, through rules created in this stack.

        Rules owned here: destroying this stack removes them, and the data stores never wait on it.
        """
        self.data_stores.postgres.admit(self, "PostgresIngress", peer=peer, description=description)
        self.data_stores.valkey.admit(self, "ValkeyIngress", peer=peer, description=description)
