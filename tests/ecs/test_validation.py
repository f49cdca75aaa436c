"""Clean one-line errors for bad props (constructs) and bad configuration (the `ecs:` section)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template

import app as app_module
from constructs_lib.ecs import (
    GravitonWebService,
    GravitonWebServiceProps,
    MultiArchImageBuild,
    MultiArchImageBuildProps,
    WindowsFargateService,
    WindowsFargateServiceProps,
    on_demand_base_then_spot,
)
from stacks.config import ConfigError, load_config
from stacks.config.ecs import EcsConfig
from stacks.config.loader import build
from tests.helpers import logical_id, one_line_error

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:stable")
WINDOWS_IMAGE = ecs.ContainerImage.from_registry(
    "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
)


def fresh_scope() -> tuple[cdk.Stack, ec2.Vpc, ecs.Cluster]:
    """A stack with a VPC and a cluster; tests that synthesize it take their own."""
    stack = cdk.Stack(cdk.App(context=json.loads((ROOT / "cdk.json").read_text())["context"]), "Probe")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    return stack, vpc, ecs.Cluster(stack, "Cluster", vpc=vpc, enable_fargate_capacity_providers=True)


@pytest.fixture(scope="module")
def scope() -> tuple[cdk.Stack, ec2.Vpc, ecs.Cluster]:
    """Shared by the tests that only construct (and expect an error); never synthesized."""
    return fresh_scope()


_ids = iter(range(1000))


def windows(scope: tuple[cdk.Stack, ec2.Vpc, ecs.Cluster], **changes: Any) -> WindowsFargateService:
    stack, vpc, cluster = scope
    props = dataclasses.replace(WindowsFargateServiceProps(image=WINDOWS_IMAGE), **changes)
    return WindowsFargateService(stack, f"Windows{next(_ids)}", cluster=cluster, vpc=vpc, props=props)


def graviton(scope: tuple[cdk.Stack, ec2.Vpc, ecs.Cluster], **changes: Any) -> GravitonWebService:
    stack, vpc, cluster = scope
    props = dataclasses.replace(
        GravitonWebServiceProps(image=IMAGE, user="101", allow_plain_http=True), **changes
    )
    return GravitonWebService(stack, f"Graviton{next(_ids)}", cluster=cluster, vpc=vpc, props=props)


# --- Construct props ---


def test_fails_when_windows_has_less_than_one_vcpu(scope) -> None:
    with pytest.raises(
        ValueError, match=r"^cpu must be at least 1024 \(1 vCPU\) for Windows on Fargate, got 512$"
    ):
        windows(scope, cpu=512, memory_mib=1024)


def test_fails_when_spot_is_requested_for_windows(scope) -> None:
    with pytest.raises(
        ValueError,
        match=r"^capacity_provider_strategies must not use FARGATE_SPOT .*got \['FARGATE', 'FARGATE_SPOT'\]$",
    ):
        windows(scope, capacity_provider_strategies=on_demand_base_then_spot())


def test_fails_when_windows_memory_does_not_fit_the_cpu_naming_the_service(scope) -> None:
    with pytest.raises(
        ValueError, match=r"^Probe/Windows\d+: memory_mib must be a Fargate size for cpu 1024 .*got 1024$"
    ):
        windows(scope, memory_mib=1024)


def test_fails_when_windows_asks_for_a_linux_only_size(scope) -> None:
    with pytest.raises(
        ValueError,
        match=r"^Probe/Windows\d+: cpu must be one of 1024, 2048, 4096 for Windows on Fargate, got 8192$",
    ):
        windows(scope, cpu=8192, memory_mib=16384)


def test_fails_when_the_maximum_task_count_is_below_the_minimum(scope) -> None:
    with pytest.raises(ValueError, match=r"^max_tasks must be at least min_tasks \(5\) and 1, got 4$"):
        graviton(scope, min_tasks=5, max_tasks=4)


def test_fails_when_the_graviton_size_is_not_a_fargate_size_naming_the_service(scope) -> None:
    with pytest.raises(
        ValueError, match=r"^Probe/Graviton\d+: memory_mib must be a Fargate size for cpu 256 .*got 4096$"
    ):
        graviton(scope, memory_mib=4096)


def test_fails_when_the_strategy_has_no_weight() -> None:
    with pytest.raises(ValueError, match=r"^spot_weight must be above 0 when on_demand_weight is 0, got 0$"):
        on_demand_base_then_spot(spot_weight=0)


def test_strategy_without_spot_weight_is_on_demand_only() -> None:
    strategy = on_demand_base_then_spot(on_demand_base=2, on_demand_weight=1, spot_weight=0)
    assert [(s.capacity_provider, s.base, s.weight) for s in strategy] == [("FARGATE", 2, 1)]


def test_fails_when_the_build_source_has_no_dockerfile(scope, tmp_path: Path) -> None:
    stack = scope[0]
    repository = cdk.aws_ecr.Repository(stack, "Repository")
    with pytest.raises(ValueError, match=r"^source_dir must be a folder with a Dockerfile, got '.*'$"):
        MultiArchImageBuild(
            stack, "Build", props=MultiArchImageBuildProps(repository=repository, source_dir=tmp_path)
        )


def test_arm64_only_build_pushes_one_platform(scope) -> None:
    stack = scope[0]
    repository = cdk.aws_ecr.Repository(stack, "ArmOnlyRepository")
    build = MultiArchImageBuild(
        stack, "ArmOnly", props=MultiArchImageBuildProps(repository=repository, multi_arch=False)
    )
    cfn = build.project.node.default_child
    spec = json.loads(stack.resolve(cfn.source)["buildSpec"])  # type: ignore[union-attr]
    commands = spec["phases"]["build"]["commands"]
    assert [c for c in commands if c.startswith("docker build")] == [
        'docker build --platform linux/arm64 --tag "$REPOSITORY_URI:$TAG-arm64" .'
    ]
    assert not any("manifest" in c for c in commands)


def test_https_listener_with_redirect_when_a_certificate_is_given() -> None:
    scope = fresh_scope()
    stack = scope[0]
    certificate = cdk.aws_certificatemanager.Certificate.from_certificate_arn(
        stack, "Certificate", "arn:aws:acm:ap-northeast-1:111122223333:certificate/abc"
    )
    service = graviton(scope, certificate=certificate)
    assert service.url.startswith("https://")
    listeners = {
        (p["Port"], p["Protocol"]): p["DefaultActions"][0]["Type"]
        for p in (
            r["Properties"]
            for r in Template.from_stack(stack)
            .find_resources("AWS::ElasticLoadBalancingV2::Listener")
            .values()
            if r["Properties"]["LoadBalancerArn"] == {"Ref": logical_id(service.load_balancer)}
        )
    }
    assert listeners == {(443, "HTTPS"): "forward", (80, "HTTP"): "redirect"}


# --- Configuration ---


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"graviton": {"min_tasks": 10, "max_tasks": 5}},
            "ecs.graviton.max_tasks must be at least min_tasks (10), got 5",
        ),
        ({"windows": {"cpu": 512}}, "ecs.windows.cpu must be one of 1024, 2048, 4096, got 512"),
        ({"windows": {"spot_weight": 1}}, "ecs.windows.spot_weight is not a known setting"),
        ({"graviton": {"on_demand_weight": 0, "spot_weight": 0}}, "ecs.graviton.spot_weight must be above 0"),
        (
            {"graviton": {"certificate_arn": "my-cert"}},
            "ecs.graviton.certificate_arn must look like 'arn:aws:acm:ap-northeast-1:111122223333:",
        ),
        (
            {"graviton": {"image": "nginx:stable"}},
            "ecs.graviton.image must look like 'public.ecr.aws/nginx/nginx-unprivileged:stable', "
            "got 'nginx:stable'",
        ),
    ],
)
def test_fails_when_the_ecs_section_is_wrong(data: dict, message: str) -> None:
    assert one_line_error(lambda: build(EcsConfig, data, "ecs")).startswith(message)


def test_fails_when_ecs_is_on_but_the_registry_is_off() -> None:
    config = load_config(stage="sandbox")
    config = dataclasses.replace(
        config,
        registry=dataclasses.replace(config.registry, enabled=False),
        eks=dataclasses.replace(config.eks, enabled=False),
    )
    with pytest.raises(
        ConfigError, match=r"^ecs.enabled needs registry.enabled: true .*got registry.enabled false$"
    ):
        app_module.compose(cdk.App(), config, cdk.Environment(region=config.region))


def test_without_high_resolution_metrics_cpu_tracking_uses_the_60_second_metric() -> None:
    scope = fresh_scope()
    stack = scope[0]
    service = graviton(scope, high_resolution_metrics=False)
    cfn_service = service.service.node.default_child
    assert stack.resolve(cfn_service.monitoring) is None  # type: ignore[union-attr]
    target = {"Ref": logical_id(service.scaling.node.find_child("Target"))}
    policies = [
        r["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
        for r in Template.from_stack(stack)
        .find_resources("AWS::ApplicationAutoScaling::ScalingPolicy")
        .values()
        if r["Properties"]["ScalingTargetId"] == target
    ]
    assert {p["PredefinedMetricType"] for p in policies} == {
        "ALBRequestCountPerTarget",
        "ECSServiceAverageCPUUtilization",
    }
