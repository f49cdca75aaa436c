"""Fargate facts shared by the service constructs of this folder: task sizes and capacity providers."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs

FARGATE = "FARGATE"
FARGATE_SPOT = "FARGATE_SPOT"

# Valid task sizes (CPU units -> memory in MiB), from the table in
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
# 8 and 16 vCPU are Linux only (platform version 1.4.0); Windows starts at 1 vCPU.
_GB = 1024
LINUX_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1 * _GB, 2 * _GB),
    512: tuple(gb * _GB for gb in range(1, 5)),
    1024: tuple(gb * _GB for gb in range(2, 9)),
    2048: tuple(gb * _GB for gb in range(4, 17)),
    4096: tuple(gb * _GB for gb in range(8, 31)),
    8192: tuple(gb * _GB for gb in range(16, 61, 4)),
    16384: tuple(gb * _GB for gb in range(32, 121, 8)),
}
WINDOWS_SIZES: dict[int, tuple[int, ...]] = {cpu: LINUX_SIZES[cpu] for cpu in (1024, 2048, 4096)}


def check_task_size(cpu: int, memory_mib: int, sizes: dict[int, tuple[int, ...]], family: str) -> None:
    """Raise a one-line `ValueError` unless (cpu, memory_mib) is a Fargate size for `family`."""
    if cpu not in sizes:
        raise ValueError(
            f"cpu must be one of {', '.join(map(str, sizes))} for {family} on Fargate, got {cpu}"
        )
    if memory_mib not in sizes[cpu]:
        low, high = sizes[cpu][0], sizes[cpu][-1]
        raise ValueError(
            f"memory_mib must be a Fargate size for cpu {cpu} ({low} to {high} MiB in the documented steps), "
            f"got {memory_mib}"
        )


def on_demand_base_then_spot(
    *, on_demand_base: int = 1, on_demand_weight: int = 0, spot_weight: int = 1
) -> list[ecs.CapacityProviderStrategy]:
    """A strategy that runs the first `on_demand_base` tasks on FARGATE and splits the rest by weight.

    The default keeps one task on demand (the service never loses all capacity to Spot
    interruptions) and puts every task above it on FARGATE_SPOT.
    """
    if on_demand_base < 0 or on_demand_weight < 0 or spot_weight < 0:
        raise ValueError(
            "on_demand_base, on_demand_weight and spot_weight must not be negative, "
            f"got {on_demand_base}, {on_demand_weight}, {spot_weight}"
        )
    if on_demand_weight == 0 and spot_weight == 0:
        raise ValueError("spot_weight must be above 0 when on_demand_weight is 0, got 0")
    strategy = [
        ecs.CapacityProviderStrategy(capacity_provider=FARGATE, base=on_demand_base, weight=on_demand_weight)
    ]
    if spot_weight > 0:
        strategy.append(ecs.CapacityProviderStrategy(capacity_provider=FARGATE_SPOT, weight=spot_weight))
    return strategy


def https_only_egress(security_group: ec2.SecurityGroup) -> None:
    """Let Fargate tasks out on TCP 443 only, over IPv4 and IPv6 (the group must not allow all).

    On platform version 1.4.0 the task's own network interface carries what the task needs from
    AWS, all over HTTPS: image pulls (ECR API, registry and its S3 layers), CloudWatch Logs,
    Secrets Manager, and the ssmmessages channels of ECS Exec, through NAT, the egress-only
    internet gateway or interface endpoints in the VPC alike
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html).
    No DNS rule: security groups do not filter traffic to the Amazon DNS server, nor to the task
    metadata endpoint or the Time Sync Service
    (https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html).
    """
    security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and registries")
    security_group.add_egress_rule(ec2.Peer.any_ipv6(), ec2.Port.tcp(443), "HTTPS to AWS APIs and registries")
