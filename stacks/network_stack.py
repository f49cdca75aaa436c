"""Network stack: the shared dual-stack VPC that the ECS, EKS and App Runner stacks run in."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.network import DualStackVpc, DualStackVpcProps
from constructs_lib.network.dual_stack_vpc import KARPENTER_DISCOVERY_TAG
from stacks.config.common import LOG_RETENTION_DAYS
from stacks.config.network import NetworkConfig
from stacks.stage import StageStack


class NetworkStack(StageStack):
    """Owns the VPC; other stacks receive `vpc` from it in `app.py` and CDK makes the exports."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: NetworkConfig,
        **kwargs: Any,
    ) -> None:
        self._az_count = config.max_azs
        super().__init__(scope, construct_id, **kwargs)
        # The section's own retention for the flow logs, else the stage's.
        flow_log_retention_days = config.flow_log_retention_days or self.settings.log_retention_days
        props = DualStackVpcProps(
            cidr=config.cidr,
            max_azs=config.max_azs,
            nat_gateways=config.nat_gateways,
            flow_log_retention=LOG_RETENTION_DAYS[flow_log_retention_days],
            removal_policy=self.settings.removal_policy,
            interface_endpoints=config.interface_endpoints,
            private_subnet_tags={KARPENTER_DISCOVERY_TAG: config.discovery_tag},
            availability_zones=config.availability_zones,
        )
        self.network = DualStackVpc(self, "Vpc", props=props)
        self.vpc = self.network.vpc
        self.discovery_tags = dict(props.private_subnet_tags)

    @property
    def availability_zones(self) -> list[str]:
        """The first `max_azs` zones of the region, resolved by CloudFormation at deploy time.

        The VPC construct picks its zones with `Fn::GetAZs` itself; `ec2.Vpc` still reads the
        stack's zones to check them, and CDK would then ask the CLI to look the zones up whenever
        an account is known (a network call at synth). Zone names are per account anyway
        (ap-northeast-1b is not offered to newer accounts), so deploy time is the moment.
        """
        return [cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(self._az_count)]
