"""Network stack: the shared dual-stack VPC that the ECS, EKS and App Runner stacks run in."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.network import DualStackVpc, DualStackVpcProps


class NetworkStack(cdk.Stack):
    """Owns the VPC; other stacks receive `vpc` from it in `app.py` and CDK makes the exports."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DualStackVpcProps, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = DualStackVpc(self, "Vpc", props=props)
        self.vpc = self.network.vpc
        self.discovery_tags = dict(props.private_subnet_tags)
