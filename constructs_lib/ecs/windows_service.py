"""A Windows Server 2022 Core service on Fargate with ECS Exec, for slide 10 of the talk.

Windows containers run on Fargate as x86_64 tasks of at least 1 vCPU, on demand only (no Fargate
Spot), on Windows platform version 1.0.0; ECS Exec works on them like on Linux, with PowerShell:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html and
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
Windows Server 2025 is in CDK's OperatingSystemFamily enum but not on Fargate
(aws/containers-roadmap#2754), so this construct uses 2022 Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._fargate import (
    FARGATE,
    FARGATE_SPOT,
    WINDOWS_SIZES,
    check_task_size,
    private_exec_service,
    task_definition_with_container,
)
from ._nag import acknowledge_ecs_exec

CONTAINER_NAME = "windows"
# Windows containers run on Fargate as x86_64 tasks only (see the module docstring).
PLATFORM = ecs.RuntimePlatform(
    cpu_architecture=ecs.CpuArchitecture.X86_64,
    operating_system_family=ecs.OperatingSystemFamily.WINDOWS_SERVER_2022_CORE,
)


@dataclass(frozen=True)
class WindowsFargateServiceProps:
    """Settings of a `WindowsFargateService`."""

    image: ecs.ContainerImage
    # 1 vCPU and 2 GB: the smallest Windows size on Fargate. CDK's default of 256 CPU units is
    # rejected by ECS for Windows.
    cpu: int = 1024
    memory_mib: int = 2048
    # 0 runs nothing (and bills nothing) until someone raises it to try ECS Exec on Windows.
    desired_count: int = 0
    # None: all tasks on FARGATE. Fargate Spot does not run Windows, so FARGATE_SPOT is refused.
    capacity_provider_strategies: Sequence[ecs.CapacityProviderStrategy] | None = None
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # Encrypts the container log group; its key policy must admit CloudWatch Logs for the group.
    log_encryption_key: kms.IKey | None = None
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY


class WindowsFargateService(Construct):
    """A WINDOWS_SERVER_2022_CORE / X86_64 Fargate service in private subnets with ECS Exec on.

    It has no load balancer and its security group allows no inbound traffic: ECS Exec sessions
    go out through the SSM channels, so the task is reachable for `aws ecs execute-command` only.

    Attributes: `service`, `task_definition`.
    """

    # GravitonWebService's signature and private_exec_service call, on purpose: both are this
    # folder's services on one cluster and VPC; what differs is in their props.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        vpc: ec2.IVpc,
        props: WindowsFargateServiceProps,
    ) -> None:
        super().__init__(scope, construct_id)
        if props.cpu < 1024:
            raise ValueError(f"cpu must be at least 1024 (1 vCPU) for Windows on Fargate, got {props.cpu}")
        check_task_size(props.cpu, props.memory_mib, WINDOWS_SIZES, "Windows", service=self.node.path)
        if props.desired_count < 0:
            raise ValueError(f"desired_count must not be negative, got {props.desired_count}")
        strategies = list(props.capacity_provider_strategies or [])
        providers = [item.capacity_provider for item in strategies]
        if FARGATE_SPOT in providers:
            raise ValueError(
                f"capacity_provider_strategies must not use {FARGATE_SPOT} "
                f"(Fargate Spot does not run Windows), got {providers}"
            )
        if not strategies:
            strategies = [ecs.CapacityProviderStrategy(capacity_provider=FARGATE, weight=1)]

        # No linuxParameters, readonlyRootFilesystem or user: Windows task definitions reject them.
        self.task_definition = task_definition_with_container(
            self,
            props,
            platform=PLATFORM,
            container_name=CONTAINER_NAME,
        )

        self.security_group, self.service = private_exec_service(
            self,
            cluster=cluster,
            task_definition=self.task_definition,
            vpc=vpc,
            description="Windows tasks: no inbound traffic; HTTPS out for ECS Exec, logs and image pulls",
            capacity_provider_strategies=strategies,
            desired_count=props.desired_count,
        )
        # cdk-nag: the task role's ECS Exec grants on `*` and on the session log streams.
        acknowledge_ecs_exec(self.service, cluster)
