"""`make verify` for Network: the VPC is dual-stack and its NAT gateways are up."""

from __future__ import annotations

from collections.abc import Iterator

from ops.report import Result, fail_if_any, failed, passed
from ops.verify import DeployedStack, checks_for


@checks_for("Network")
def dual_stack_vpc(stack: DeployedStack) -> Iterator[Result]:
    ec2 = stack.client("ec2")
    vpc_ids, subnet_ids = stack.physical_ids("AWS::EC2::VPC"), stack.physical_ids("AWS::EC2::Subnet")
    if not vpc_ids or not subnet_ids:
        # An empty id list would describe every VPC of the account, not this stack's.
        yield failed(stack.name("VPC"), "no VPC or subnet in the stack", "redeploy Network")
        return
    for vpc in ec2.describe_vpcs(VpcIds=vpc_ids)["Vpcs"]:
        ipv6 = [
            a["Ipv6CidrBlock"]
            for a in vpc.get("Ipv6CidrBlockAssociationSet", [])
            if a.get("Ipv6CidrBlockState", {}).get("State") == "associated"
        ]
        name = stack.name(f"VPC {vpc['VpcId']} dual-stack")
        if ipv6:
            yield passed(name, f"{vpc['CidrBlock']} and {', '.join(ipv6)}")
        else:
            yield failed(name, f"{vpc['CidrBlock']} has no IPv6 block", "redeploy Network")
    subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    without = [s["SubnetId"] for s in subnets if not s.get("Ipv6CidrBlockAssociationSet")]
    yield fail_if_any(
        stack.name("every subnet has an IPv6 block"),
        without,
        problem=f"{len(without)} of {len(subnets)} lack one",
        fix="redeploy Network",
        otherwise=f"{len(subnets)} subnets",
    )
    nat_ids = stack.physical_ids("AWS::EC2::NatGateway")
    if nat_ids:
        gateways = ec2.describe_nat_gateways(NatGatewayIds=nat_ids)["NatGateways"]
        yield fail_if_any(
            stack.name("NAT gateways"),
            [g["NatGatewayId"] for g in gateways if g["State"] != "available"],
            problem="not available",
            fix="see the gateways' state in the VPC console",
            otherwise=f"{len(gateways)} available",
        )
