"""Configuration errors stop synth with one line; the sample writes JSON lines on Fargate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.eks.fargate import EksFargateProps, FargateSelector, check_selectors
from stacks.config import AppConfig, ConfigError, load_config
from stacks.config.loader import build
from tests.eks_fargate.conftest import FargateView
from tests.helpers import logical_id, one_line_error

SIX = [{"namespace": f"team-{i}"} for i in range(6)]
SIX_LABELS = {f"k{i}": "v" for i in range(6)}


@pytest.mark.parametrize(
    ("fargate", "message"),
    [
        (
            {"workload_selectors": [{"namespace": "Team_A"}]},
            "eks.fargate.workload_selectors[0].namespace must look like 'fargate-apps', got 'Team_A'",
        ),
        (
            {"workload_selectors": [{"namespace": "a" * 64}]},
            "workload_selectors[0].namespace must look like 'fargate-apps'",
        ),
        ({"workload_selectors": SIX}, "eks.fargate.workload_selectors must list 1 to 5 selectors"),
        ({"workload_selectors": []}, "eks.fargate.workload_selectors must list 1 to 5 selectors"),
        (
            {"workload_selectors": [{"namespace": "apps", "labels": SIX_LABELS}]},
            "eks.fargate.workload_selectors[0].labels may list at most 5 labels",
        ),
        (
            {"workload_selectors": [{"namespace": "apps", "labels": {"tier": "web"}}]},
            "eks.fargate.workload_selectors[0].labels must be empty while sample_app is on",
        ),
        (
            {"workload_selectors": [{"namespace": "apps", "labels": {"bad key!": "x"}}]},
            "eks.fargate.workload_selectors[0].labels keys must be Kubernetes label keys",
        ),
        (
            {"metadata_cache_ttl": "5 minutes"},
            "eks.fargate.metadata_cache_ttl must look like '300s', got '5 minutes'",
        ),
    ],
)
def test_fails_with_one_line_on_bad_fargate_configuration(fargate: dict[str, Any], message: str) -> None:
    assert message in one_line_error(lambda: build(AppConfig, {"eks": {"fargate": fargate}}))


def test_fails_with_one_line_on_a_bad_add_on_version() -> None:
    with pytest.raises(
        ConfigError,
        match=r"eks.container_insights.addon_version must look like 'v4.1.0-eksbuild.1', got 'latest'",
    ):
        build(AppConfig, {"eks": {"container_insights": {"addon_version": "latest"}}})


def test_fails_with_one_line_when_node_insights_lack_the_fargate_construct() -> None:
    with pytest.raises(
        ConfigError, match=r"^eks.container_insights.ec2_nodes needs eks.fargate.enabled: true, got true$"
    ):
        build(AppConfig, {"eks": {"fargate": {"enabled": False}, "container_insights": {"ec2_nodes": True}}})


def test_labelled_selectors_are_fine_without_the_sample() -> None:
    config = build(
        AppConfig,
        {
            "eks": {
                "fargate": {
                    "sample_app": False,
                    "workload_selectors": [{"namespace": "apps", "labels": {"a": "b"}}],
                }
            }
        },
    )
    assert dict(config.eks.fargate.workload_selectors[0].labels) == {"a": "b"}


def test_stages_turn_node_container_insights_on_in_production_only() -> None:
    assert load_config(stage="sandbox").eks.container_insights.ec2_nodes is False
    production = load_config(stage="production")
    assert production.eks.container_insights.ec2_nodes is True
    assert production.eks.fargate.sample_app is False


def test_construct_rejects_what_eks_rejects_for_copies_without_the_config() -> None:
    with pytest.raises(ValueError, match="namespace must be a Kubernetes namespace name"):
        FargateSelector("Apps")
    with pytest.raises(ValueError, match="labels may list at most 5"):
        FargateSelector("apps", {f"k{i}": "v" for i in range(6)})
    with pytest.raises(ValueError, match="selectors must list 1 to 5"):
        check_selectors([FargateSelector(f"n{i}") for i in range(6)])
    with pytest.raises(ValueError, match=r"workload_selectors\[0\] must have no labels"):
        EksFargateProps(workload_selectors=(FargateSelector("apps", {"a": "b"}),))


def test_sample_writes_json_lines_in_the_workload_namespace(fargate_sandbox: FargateView) -> None:
    sample = fargate_sandbox.fargate.sample_manifest
    assert sample is not None
    objects = fargate_sandbox.objects(sample)
    deployment = objects["Deployment/json-logger"]
    assert deployment["metadata"]["namespace"] == "fargate-apps"
    assert "Namespace/fargate-apps" in objects
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("public.ecr.aws/")
    script = container["command"][-1]
    # The line it prints is JSON once printf's placeholders are filled.
    template = script.split("printf '", 1)[1].split("\\n'", 1)[0]
    record = json.loads(template.replace("%d", "1"))
    assert {"level", "message", "order_id"} <= set(record)
    assert container["resources"]["requests"]  # Fargate sizes the pod from its requests


def test_production_has_no_fargate_sample(fargate_production: FargateView) -> None:
    assert fargate_production.fargate.sample_manifest is None
    group = logical_id(fargate_production.fargate.pod_log_group)
    fargate_production.template.has_output("FargatePodLogGroup", {"Value": {"Ref": group}})
