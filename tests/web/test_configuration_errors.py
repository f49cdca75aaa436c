"""Bad web settings stop synth with one line naming the key and the value; the constructs refuse them too."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr

from constructs_lib.data import (
    ServerlessPostgres,
    ServerlessPostgresProps,
    ServerlessValkey,
    ServerlessValkeyProps,
)
from constructs_lib.web import (
    AppRunnerWebService,
    AppRunnerWebServiceProps,
    ExpressWebService,
    ExpressWebServiceProps,
)
from stacks.config.loader import build
from stacks.config.web import WebConfig
from tests.helpers import one_line_error


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"aurora": {"engine_version": "15.4", "min_capacity": 0}},
            "web.aurora.engine_version must support auto-pause (16.3+, 15.7+, 14.12+ or 13.15+) when "
            "min_capacity is 0, got '15.4'",
        ),
        (
            {"aurora": {"engine_version": "16.1"}},
            "web.aurora.engine_version must support auto-pause",
        ),
        (
            {"aurora": {"min_capacity": 4, "max_capacity": 2}},
            "web.aurora.max_capacity must be at least 1 and at least min_capacity (4), got 2",
        ),
        (
            {"aurora": {"min_capacity": 0.3}},
            "web.aurora.min_capacity must be a multiple of 0.5 from 0 to 256, got 0.3",
        ),
        (
            {"aurora": {"max_capacity": 300}},
            "web.aurora.max_capacity must be a multiple of 0.5 from 0 to 256, got 300",
        ),
        ({"aurora": {"engine_version": "14.1"}}, "web.aurora.engine_version must be one of"),
        (
            {"valkey": {"max_data_storage_gb": 6000}},
            "web.valkey.max_data_storage_gb must be at most 5000, got 6000",
        ),
        ({"valkey": {"max_data_storage_gb": 0}}, "web.valkey.max_data_storage_gb must be at least 1, got 0"),
        (
            {"valkey": {"max_ecpu_per_second": 500}},
            "web.valkey.max_ecpu_per_second must be at least 1000, got 500",
        ),
        ({"app_runner": {"cpu": "3 vCPU"}}, "web.app_runner.cpu must be one of '0.25 vCPU', '0.5 vCPU',"),
        (
            {"app_runner": {"cpu": "0.25 vCPU", "memory": "2 GB"}},
            "web.app_runner.memory must be one of 0.5 GB, 1 GB with cpu '0.25 vCPU', got '2 GB'",
        ),
        (
            {"app_runner": {"cpu": "4 vCPU", "memory": "4 GB"}},
            "web.app_runner.memory must be one of 8 GB, 10 GB, 12 GB with cpu '4 vCPU', got '4 GB'",
        ),
        (
            {"app_runner": {"min_instances": 3, "max_instances": 2}},
            "web.app_runner.max_instances must be between min_instances (3) and 25, got 2",
        ),
        (
            {"app_runner": {"max_concurrency": 201}},
            "web.app_runner.max_concurrency must be at most 200, got 201",
        ),
        (
            {"express_mode": {"cpu": 256, "memory_mib": 4096}},
            "web.express_mode.memory_mib must be one of 512, 1024, 2048 with cpu 256, got 4096",
        ),
        ({"express_mode": {"min_tasks": 0}}, "web.express_mode.min_tasks must be at least 1, got 0"),
        (
            {"express_mode": {"min_tasks": 3, "max_tasks": 2}},
            "web.express_mode.max_tasks must be at least min_tasks (3), got 2",
        ),
        ({"express_mode": {"access": "dmz"}}, "web.express_mode.access must be one of 'public', 'private'"),
        ({"image_tag": "v1 beta"}, "web.image_tag must look like 'v1', got 'v1 beta'"),
    ],
)
def test_fails_with_one_line_naming_the_key(data: dict[str, Any], message: str) -> None:
    assert message in one_line_error(lambda: build(WebConfig, data, "web"))


def test_aurora_without_auto_pause_is_fine_above_zero_capacity() -> None:
    config = build(WebConfig, {"aurora": {"engine_version": "15.4", "min_capacity": 0.5}}, "web")
    assert config.aurora.min_capacity == 0.5


@pytest.fixture(scope="module")
def scope() -> tuple[cdk.Stack, ec2.Vpc, ecr.Repository]:
    # No synth: the constructs validate their props when they are built.
    stack = cdk.Stack(cdk.App(), "Probe")
    return stack, ec2.Vpc(stack, "Vpc"), ecr.Repository(stack, "Repo")


def test_constructs_refuse_what_the_services_refuse(scope: tuple[cdk.Stack, ec2.Vpc, ecr.Repository]) -> None:
    stack, vpc, repository = scope
    with pytest.raises(ValueError, match=r"^engine_version must support auto-pause .* got '15.4'$"):
        ServerlessPostgres(stack, "Db", vpc=vpc, props=ServerlessPostgresProps(engine_version="15.4"))
    with pytest.raises(ValueError, match=r"^max_ecpu_per_second must be between 1000 and 15000000, got 1$"):
        ServerlessValkey(stack, "Cache", vpc=vpc, props=ServerlessValkeyProps(max_ecpu_per_second=1))
    with pytest.raises(ValueError, match=r"^memory must be one of 1 GB with cpu '0.5 vCPU', got '2 GB'$"):
        AppRunnerWebService(
            stack,
            "Runner",
            vpc=vpc,
            props=AppRunnerWebServiceProps(repository=repository, tag="t", cpu="0.5 vCPU", memory="2 GB"),
        )
    with pytest.raises(ValueError, match=r"^scaling_metric must be one of .* got 'P99'$"):
        ExpressWebService(
            stack,
            "Express",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            props=ExpressWebServiceProps(repository=repository, tag="t", scaling_metric="P99"),
        )
