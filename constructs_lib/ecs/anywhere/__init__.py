"""ECS Anywhere: external instances registered through an SSM activation; GPU, Windows, ECS Exec."""

from .activation import MAX_EXPIRATION_DAYS, MAX_REGISTRATION_LIMIT, SsmActivation, SsmActivationProps
from .cluster import ExternalCluster, ExternalClusterProps
from .test_host import ExternalTestHost, ExternalTestHostProps
from .workloads import (
    ExternalGpuTask,
    ExternalGpuTaskProps,
    ExternalLinuxService,
    ExternalLinuxServiceProps,
    ExternalWindowsService,
    ExternalWindowsServiceProps,
)

__all__ = [
    "MAX_EXPIRATION_DAYS",
    "MAX_REGISTRATION_LIMIT",
    "ExternalCluster",
    "ExternalClusterProps",
    "ExternalGpuTask",
    "ExternalGpuTaskProps",
    "ExternalLinuxService",
    "ExternalLinuxServiceProps",
    "ExternalTestHost",
    "ExternalTestHostProps",
    "ExternalWindowsService",
    "ExternalWindowsServiceProps",
    "SsmActivation",
    "SsmActivationProps",
]
