"""Configuration of the EcsAnywhere stack: activation, workloads on external instances, optional test host."""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs_lib.ecs.anywhere import MAX_EXPIRATION_DAYS, MAX_REGISTRATION_LIMIT
from stacks.config.loader import setting

# An image reference such as public.ecr.aws/nginx/nginx:stable or nvidia/cuda:12.6.3-base-ubuntu24.04.
IMAGE_PATTERN = r"([a-z0-9.-]+(:\d+)?/)?[a-z0-9._/-]+:[A-Za-z0-9._-]+"
INSTANCE_TYPE_PATTERN = r"[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+"


@dataclass(frozen=True)
class ActivationConfig:
    """The SSM hybrid activation that machines register with."""

    # Machines that may register with one activation code.
    registration_limit: int = setting(3, minimum=1, maximum=MAX_REGISTRATION_LIMIT)
    # Days the code works, counted from the deploy that creates the activation (SSM: 30 at most).
    expiration_days: int = setting(7, minimum=1, maximum=MAX_EXPIRATION_DAYS)
    # Increase by one and deploy to replace an expired or leaked activation with a new one.
    renewal: int = setting(0, minimum=0, maximum=1_000_000)


@dataclass(frozen=True)
class ExternalServiceConfig:
    """What a service on the external instances sets: its image, its size on the host, its tasks."""

    image: str = setting("public.ecr.aws/nginx/nginx:stable", pattern=IMAGE_PATTERN)
    # CPU units and hard memory limit of the container on the host.
    cpu: int = setting(256, minimum=0, maximum=65536)
    memory_mib: int = setting(256, minimum=6, maximum=1_048_576)
    # 0 until a host has registered; the test host, when on, raises the Linux service's to 1.
    desired_count: int = setting(0, minimum=0, maximum=1000)


@dataclass(frozen=True)
class LinuxServiceConfig(ExternalServiceConfig):
    """The bridge-networked Linux service with ECS Exec."""

    container_port: int = setting(80, minimum=1, maximum=65535)


@dataclass(frozen=True)
class GpuTaskConfig:
    """The task definition that runs nvidia-smi on a host registered with --enable-gpu."""

    enabled: bool = True
    image: str = setting("nvidia/cuda:12.6.3-base-ubuntu24.04", pattern=IMAGE_PATTERN)
    gpu_count: int = setting(1, minimum=1, maximum=16)


@dataclass(frozen=True)
class WindowsServiceConfig(ExternalServiceConfig):
    """The Windows Server 2022 service: a service's settings and bounds, with Windows defaults."""

    enabled: bool = True
    image: str = setting(
        "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022", pattern=IMAGE_PATTERN
    )
    cpu: int = 1024
    memory_mib: int = 2048


@dataclass(frozen=True)
class TestHostConfig:
    """An EC2 instance that registers itself as an external instance: sandbox only, off by default."""

    enabled: bool = False
    instance_type: str = setting("t4g.small", pattern=INSTANCE_TYPE_PATTERN)


@dataclass(frozen=True)
class EcsAnywhereConfig:
    """ECS Anywhere (external instances)."""

    # An activation and an empty cluster cost nothing: on by default.
    enabled: bool = True
    activation: ActivationConfig = field(default_factory=ActivationConfig)
    linux: LinuxServiceConfig = field(default_factory=LinuxServiceConfig)
    gpu: GpuTaskConfig = field(default_factory=GpuTaskConfig)
    windows: WindowsServiceConfig = field(default_factory=WindowsServiceConfig)
    test_host: TestHostConfig = field(default_factory=TestHostConfig)
