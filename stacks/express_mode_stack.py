"""ExpressMode stack: the web sample as an Amazon ECS Express Mode service over the same data stores.

Slide 27 of the talk: AWS's path for new customers since App Runner closed to them. The service
runs in this VPC (never the default VPC), with our security group, cluster, roles and log group.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from constructs_lib.web import ExpressWebService, ExpressWebServiceProps
from stacks.config.web import ExpressModeConfig
from stacks.web_front_end import WebFrontEndStack

SUBNETS = {"public": ec2.SubnetType.PUBLIC, "private": ec2.SubnetType.PRIVATE_WITH_EGRESS}


class ExpressModeStack(WebFrontEndStack):
    """The Express Mode service and the ingress rules that admit it to the data stores.

    Takes `data_stores` and `image_tag` as `WebFrontEndStack` does. Attributes: `web`.
    """

    # The skeleton of AppRunnerStack (both extend WebFrontEndStack), over another construct and section.
    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, config: ExpressModeConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.web = ExpressWebService(
            self,
            "Web",
            vpc=vpc,
            # Public subnets: Express Mode makes an internet-facing load balancer; private: internal.
            # In public subnets the tasks need public IPv4 addresses to pull the image, which Express
            # Mode gives them as it does in a default VPC (whose subnets have no NAT gateway).
            vpc_subnets=ec2.SubnetSelection(subnet_type=SUBNETS[config.access]),
            props=ExpressWebServiceProps(
                **self.sample_props,
                # The multi-arch tag: ECS picks the linux/amd64 image for its X86_64 tasks.
                tag=self.image_tag,
                cpu=config.cpu,
                memory_mib=config.memory_mib,
                min_tasks=config.min_tasks,
                max_tasks=config.max_tasks,
                scaling_metric=config.scaling_metric,
                scaling_target=config.scaling_target,
            ),
        )
        self.admit(self.web.security_group, "ECS Express Mode")

        cdk.CfnOutput(
            self,
            "Endpoint",
            value=self.web.endpoint,
            description="The Express service's endpoint (open it with https://)",
        )
