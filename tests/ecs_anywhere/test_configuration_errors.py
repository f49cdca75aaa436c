"""ECS Anywhere settings that SSM, ECS or the stage would reject stop synth with one line."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

import app as app_module
from constructs_lib.ecs.anywhere import ExternalGpuTask, ExternalGpuTaskProps, SsmActivationProps
from stacks.config import AppConfig, ConfigError, load_config
from stacks.config.ecs_anywhere import EcsAnywhereConfig
from stacks.config.loader import build
from tests.helpers import one_line_error, only_network, with_anywhere_test_host


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"activation": {"expiration_days": 31}},
            "ecs_anywhere.activation.expiration_days must be at most 30, got 31",
        ),
        (
            {"activation": {"expiration_days": 0}},
            "ecs_anywhere.activation.expiration_days must be at least 1, got 0",
        ),
        (
            {"activation": {"registration_limit": 0}},
            "ecs_anywhere.activation.registration_limit must be at least 1, got 0",
        ),
        (
            {"activation": {"registration_limit": 1001}},
            "ecs_anywhere.activation.registration_limit must be at most 1000, got 1001",
        ),
        ({"gpu": {"gpu_count": 0}}, "ecs_anywhere.gpu.gpu_count must be at least 1, got 0"),
        ({"linux": {"desired_count": -1}}, "ecs_anywhere.linux.desired_count must be at least 0, got -1"),
        (
            {"test_host": {"instance_type": "small"}},
            "ecs_anywhere.test_host.instance_type must look like 't4g.small', got 'small'",
        ),
    ],
)
def test_fails_when_an_ecs_anywhere_setting_is_out_of_range(section: dict[str, Any], message: str) -> None:
    assert one_line_error(lambda: build(AppConfig, {"ecs_anywhere": section})).startswith(message)


def test_fails_when_the_test_host_is_asked_for_in_a_stage_that_retains_its_resources() -> None:
    config = with_anywhere_test_host(only_network(load_config(stage="production")))
    with pytest.raises(ConfigError) as error:
        app_module.compose(cdk.App(), config, cdk.Environment(region="ap-northeast-1"))
    assert str(error.value) == (
        "ecs_anywhere.test_host.enabled must be false in a stage with removal_policy retain "
        "(the test host is a sandbox experiment), got true"
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (SsmActivationProps(expiration_days=31), "expiration_days must be 1 to 30 (SSM limit), got 31"),
        (SsmActivationProps(registration_limit=1001), "registration_limit must be 1 to 1000, got 1001"),
        (SsmActivationProps(renewal=-1), "renewal must not be negative, got -1"),
    ],
)
def test_a_copied_activation_construct_refuses_what_ssm_would(
    props: SsmActivationProps, message: str
) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        props.validate()


def test_a_copied_gpu_task_construct_refuses_a_task_without_a_gpu() -> None:
    stack = cdk.Stack(cdk.App(), "Probe")
    props = ExternalGpuTaskProps(
        image=cdk.aws_ecs.ContainerImage.from_registry("nvidia/cuda:12.6.3-base-ubuntu24.04"), gpu_count=0
    )
    with pytest.raises(ValueError, match=r"^gpu_count must be at least 1 for a GPU task, got 0$"):
        ExternalGpuTask(stack, "Gpu", props=props)


def leaf_keys(cls: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for item in dataclasses.fields(cls):
        kind = item.default_factory if item.default_factory is not dataclasses.MISSING else None
        if kind is not None and dataclasses.is_dataclass(kind):
            keys |= leaf_keys(kind, f"{prefix}{item.name}.")
        else:
            keys.add(f"{prefix}{item.name}")
    return keys


def test_the_readme_documents_every_ecs_anywhere_key_and_no_other() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("### `ecs_anywhere`", 1)[1].split("\n#", 1)[0]
    documented: set[str] = set()
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        names = re.findall(r"`([a-z_.]+)`", row.split("|")[1])
        section = names[0].rpartition(".")[0]
        documented |= {name if "." in name or not section else f"{section}.{name}" for name in names}
    assert documented == leaf_keys(EcsAnywhereConfig)
