"""AppRunner stack: the web sample on App Runner, reaching the data stores through a VPC connector.

Slides 26-28 of the talk. Only accounts that used App Runner before it closed to new customers
(2026-04-30) can create the service; the stack is synthesized with the others and deployed only
when named (`make deploy STACK=AppRunner`).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from constructs_lib.web import AppRunnerWebService, AppRunnerWebServiceProps
from stacks.config.web import AppRunnerConfig
from stacks.web_front_end import WebFrontEndStack


class AppRunnerStack(WebFrontEndStack):
    """The App Runner service, its VPC connector, and the ingress rules that admit it to the data stores.

    Takes `data_stores` and `image_tag` as `WebFrontEndStack` does. Attributes: `web`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, config: AppRunnerConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.web = AppRunnerWebService(
            self,
            "Web",
            vpc=vpc,
            props=AppRunnerWebServiceProps(
                **self.sample_props,
                # App Runner runs x86_64: the build's per-platform amd64 tag.
                tag=f"{self.image_tag}-amd64",
                cpu=config.cpu,
                memory=config.memory,
                min_instances=config.min_instances,
                max_instances=config.max_instances,
                max_concurrency=config.max_concurrency,
            ),
        )
        self.admit(self.web.security_group, "App Runner")

        cdk.CfnOutput(
            self, "ServiceUrl", value=self.web.url, description="The App Runner service (dual-stack)"
        )
        cdk.CfnOutput(
            self,
            "DataUrl",
            value=f"{self.web.url}/data",
            description="Connects to PostgreSQL and Valkey and reports what it reached",
        )
