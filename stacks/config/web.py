"""Configuration of the web feature: the DataStores, AppRunner and ExpressMode stacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.data import (
    AURORA_POSTGRES_VERSIONS,
    DATA_STORAGE_GB,
    ECPU_PER_SECOND,
    VALKEY_MAJOR_VERSIONS,
    check_capacity,
    check_usage_limits,
)
from constructs_lib.web import (
    APP_RUNNER_SIZES,
    FARGATE_SIZES,
    SCALING_METRICS,
    check_scaling,
    check_size,
    check_task,
)
from stacks.config.loader import ConfigError, setting

IMAGE_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}"


def _construct_check(check: Callable[..., None], *values: Any, path: str) -> None:
    """Run a construct's own validation, so that its one-line message names the full key."""
    try:
        check(*values, prefix=f"{path}.")
    except ValueError as error:
        raise ConfigError(str(error)) from None


@dataclass(frozen=True)
class AuroraConfig:
    """Aurora Serverless v2 PostgreSQL."""

    engine_version: str = setting("17.5", choices=tuple(AURORA_POSTGRES_VERSIONS))
    # 0 pauses the database after `auto_pause_minutes` without connections (no capacity charge).
    min_capacity: float = 0.0
    max_capacity: float = 2.0
    auto_pause_minutes: int = setting(5, minimum=5, maximum=1440)

    def check(self, path: str) -> None:
        _construct_check(check_capacity, self.engine_version, self.min_capacity, self.max_capacity, path=path)


@dataclass(frozen=True)
class ValkeyConfig:
    """ElastiCache Serverless for Valkey; the limits are ceilings that guard the bill."""

    major_engine_version: str = setting("8", choices=VALKEY_MAJOR_VERSIONS)
    max_data_storage_gb: int = setting(1, minimum=DATA_STORAGE_GB[0], maximum=DATA_STORAGE_GB[1])
    max_ecpu_per_second: int = setting(5000, minimum=ECPU_PER_SECOND[0], maximum=ECPU_PER_SECOND[1])
    # Daily snapshots kept this many days (0: none); the stage's removal policy decides the rest.
    snapshot_retention_days: int = setting(0, minimum=0, maximum=35)

    def check(self, path: str) -> None:
        _construct_check(check_usage_limits, self.max_data_storage_gb, self.max_ecpu_per_second, path=path)


@dataclass(frozen=True)
class AppRunnerConfig:
    """The App Runner front end: only accounts that used App Runner before 2026-04-30 can deploy it."""

    # true: the stack is synthesized (and listed by `cdk list`); it is deployed only when named.
    enabled: bool = True
    cpu: str = setting("0.25 vCPU", choices=tuple(APP_RUNNER_SIZES))
    memory: str = setting(
        "0.5 GB", choices=tuple(dict.fromkeys(m for ms in APP_RUNNER_SIZES.values() for m in ms))
    )
    min_instances: int = setting(1, minimum=1, maximum=25)
    max_instances: int = setting(2, minimum=1, maximum=25)
    max_concurrency: int = setting(100, minimum=1, maximum=200)

    def check(self, path: str) -> None:
        _construct_check(check_size, self.cpu, self.memory, path=path)
        _construct_check(
            check_scaling, self.min_instances, self.max_instances, self.max_concurrency, path=path
        )


@dataclass(frozen=True)
class ExpressModeConfig:
    """The ECS Express Mode front end."""

    enabled: bool = True
    # public: internet-facing load balancer (public subnets); private: internal (private subnets).
    access: str = setting("public", choices=("public", "private"))
    cpu: int = setting(256, choices=tuple(FARGATE_SIZES))
    memory_mib: int = setting(512, minimum=512, maximum=30720)
    min_tasks: int = setting(1, minimum=1, maximum=1000)
    max_tasks: int = setting(2, minimum=1, maximum=1000)
    scaling_metric: str = setting("REQUEST_COUNT_PER_TARGET", choices=SCALING_METRICS)
    scaling_target: int = setting(100, minimum=1, maximum=100000)

    def check(self, path: str) -> None:
        _construct_check(check_task, self.cpu, self.memory_mib, self.min_tasks, self.max_tasks, path=path)


@dataclass(frozen=True)
class WebConfig:
    """Private data stores and the two web front ends over them (App Runner, ECS Express Mode)."""

    enabled: bool = True
    # The tag both front ends run; the DataStores stack's BuildCommand output builds it. The
    # repository's tags are immutable: build a new tag (and set it here) for a new version.
    image_tag: str = setting("v1", pattern=IMAGE_TAG)
    aurora: AuroraConfig = field(default_factory=AuroraConfig)
    valkey: ValkeyConfig = field(default_factory=ValkeyConfig)
    app_runner: AppRunnerConfig = field(default_factory=AppRunnerConfig)
    express_mode: ExpressModeConfig = field(default_factory=ExpressModeConfig)
