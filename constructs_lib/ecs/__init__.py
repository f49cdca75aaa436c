"""ECS on Fargate: a fast-scaling Graviton service, arm64 image builds, and Windows with ECS Exec."""

from .._shared.log_key import LogEncryptionKey
from ._fargate import on_demand_base_then_spot
from .cluster import FargateCluster, FargateClusterProps
from .graviton_service import GravitonWebService, GravitonWebServiceProps
from .image_build import MultiArchImageBuild, MultiArchImageBuildProps
from .windows_service import WindowsFargateService, WindowsFargateServiceProps

__all__ = [
    "FargateCluster",
    "FargateClusterProps",
    "GravitonWebService",
    "GravitonWebServiceProps",
    "LogEncryptionKey",
    "MultiArchImageBuild",
    "MultiArchImageBuildProps",
    "WindowsFargateService",
    "WindowsFargateServiceProps",
    "on_demand_base_then_spot",
]
