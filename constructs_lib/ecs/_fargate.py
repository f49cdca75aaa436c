"""What the Fargate services of this folder share: task sizes, capacity providers, the service itself."""

from __future__ import annotations

from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._shared.resources import log_group

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


def check_task_size(
    cpu: int, memory_mib: int, sizes: dict[int, tuple[int, ...]], family: str, *, service: str = ""
) -> None:
    """Raise a one-line `ValueError` unless (cpu, memory_mib) is a Fargate size for `family`.

    `service` (a construct path) leads the message, so that an app with several services says
    which one Fargate would refuse.
    """
    where = f"{service}: " if service else ""
    if cpu not in sizes:
        raise ValueError(
            f"{where}cpu must be one of {', '.join(map(str, sizes))} for {family} on Fargate, got {cpu}"
        )
    if memory_mib not in sizes[cpu]:
        low, high = sizes[cpu][0], sizes[cpu][-1]
        raise ValueError(
            f"{where}memory_mib must be a Fargate size for cpu {cpu} ({low} to {high} MiB in the "
            f"documented steps), got {memory_mib}"
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


class TaskProps(Protocol):
    """The settings of this folder's services that their task definition and container take."""

    @property
    def image(self) -> ecs.ContainerImage: ...
    @property
    def cpu(self) -> int: ...
    @property
    def memory_mib(self) -> int: ...
    @property
    def log_retention(self) -> logs.RetentionDays: ...
    @property
    def removal_policy(self) -> cdk.RemovalPolicy: ...
    @property
    def log_encryption_key(self) -> kms.IKey | None: ...


def task_definition_with_container(
    scope: Construct,
    props: TaskProps,
    *,
    platform: ecs.RuntimePlatform,
    container_name: str,
    init_process: bool = False,
    **container_options: Any,
) -> ecs.FargateTaskDefinition:
    """The `TaskDefinition` of this folder's services, with its one essential container.

    The container runs `props.image` and logs under its name to `Logs`, a group of the scope;
    `container_options` are the container's own settings (user, ports). With `init_process`
    (Linux only), an init process in the container reaps what ECS Exec sessions leave behind:
    ECS Exec starts the SSM agent inside the container
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html).
    """
    task_definition = ecs.FargateTaskDefinition(
        scope, "TaskDefinition", cpu=props.cpu, memory_limit_mib=props.memory_mib, runtime_platform=platform
    )
    container_logs = log_group(
        scope,
        "Logs",
        retention=props.log_retention,
        removal_policy=props.removal_policy,
        encryption_key=props.log_encryption_key,
    )
    if init_process:
        container_options["linux_parameters"] = ecs.LinuxParameters(
            scope, "LinuxParameters", init_process_enabled=True
        )
    task_definition.add_container(
        container_name,
        image=props.image,
        essential=True,
        logging=ecs.LogDrivers.aws_logs(stream_prefix=container_name, log_group=container_logs),
        **container_options,
    )
    return task_definition


def private_exec_service(
    scope: Construct,
    *,
    cluster: ecs.ICluster,
    task_definition: ecs.FargateTaskDefinition,
    vpc: ec2.IVpc,
    description: str,
    capacity_provider_strategies: list[ecs.CapacityProviderStrategy],
    **settings: Any,
) -> tuple[ec2.SecurityGroup, ecs.FargateService]:
    """The `SecurityGroup` (HTTPS out only) and the `Resource` service of this folder's services.

    In private subnets without a public IP, ECS Exec on, a circuit breaker that rolls back, and
    full capacity during deployments (the new tasks run beside the old ones, so a session target
    is always there). `settings` are the service's own (desired count, grace period).
    """
    security_group = ec2.SecurityGroup(
        scope, "SecurityGroup", vpc=vpc, description=description, allow_all_outbound=False
    )
    https_only_egress(security_group)
    service = ecs.FargateService(
        scope,
        "Resource",
        cluster=cluster,
        task_definition=task_definition,
        min_healthy_percent=100,
        max_healthy_percent=200,
        circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        enable_execute_command=True,
        capacity_provider_strategies=capacity_provider_strategies,
        # LATEST is 1.4.0 on Linux (Fargate Spot for ARM64 needs 1.4.0 or later:
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html)
        # and 1.0.0 on Windows, the Windows version that supports ECS Exec.
        platform_version=ecs.FargatePlatformVersion.LATEST,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        security_groups=[security_group],
        assign_public_ip=False,
        **settings,
    )
    # Create after (and delete before) the cluster's capacity provider association, which
    # ecs.Cluster adds at synth time: a strategy may only name associated providers, and an
    # association cannot drop a provider that a service still uses. And only start tasks once
    # the execution role's policy (image pull, logs) is attached.
    service.node.add_dependency(cluster)
    service.node.add_dependency(task_definition.obtain_execution_role())
    return security_group, service
