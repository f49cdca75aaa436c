"""AppRunner stack: the web sample on App Runner, reaching the data stores through a VPC connector.

Slides 26-28 of the talk. Only accounts that used App Runner before it closed to new customers
(2026-04-30) can create the service; the stack is synthesized with the others and deployed only
when named (`make deploy STACK=AppRunner`).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.data import ServerlessPostgres, ServerlessValkey
from constructs_lib.web import AppRunnerWebService, AppRunnerWebServiceProps
from constructs_lib.web.sample import (
    DATABASE_NAME_VARIABLE,
    DATABASE_SECRET_VARIABLE,
    PORT,
    VALKEY_READER_VARIABLE,
    VALKEY_VARIABLE,
)
from stacks.config.web import AppRunnerConfig


class AppRunnerStack(cdk.Stack):
    """The App Runner service, its VPC connector, and the ingress rules that admit it to the data stores.

    Attributes: `web`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        postgres: ServerlessPostgres,
        valkey: ServerlessValkey,
        repository: ecr.IRepository,
        image_tag: str,
        config: AppRunnerConfig,
        log_retention: logs.RetentionDays,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.web = AppRunnerWebService(
            self,
            "Web",
            vpc=vpc,
            props=AppRunnerWebServiceProps(
                repository=repository,
                # App Runner runs x86_64: the build's per-platform amd64 tag.
                tag=f"{image_tag}-amd64",
                port=PORT,
                cpu=config.cpu,
                memory=config.memory,
                min_instances=config.min_instances,
                max_instances=config.max_instances,
                max_concurrency=config.max_concurrency,
                environment={
                    DATABASE_NAME_VARIABLE: postgres.database_name,
                    VALKEY_VARIABLE: valkey.endpoint,
                    VALKEY_READER_VARIABLE: valkey.reader_endpoint,
                },
                secrets={DATABASE_SECRET_VARIABLE: postgres.secret},
                log_retention=log_retention,
                removal_policy=removal_policy,
            ),
        )
        # Rules owned here: destroying this stack removes them, and the data stores never wait on it.
        postgres.admit(self, "PostgresIngress", peer=self.web.security_group, description="App Runner")
        valkey.admit(self, "ValkeyIngress", peer=self.web.security_group, description="App Runner")

        cdk.CfnOutput(
            self, "ServiceUrl", value=self.web.url, description="The App Runner service (dual-stack)"
        )
        cdk.CfnOutput(
            self,
            "DataUrl",
            value=f"{self.web.url}/data",
            description="Connects to PostgreSQL and Valkey and reports what it reached",
        )
