"""Configuration of the Network stack: the shared dual-stack VPC."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from constructs_lib.network.dual_stack_vpc import INTERFACE_ENDPOINTS, MAX_AZS, MIN_AZS
from stacks.config.common import LOG_RETENTION_CHOICES
from stacks.config.loader import fail, setting


@dataclass(frozen=True)
class NetworkConfig:
    """The VPC that every other stack runs in."""

    cidr: str = "10.0.0.0/16"
    max_azs: int = setting(2, minimum=MIN_AZS, maximum=MAX_AZS)
    # One NAT gateway is enough for a sandbox; production puts one in every AZ so that an AZ
    # outage does not take egress away from the others.
    nat_gateways: int = setting(1, minimum=1, maximum=MAX_AZS)
    # None: the stage's log_retention_days.
    flow_log_retention_days: int | None = setting(None, choices=LOG_RETENTION_CHOICES)
    # The construct's short list of what the containers call. Each costs about 0.01 USD per hour
    # per AZ, so the sandbox default is none: traffic to these services leaves through the NAT gateway.
    interface_endpoints: tuple[str, ...] = setting((), choices=INTERFACE_ENDPOINTS)
    # Value of the `karpenter.sh/discovery` tag on the private subnets; the EKS stack's
    # Karpenter EC2NodeClass selects subnets and security groups by it.
    discovery_tag: str = setting("containers-update", pattern=r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
    # Zone names (as many as max_azs) to pin the subnets to. Empty: the region's first max_azs
    # zones, resolved at deploy time with Fn::GetAZs (no lookup at synth).
    availability_zones: tuple[str, ...] = setting(
        (), pattern=r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]", example="ap-northeast-1a"
    )

    def check(self, path: str) -> None:
        try:
            network = ipaddress.IPv4Network(self.cidr)
        except ValueError:
            fail(f"{path}.cidr", "must be an IPv4 CIDR block such as 10.0.0.0/16", self.cidr)
        if (
            network.is_loopback
            or network.is_link_local
            or network.is_multicast
            or network.is_reserved
            or (network.subnet_of(ipaddress.IPv4Network("0.0.0.0/8")))
        ):
            # CreateVpc refuses these ranges: https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
            fail(
                f"{path}.cidr",
                "must not be a loopback, link-local, multicast or reserved range (10.0.0.0/16 is fine)",
                self.cidr,
            )
        if network.prefixlen != 16:
            # The subnet plan (public /22, private /19, isolated /24 per AZ) fills a /16 for 6 AZs.
            fail(f"{path}.cidr", "must be a /16 block (the subnet plan is sized for it)", self.cidr)
        if self.availability_zones and len(self.availability_zones) != self.max_azs:
            fail(
                f"{path}.availability_zones",
                f"must name max_azs ({self.max_azs}) zones when set",
                list(self.availability_zones),
            )
        for key in ("availability_zones", "interface_endpoints"):
            items = getattr(self, key)
            if len(set(items)) != len(items):
                fail(f"{path}.{key}", "must not repeat an entry", list(items))
        if self.nat_gateways > self.max_azs:
            fail(f"{path}.nat_gateways", f"must not exceed max_azs ({self.max_azs})", self.nat_gateways)
