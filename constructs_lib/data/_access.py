"""How the data stores of this folder are reached: a security group that admits nobody until `admit`.

Both stores take their front ends' security groups, never address ranges: a rule names the
front end's group, so only its network interfaces get in (App Runner's VPC connector, the ECS
Express Mode tasks).
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct


def closed_security_group(scope: Construct, vpc: ec2.IVpc, *, store: str) -> ec2.SecurityGroup:
    """Child `SecurityGroup` of `scope`: no ingress until a front end is admitted, and no egress.

    A data store answers connections and opens none, so it needs no outbound rule.
    """
    return ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=vpc,
        description=f"{store}: admits only the front ends given to admit()",
        allow_all_outbound=False,
    )


def admit_tcp(
    scope: Construct,
    construct_id: str,
    *,
    group: ec2.ISecurityGroup,
    peer: ec2.ISecurityGroup,
    port: int,
    description: str,
) -> ec2.CfnSecurityGroupIngress:
    """A rule on `group` letting `peer` in on TCP `port`, created as `construct_id` in `scope`.

    An L1 rule rather than `connections.allow_from`, so that it lives in the front end's stack
    (`scope`) and not in the data stores' (see `ServerlessPostgres.admit`).
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
