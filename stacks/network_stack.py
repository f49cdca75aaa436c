"""Network stack: the shared dual-stack VPC that the ECS, EKS and App Runner stacks run in."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.network import DualStackVpc, DualStackVpcProps


class NetworkStack(cdk.Stack):
    """Owns the VPC; other stacks receive `vpc` from it in `app.py` and CDK makes the exports."""

    def __init__(
        self, scope: Construct, construct_id: str, *, props: DualStackVpcProps, **kwargs: Any
    ) -> None:
        self._az_count = props.max_azs
        super().__init__(scope, construct_id, **kwargs)
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
