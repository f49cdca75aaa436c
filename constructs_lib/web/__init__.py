"""Web front ends over private data stores: App Runner with a VPC connector, and ECS Express Mode."""

from .app_runner import (
    APP_RUNNER_SIZES,
    AppRunnerWebService,
    AppRunnerWebServiceProps,
    check_scaling,
    check_size,
)
from .express import (
    FARGATE_SIZES,
    SCALING_METRICS,
    ExpressWebService,
    ExpressWebServiceProps,
    check_task,
)
from .sample import SAMPLE_APP_DIR

__all__ = [
    "APP_RUNNER_SIZES",
    "FARGATE_SIZES",
    "SAMPLE_APP_DIR",
    "SCALING_METRICS",
    "AppRunnerWebService",
    "AppRunnerWebServiceProps",
    "ExpressWebService",
    "ExpressWebServiceProps",
    "check_scaling",
    "check_size",
    "check_task",
]
