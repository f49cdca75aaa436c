"""The dual-stack VPC that every stack of the containers-update talk runs in.

IPv6 EKS needs every cluster and node subnet to carry both an IPv4 and an IPv6 CIDR, to assign
IPv6 addresses on creation, and to route IPv6 to the internet (an internet gateway for public
subnets, an egress-only internet gateway for private ones):
https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html. CDK's `ec2.Vpc` with
`IpProtocol.DUAL_STACK` builds exactly that (an Amazon-provided /56, one /64 per subnet); this
construct adds what it leaves out: DNS64 pinned off, flow logs, endpoints and discovery tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

# Tags by which the AWS Load Balancer Controller finds subnets for internet-facing and internal
# load balancers: https://docs.aws.amazon.com/eks/latest/userguide/network-load-balancing.html
PUBLIC_ELB_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"
# Tag key by which Karpenter's EC2NodeClass selects subnets (the getting-started convention).
KARPENTER_DISCOVERY_TAG = "karpenter.sh/discovery"


@dataclass(frozen=True)
class DualStackVpcProps:
    """Settings of a `DualStackVpc`.

    The defaults are a cheap sandbox: two AZs and a single NAT gateway (about 0.062 USD per hour
    in ap-northeast-1, plus data), no interface endpoints, and flow logs kept for a week.
    """

    cidr: str = "10.0.0.0/16"
    max_azs: int = 2
    # One NAT gateway serves every AZ's IPv4 egress; use max_azs gateways in production so an
    # AZ outage does not cut the others off. IPv6 egress never needs NAT (egress-only gateway).
    nat_gateways: int = 1
    flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # The flow log group is deleted with the stack unless told otherwise; a sandbox leaves
    # nothing behind, production passes RETAIN to keep the audit trail.
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY
    # Interface endpoints (for example `ecr.api`, `ecr.dkr`, `logs`); none by default because each
    # costs per AZ per hour. The S3 gateway endpoint is always there: it is free and carries ECR's
    # image layers.
    interface_endpoints: Sequence[str] = ()
    # Tags put on the private subnets (and nothing else), such as `karpenter.sh/discovery`.
    private_subnet_tags: Mapping[str, str] = field(default_factory=dict)
    # Zone names to use, as many as `max_azs`. Empty: the first `max_azs` zones of the stack
    # (`Stack.availability_zones`). Name them where zones must never move: a zone that appears
    # in or drops out of the region's list would otherwise shift subnets on a later update.
    availability_zones: Sequence[str] = ()


class DualStackVpc(Construct):
    """A VPC with public, private-with-egress and isolated tiers, each subnet IPv4 and IPv6.

    Attributes: `vpc` (the `ec2.Vpc`), `flow_log_group`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, props: DualStackVpcProps | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or DualStackVpcProps()
        if props.nat_gateways < 1:
            raise ValueError(f"nat_gateways must be at least 1 (for IPv4 egress), got {props.nat_gateways}")
        if props.nat_gateways > props.max_azs:
            raise ValueError(
                f"nat_gateways must not exceed max_azs ({props.max_azs}), got {props.nat_gateways}"
            )
        if props.availability_zones and len(props.availability_zones) != props.max_azs:
            raise ValueError(
                f"availability_zones must name max_azs ({props.max_azs}) zones, "
                f"got {list(props.availability_zones)}"
            )
        zones: dict[str, Any] = (
            {"availability_zones": list(props.availability_zones)}
            if props.availability_zones
            else {"max_azs": props.max_azs}
        )

        self.vpc = ec2.Vpc(
            self,
            "Resource",
            ip_addresses=ec2.IpAddresses.cidr(props.cidr),
            ip_protocol=ec2.IpProtocol.DUAL_STACK,
            **zones,
            nat_gateways=props.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=22),
                ec2.SubnetConfiguration(
                    name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=19
                ),
                ec2.SubnetConfiguration(
                    name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            enable_dns_hostnames=True,
            enable_dns_support=True,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )

        for subnet in self.vpc.public_subnets:
            cdk.Tags.of(subnet).add(PUBLIC_ELB_TAG, "1")
        for subnet in self.vpc.private_subnets:
            cdk.Tags.of(subnet).add(INTERNAL_ELB_TAG, "1")
            for key, value in props.private_subnet_tags.items():
                cdk.Tags.of(subnet).add(key, value)
            # Pods of an IPv6 cluster reach IPv4 services through the node's own IPv4 address,
            # so DNS64 would only send IPv4-only endpoints through NAT64 on the NAT gateway and
            # bill its data processing. CloudFormation defaults to off; pin it so nobody flips it.
            cfn_subnet = subnet.node.default_child
            assert isinstance(cfn_subnet, ec2.CfnSubnet)
            cfn_subnet.enable_dns64 = False

        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=props.flow_log_retention,
            removal_policy=props.removal_policy,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        self.endpoint_security_group: ec2.SecurityGroup | None = None
        if props.interface_endpoints:
            # One group for all endpoints: HTTPS from the VPC's IPv4 block, written out rather than
            # referenced so that reviewers (and cdk-nag) see exactly what is open. IPv6-only pods
            # reach these IPv4 endpoints through their node's IPv4 address, so IPv4 is enough.
            self.endpoint_security_group = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=self.vpc,
                description="Interface endpoints: HTTPS from inside the VPC",
                allow_all_outbound=False,
            )
            self.endpoint_security_group.add_ingress_rule(
                ec2.Peer.ipv4(props.cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
            )
        for name in props.interface_endpoints:
            self.vpc.add_interface_endpoint(
                _endpoint_id(name),
                service=ec2.InterfaceVpcEndpointAwsService(name),
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                private_dns_enabled=True,
                security_groups=[self.endpoint_security_group] if self.endpoint_security_group else None,
                open=False,
            )


def _endpoint_id(service_name: str) -> str:
    """`ecr.dkr` -> `EcrDkr`: a stable construct id per endpoint."""
    return "".join(part.capitalize() for part in service_name.replace("-", ".").split("."))
