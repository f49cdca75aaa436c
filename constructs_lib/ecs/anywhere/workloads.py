"""Workloads for external instances: a Linux service with ECS Exec, a GPU task, a Windows service.

Slides 9-10 of the talk (ECS Anywhere with GPU workloads, ECS Exec and Windows hosts). External
instances run the EXTERNAL launch type with no load balancer, no capacity provider and no awsvpc
networking: Linux tasks use bridge (or host, none) and Windows tasks the default (NAT) mode:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-anywhere.html#ecs-anywhere-networking

ECS Exec is documented for external instances (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html),
and AWS's Linux install script sets up its SSM binaries and certificates. For Windows external
instances AWS documents no ECS Exec support (Windows is listed for ECS-optimized AMIs and Fargate
only), so the Windows service leaves it off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..._shared.resources import log_group
from .._nag import acknowledge_ecs_exec

# Attributes the ECS agent puts on every container instance; `ecs.capability.gpu-driver-version`
# only when GPU support is on (the install script's --enable-gpu sets ECS_ENABLE_GPU_SUPPORT) and
# the NVIDIA driver answers (aws/amazon-ecs-agent, agent/app/agent_capability.go and
# agent_capability_unix.go, appendNvidiaDriverVersionAttribute). `ecs.os-type` is a built-in
# attribute; `exists` is an operator of the cluster query language:
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-query-language.html
LINUX_HOSTS = "attribute:ecs.os-type == linux"
WINDOWS_HOSTS = "attribute:ecs.os-type == windows"
GPU_HOSTS = "attribute:ecs.capability.gpu-driver-version exists"


def _check_sizes(cpu: int, memory_mib: int, desired_count: int | None = None) -> None:
    if cpu < 0:
        raise ValueError(f"cpu must not be negative, got {cpu}")
    if memory_mib < 4:
        # Docker's lower bound for a container's hard memory limit is 4 MiB (6 MiB on newer Docker).
        raise ValueError(f"memory_mib must be at least 4, got {memory_mib}")
    if desired_count is not None and desired_count < 0:
        raise ValueError(f"desired_count must not be negative, got {desired_count}")


@dataclass(frozen=True, kw_only=True)
class ExternalWorkloadProps:
    """What every workload of this module takes: its image, its container's size, its log group."""

    image: ecs.ContainerImage
    # CPU units and hard memory limit of the container on the host.
    cpu: int
    memory_mib: int
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    log_key: kms.IKey | None = None
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY


class _ExternalWorkload(Construct):
    """Children `TaskDefinition` (EXTERNAL, placed on `hosts` only) and `Logs`, its container's group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: ExternalWorkloadProps,
        hosts: str,
        desired_count: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        _check_sizes(props.cpu, props.memory_mib, desired_count)
        self._props = props
        self.task_definition = ecs.ExternalTaskDefinition(
            self, "TaskDefinition", network_mode=ecs.NetworkMode.BRIDGE
        )
        # ExternalService takes no placement constraints; the task definition carries them.
        self.task_definition.add_placement_constraint(ecs.PlacementConstraint.member_of(hosts))
        self.log_group = log_group(
            self,
            "Logs",
            encryption_key=props.log_key,
            retention=props.log_retention,
            removal_policy=props.removal_policy,
        )

    def _add_container(self, name: str, **options: Any) -> None:
        """The one essential container, of the props' image and size, logging under `name`."""
        self.task_definition.add_container(
            name,
            image=self._props.image,
            cpu=self._props.cpu,
            memory_limit_mib=self._props.memory_mib,
            essential=True,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=self.log_group),
            **options,
        )

    def _add_service(self, cluster: ecs.ICluster, desired_count: int, **settings: Any) -> ecs.ExternalService:
        """Child `Resource`: the service, rolled back by its circuit breaker when new tasks fail."""
        service = ecs.ExternalService(
            self,
            "Resource",
            cluster=cluster,
            task_definition=self.task_definition,
            desired_count=desired_count,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            **settings,
        )
        # Tasks start only once the execution role may write their logs.
        service.node.add_dependency(self.task_definition.obtain_execution_role())
        return service


@dataclass(frozen=True, kw_only=True)
class ExternalLinuxServiceProps(ExternalWorkloadProps):
    """Settings of an `ExternalLinuxService`."""

    container_port: int = 80
    cpu: int = 256
    memory_mib: int = 256
    # 0 until a host has registered: ECS would only report that it cannot place the tasks.
    desired_count: int = 0


