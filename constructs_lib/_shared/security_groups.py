"""The two kinds of security group the units make, and the rule that joins them.

- `client_security_group`: admits nothing and lets everything out, for what only opens
  connections (App Runner's VPC connector, the Express Mode tasks, the ECS Anywhere test host).
  Others admit it by its id.
- `closed_security_group`: admits nothing until `ingress_from` adds a rule naming a client's
  group, and lets nothing out: a data store answers connections and opens none.

Rules name groups, never address ranges, so only the client's network interfaces get in.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct


def client_security_group(
    scope: Construct, vpc: ec2.IVpc, *, description: str, ipv6: bool = False
) -> ec2.SecurityGroup:
    """Child `SecurityGroup` of `scope`: no ingress, all IPv4 egress (and all IPv6 with `ipv6`)."""
    return ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=vpc,
        description=description,
        allow_all_outbound=True,
        # Left unset rather than False (the same default), as these groups always were.
        allow_all_ipv6_outbound=ipv6 or None,
    )


def closed_security_group(scope: Construct, vpc: ec2.IVpc, *, description: str) -> ec2.SecurityGroup:
    """Child `SecurityGroup` of `scope`: no ingress until `ingress_from` adds some, and no egress."""
    return ec2.SecurityGroup(
        scope, "SecurityGroup", vpc=vpc, description=description, allow_all_outbound=False
    )


def ingress_from(
    scope: Construct,
    construct_id: str,
    *,
    group: ec2.ISecurityGroup,
    peer: ec2.ISecurityGroup,
    port: int,
    description: str,
) -> ec2.CfnSecurityGroupIngress:
    """A rule on `group` letting `peer` in on TCP `port`, created as `construct_id` in `scope`.

    An L1 rule rather than `connections.allow_from`, so that it lives in the client's stack
    (`scope`): the client then deploys and is destroyed alone, and the group's stack never
    depends on it.
    """
    return ec2.CfnSecurityGroupIngress(
        scope,
        construct_id,
        group_id=group.security_group_id,
        source_security_group_id=peer.security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
    )
