"""The dual-stack VPC that every stack of the containers-update talk runs in.

IPv6 EKS needs every cluster and node subnet to carry both an IPv4 and an IPv6 CIDR, to assign
IPv6 addresses on creation, and to route IPv6 to the internet (an internet gateway for public
subnets, an egress-only internet gateway for private ones):
https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html. CDK's `ec2.Vpc` with
`IpProtocol.DUAL_STACK` builds exactly that (an Amazon-provided /56, one /64 per subnet); this
construct adds what it leaves out: DNS64 pinned off, flow logs encrypted with a key of its own,
endpoints and discovery tags.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.log_key import generated_names, logs_key_statement
from .._shared.resources import log_group, rotating_key

# Tags by which the AWS Load Balancer Controller finds subnets for internet-facing and internal
# load balancers: https://docs.aws.amazon.com/eks/latest/userguide/network-load-balancing.html
PUBLIC_ELB_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"
# Tag key by which Karpenter's EC2NodeClass selects subnets (the getting-started convention).
KARPENTER_DISCOVERY_TAG = "karpenter.sh/discovery"

# Interface endpoints the containers of this architecture call (ECR, logs, STS, SSM and ECS Exec,
# EKS, Karpenter's SQS and EC2 calls, secrets, keys). Any other name must be one CDK's
# `InterfaceVpcEndpointAwsService` knows, so a typo stops synth instead of failing the deploy.
INTERFACE_ENDPOINTS = (
    "ecr.api",
    "ecr.dkr",
    "logs",
    "sts",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "ec2",
    "eks",
    "eks-auth",
    "sqs",
    "secretsmanager",
    "kms",
)
# The subnet plan per AZ (public /22, private /19, isolated /24) fills a /16 for six AZs.
CIDR_PREFIX = 16
MIN_AZS, MAX_AZS = 2, 6


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
    # Zone names to use, as many as `max_azs`. Empty: the region's first `max_azs` zones, chosen
    # by CloudFormation at deploy time (`Fn::GetAZs`), so an environment-agnostic stack gets
    # `max_azs` zones too, not CDK's fallback of two. Name them where zones must never move: a zone
    # that appears in or drops out of the region's list would otherwise shift subnets on an update.
    # (`ec2.Vpc` still reads `Stack.availability_zones` to check the list: in a stack with a known
    # account that is a context lookup, unless the stack overrides it as the Network stack does.)
    availability_zones: Sequence[str] = ()
    # The customer-managed key that encrypts the flow log group. None: the construct makes a
    # rotating key whose policy admits CloudWatch Logs for this stack's generated group names only.
    # A key passed in must admit `logs.<region>.amazonaws.com` for the flow log group itself.
    flow_log_key: kms.IKey | None = None

    def __post_init__(self) -> None:
        # A string where a list belongs would otherwise be split into one-letter service names.
        _require(self, "cidr", str, "a CIDR block such as '10.0.0.0/16'")
        for name in ("max_azs", "nat_gateways"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, got {value!r}")
        _require(self, "flow_log_retention", logs.RetentionDays, "a logs.RetentionDays")
        _require(self, "removal_policy", cdk.RemovalPolicy, "a cdk.RemovalPolicy")
        for name, example in (
            ("interface_endpoints", "['ecr.api']"),
            ("availability_zones", "['us-east-1a']"),
        ):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise ValueError(f"{name} must be a list of strings such as {example}, got {value!r}")
            if not all(isinstance(item, str) for item in value):
                raise ValueError(f"{name} must hold strings only, got {list(value)!r}")
        tags = self.private_subnet_tags
        if not isinstance(tags, Mapping) or not all(isinstance(v, str) for kv in tags.items() for v in kv):
            raise ValueError(
                f"private_subnet_tags must map keys to strings such as {{'team': 'web'}}, got {tags!r}"
            )


def _require(props: DualStackVpcProps, name: str, kind: type, what: str) -> None:
    value = getattr(props, name)
    if not isinstance(value, kind):
        raise ValueError(f"{name} must be {what}, got {value!r}")


class DualStackVpc(Construct):
    """A VPC with public, private-with-egress and isolated tiers, each subnet IPv4 and IPv6.

    Attributes: `vpc` (the `ec2.Vpc`), `flow_log_group`, `flow_log_key`, `endpoint_security_group`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, props: DualStackVpcProps | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        props = props or DualStackVpcProps()
        try:
            cidr = ipaddress.IPv4Network(props.cidr)
        except ValueError:
            cidr = None
        if cidr is None or cidr.prefixlen != CIDR_PREFIX:
            raise ValueError(
                f"cidr must be an IPv4 /{CIDR_PREFIX} block such as 10.0.0.0/16 (the subnet plan fills it), "
                f"got {props.cidr!r}"
            )
        if not MIN_AZS <= props.max_azs <= MAX_AZS:
            raise ValueError(f"max_azs must be between {MIN_AZS} and {MAX_AZS}, got {props.max_azs}")
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
        if len(set(props.availability_zones)) != len(props.availability_zones):
            raise ValueError(
                f"availability_zones must not repeat a zone, got {list(props.availability_zones)}"
            )
        if len(set(props.interface_endpoints)) != len(props.interface_endpoints):
            raise ValueError(
                f"interface_endpoints must not repeat a service, got {list(props.interface_endpoints)}"
            )
        for name in props.interface_endpoints:
            _check_endpoint_name(name)
        # Without pinned zones, `max_azs` would take the stack's zones, and an environment-agnostic
        # stack offers only two: a third AZ would be dropped without a word. Fn::GetAZs at deploy
        # time gives every stack `max_azs` zones and needs no lookup at synth.
        zones = list(props.availability_zones) or [
            cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(props.max_azs)
        ]

        self.vpc = ec2.Vpc(
            self,
            "Resource",
            ip_addresses=ec2.IpAddresses.cidr(props.cidr),
            ip_protocol=ec2.IpProtocol.DUAL_STACK,
            availability_zones=zones,
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

        self.flow_log_key = props.flow_log_key or self._flow_log_key(props.removal_policy)
        self.flow_log_group = log_group(
            self,
            "FlowLogs",
            retention=props.flow_log_retention,
            removal_policy=props.removal_policy,
            encryption_key=self.flow_log_key,
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

    def _flow_log_key(self, removal_policy: cdk.RemovalPolicy) -> kms.Key:
        """A rotating key that CloudWatch Logs may use for this stack's generated group names only.

        The condition names the group the way CloudFormation names it (`generated_names`):
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        """
        key = rotating_key(
            self, "FlowLogKey", description="Encrypts the VPC flow log group", removal_policy=removal_policy
        )
        key.add_to_resource_policy(
            logs_key_statement(self, generated_names(self), sid="CloudWatchLogsForThisStacksGroups")
        )
        return key


def _check_endpoint_name(name: str) -> None:
    """Refuse a service name that is neither in `INTERFACE_ENDPOINTS` nor in CDK's catalogue."""
    if name in INTERFACE_ENDPOINTS:
        return
    known = _cdk_endpoint_services()
    if name not in known:
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"interface_endpoints must name AWS services such as 'ecr.dkr'{hint}, got {name!r}")


@functools.cache
def _cdk_endpoint_services() -> frozenset[str]:
    # Some 400 services, read through jsii (most of a second): only for names off the short list.
    catalogue = ec2.InterfaceVpcEndpointAwsService
    services = (getattr(catalogue, attribute) for attribute in dir(catalogue) if attribute.isupper())
    return frozenset(
        service.short_name for service in services if isinstance(service, ec2.InterfaceVpcEndpointAwsService)
    )


def _endpoint_id(service_name: str) -> str:
    """`ecr.dkr` -> `EcrDkr`: a stable construct id per endpoint."""
    return "".join(part.capitalize() for part in service_name.replace("-", ".").split("."))