class ExternalLinuxService(_ExternalWorkload):
    """A bridge-networked EXTERNAL service on Linux hosts, with ECS Exec on and logs in a group it owns.

    The container port is published on a host port that Docker picks (bridge, host port 0), so
    several tasks fit on one host. Tasks are placed only on Linux hosts of the cluster.

    Attributes: `service`, `task_definition`, `log_group`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, cluster: ecs.ICluster, props: ExternalLinuxServiceProps
    ) -> None:
        super().__init__(
            scope, construct_id, props=props, hosts=LINUX_HOSTS, desired_count=props.desired_count
        )
        self._add_container(
            "web",
            port_mappings=[ecs.PortMapping(container_port=props.container_port, host_port=0)],
            # An init process reaps the ECS Exec session processes (the SSM agent's children).
            linux_parameters=ecs.LinuxParameters(self, "LinuxParameters", init_process_enabled=True),
        )
        self.service = self._add_service(
            cluster,
            props.desired_count,
            # Docker picks the host port, so a replacement can start beside the task it replaces.
            min_healthy_percent=100,
            max_healthy_percent=200,
            enable_execute_command=True,
        )
        acknowledge_ecs_exec(self.service, cluster)


@dataclass(frozen=True, kw_only=True)
class ExternalGpuTaskProps(ExternalWorkloadProps):
    """Settings of an `ExternalGpuTask`."""

    # Any image with the NVIDIA user-space tools; the NVIDIA container runtime mounts the driver.
    image: ecs.ContainerImage
    gpu_count: int = 1
    command: tuple[str, ...] = ("nvidia-smi",)
    cpu: int = 256
    memory_mib: int = 512


class ExternalGpuTask(_ExternalWorkload):
    """A task definition that reserves NVIDIA GPUs on an external instance and runs `nvidia-smi`.

    It is a task to run once (`aws ecs run-task --launch-type EXTERNAL`), not a service: the
    command prints the GPUs it sees and exits. It is placed only on hosts registered with
    `--enable-gpu`, which the ECS agent marks with `ecs.capability.gpu-driver-version`; ECS also
    places a task only where the requested GPUs are free:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-gpu.html

    Attributes: `task_definition`, `container_name`, `log_group`.
    """

    container_name = "gpu"

    def __init__(self, scope: Construct, construct_id: str, *, props: ExternalGpuTaskProps) -> None:
        if props.gpu_count < 1:
            raise ValueError(f"gpu_count must be at least 1 for a GPU task, got {props.gpu_count}")
        super().__init__(scope, construct_id, props=props, hosts=GPU_HOSTS)
        self._add_container(self.container_name, command=list(props.command), gpu_count=props.gpu_count)


@dataclass(frozen=True, kw_only=True)
class ExternalWindowsServiceProps(ExternalWorkloadProps):
    """Settings of an `ExternalWindowsService`."""

    # A Windows Server 2022 (LTSC 2022) image: a Windows container must match the host's version.
    image: ecs.ContainerImage
    cpu: int = 1024
    memory_mib: int = 2048
    desired_count: int = 0


class ExternalWindowsService(_ExternalWorkload):
    """An EXTERNAL service on Windows Server 2022 hosts, in Windows' default (NAT) network mode.

    Tasks are placed only on Windows hosts; the image's Windows version must match the host's
    (LTSC 2022 images on Windows Server 2022). No ECS Exec: AWS does not document it for Windows
    external instances.

    Attributes: `service`, `task_definition`, `log_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        props: ExternalWindowsServiceProps,
    ) -> None:
        super().__init__(
            scope, construct_id, props=props, hosts=WINDOWS_HOSTS, desired_count=props.desired_count
        )
        # Windows tasks on external instances must use the `default` network mode, that is no
        # NetworkMode at all. CDK knows only the Linux modes for EXTERNAL (it refuses NAT, which
        # would render none), so the property is removed from the bridge-mode definition.
        task_definition_resource = self.task_definition.node.default_child
        assert isinstance(task_definition_resource, ecs.CfnTaskDefinition)
        task_definition_resource.add_property_deletion_override("NetworkMode")
        # No linuxParameters, readonlyRootFilesystem or user: Windows task definitions reject them.
        self._add_container("windows")
        self.service = self._add_service(
            cluster, props.desired_count, min_healthy_percent=0, max_healthy_percent=100
        )
