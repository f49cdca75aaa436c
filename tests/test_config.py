"""Configuration: bad input stops synth with one line naming the setting and the bad value."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest

import app as app_module
from stacks.config import AppConfig, ConfigError, load_config
from stacks.config.loader import build, setting
from tests.helpers import one_line_error, run_python


def test_default_is_the_sandbox_stage() -> None:
    config = load_config()
    assert config.stage == "sandbox"
    assert config.removal_policy == "destroy"
    assert config.network.nat_gateways == 1
    assert all(getattr(config, section).enabled for section in ("registry", "ecs", "eks"))


def test_production_stage_changes_retention_nat_and_protection() -> None:
    sandbox, production = load_config(stage="sandbox"), load_config(stage="production")
    assert (production.removal_policy, production.deletion_protection) == ("retain", True)
    assert production.log_retention_days > sandbox.log_retention_days
    assert production.network.nat_gateways == production.network.max_azs


def test_configuration_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_config().network.max_azs = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"netwrok": {}}, "netwrok is not a known setting"),
        ({"network": {"nat_gateway": 1}}, "network.nat_gateway is not a known setting"),
        ({"log_retention_days": "7"}, "log_retention_days must be a whole number, got '7'"),
        ({"log_retention_days": 8}, "log_retention_days must be one of 1, 3, 5, 7,"),
        ({"deletion_protection": "yes"}, "deletion_protection must be true or false, got 'yes'"),
        ({"removal_policy": "snapshot"}, "removal_policy must be one of 'destroy', 'retain', got 'snapshot'"),
        ({"region": "tokyo"}, "region must look like 'ap-northeast-1', got 'tokyo'"),
        ({"network": {"max_azs": 1}}, "network.max_azs must be at least 2, got 1"),
        ({"network": {"nat_gateways": 0}}, "network.nat_gateways must be at least 1, got 0"),
        (
            {"network": {"max_azs": 2, "nat_gateways": 3}},
            "network.nat_gateways must not exceed max_azs (2), got 3",
        ),
        ({"network": {"cidr": "10.0.0.0/24"}}, "network.cidr must be a /16 block"),
        ({"network": {"cidr": "banana"}}, "network.cidr must be an IPv4 CIDR block"),
        (
            {"network": {"interface_endpoints": ["ecr.api", "s3"]}},
            "network.interface_endpoints[1] must be one of",
        ),
        (
            {"network": {"interface_endpoints": "ecr.api"}},
            "network.interface_endpoints must be a list, got 'ecr.api'",
        ),
        ({"network": []}, "network must be a mapping of keys to values, got []"),
        ({"tags": ["a"]}, "tags must be a mapping, got ['a']"),
        ({"registry": {"enabled": 1}}, "registry.enabled must be true or false, got 1"),
        (
            {"network": {"availability_zones": ["ap-northeast-1a"]}},
            "network.availability_zones must name max_azs (2) zones when set, got ['ap-northeast-1a']",
        ),
        (
            {"network": {"availability_zones": ["tokyo-a", "b"]}},
            "network.availability_zones[0] must look like 'ap-northeast-1a', got 'tokyo-a'",
        ),
    ],
)
def test_fails_when_a_value_is_unknown_mistyped_or_out_of_range(data: dict, message: str) -> None:
    assert message in one_line_error(lambda: build(AppConfig, data))


def test_fails_when_the_stage_has_no_file() -> None:
    with pytest.raises(
        ConfigError, match=r"stage must name a file in config/ \(production, sandbox\), got 'prod'"
    ):
        load_config(stage="prod")


def test_fails_when_the_config_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config must be the path of a YAML file"):
        load_config(path=str(tmp_path / "nope.yaml"))


def test_fails_when_the_file_is_not_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("network:\n  max_azs: [1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml is not valid YAML at line \d+"):
        load_config(path=str(bad))


def test_fails_when_both_stage_and_config_are_given() -> None:
    with pytest.raises(ConfigError, match="give either -c stage or -c config"):
        load_config(stage="sandbox", path="config/sandbox.yaml")


def run_app(tmp_path: Path, context: str) -> subprocess.CompletedProcess[str]:
    """Run app.py the way the CDK CLI does: context in CDK_CONTEXT_JSON, output to CDK_OUTDIR."""
    env = {**os.environ, "CDK_CONTEXT_JSON": context, "CDK_OUTDIR": str(tmp_path / "out")}
    return run_python("app.py", env=env, timeout=120)


def test_bad_configuration_stops_the_app_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("network:\n  max_azs: 3\n  nat_gateways: 4\n")
    result = run_app(tmp_path, f'{{"config": "{bad}"}}')
    assert result.returncode == 1
    assert result.stderr.strip() == "error: network.nat_gateways must not exceed max_azs (3), got 4"
    assert not (tmp_path / "out" / "manifest.json").exists(), "nothing may be synthesized"


def test_fails_when_the_credentials_region_is_the_replication_destination() -> None:
    # With credentials the CLI's region wins, so this is checked when the stacks are composed.
    config = load_config()
    with pytest.raises(
        ConfigError,
        match=r"^registry.replication.destination_region must differ from the region the stacks deploy to "
        r"\(ap-northeast-3\), got 'ap-northeast-3'$",
    ):
        app_module.compose(cdk.App(), config, cdk.Environment(account="1", region="ap-northeast-3"))


def test_fails_when_pinned_zones_are_not_in_the_region_the_stacks_deploy_to() -> None:
    config = build(AppConfig, {"network": {"availability_zones": ["ap-northeast-1a", "ap-northeast-1c"]}})
    with pytest.raises(
        ConfigError,
        match=r"^network.availability_zones must be zones of the region the stacks deploy to \(us-east-1\), "
        r"got \['ap-northeast-1a', 'ap-northeast-1c'\]$",
    ):
        app_module.compose(cdk.App(), config, cdk.Environment(account="1", region="us-east-1"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "eks:\n  enabled: false\nnetwork:\n  max_azs: 2\neks:\n  kubernetes_version: '1.36'\n",
            "eks is given twice in {file} (lines 1 and 5), keep one",
        ),
        (
            "network:\n  max_azs: 2\n  nat_gateways: 1\n  max_azs: 3\n",
            "network.max_azs is given twice in {file} (lines 2 and 4), keep one",
        ),
        (
            "ecs:\n  graviton:\n    min_tasks: 1\n    min_tasks: 2\n",
            "ecs.graviton.min_tasks is given twice in {file} (lines 3 and 4), keep one",
        ),
    ],
)
def test_fails_when_a_key_is_given_twice(tmp_path: Path, text: str, message: str) -> None:
    # YAML keeps the last of two equal keys: a second `eks:` block silently replaced the first.
    file = tmp_path / "twice.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path=str(file))
    assert str(error.value) == message.format(file=file)


def test_fails_naming_the_file_when_it_is_not_utf8(tmp_path: Path) -> None:
    file = tmp_path / "latin1.yaml"
    file.write_bytes("tags:\n  project: café\n".encode("latin-1"))
    with pytest.raises(ConfigError) as error:
        load_config(path=str(file))
    assert str(error.value) == f"{file} must be UTF-8 text, got byte 0xe9 at offset 20"


def test_a_pattern_setting_shows_an_example_not_the_expression() -> None:
    with pytest.raises(TypeError, match="a pattern setting needs an example that matches it"):
        setting(None, pattern=r"[a-z]+")
    with pytest.raises(TypeError, match="a pattern setting needs an example that matches it, got 'X'"):
        setting("x", pattern=r"[a-z]+", example="X")
    # A string default is the example: it must match too.
    with pytest.raises(TypeError, match="a pattern setting needs an example that matches it, got 'X'"):
        setting("X", pattern=r"[a-z]+")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"deletion_protection": True, "removal_policy": "destroy"},
            "deletion_protection must be false when removal_policy is destroy (protected resources stop "
            "cdk destroy), got true",
        ),
        (
            {"tags": {"aws:owner": "me"}},
            "tags key must not start with aws: (reserved for AWS), got 'aws:owner'",
        ),
        (
            {"tags": {"cost#center": "42"}},
            "tags key may hold only letters, numbers, spaces and _ . : / = + - @, got 'cost#center'",
        ),
        ({"tags": {"team": "a|b"}}, "tags.team may hold only letters, numbers, spaces and _ . : / = + - @"),
        ({"tags": {"stage": "dev"}}, "tags key is set by the stacks themselves; remove it, got 'stage'"),
        ({"tags": {"k" * 129: "v"}}, "tags key must be 1 to 128 characters"),
        ({"tags": {"team": "v" * 257}}, "tags.team must be at most 256 characters"),
        ({"tags": {f"t{i}": "v" for i in range(41)}}, "tags may hold at most 40 tags"),
        ({"network": {"cidr": "127.0.0.0/16"}}, "network.cidr must not be a loopback, link-local, multicast"),
        (
            {"network": {"cidr": "169.254.0.0/16"}},
            "network.cidr must not be a loopback, link-local, multicast",
        ),
        (
            {"network": {"interface_endpoints": ["sts", "sts"]}},
            "network.interface_endpoints must not repeat an entry, got ['sts', 'sts']",
        ),
        (
            {"network": {"availability_zones": ["ap-northeast-1a", "ap-northeast-1a"]}},
            "network.availability_zones must not repeat an entry",
        ),
        (
            {"ecs": {"graviton": {"memory_mib": 4096}}},
            "ecs.graviton.memory_mib must be one of 512, 1024, 2048 for cpu 256 on Fargate, got 4096",
        ),
        (
            {"ecs": {"windows": {"cpu": 1024, "memory_mib": 9216}}},
            "ecs.windows.memory_mib must be one of 2048, 3072, 4096, 5120, 6144, 7168, 8192 for cpu 1024",
        ),
        (
            {"ecs": {"graviton": {"health_check_path": "/" + "a" * 1024}}},
            "ecs.graviton.health_check_path must be at most 1024 characters",
        ),
        ({"registry": {"application_repository": "a"}}, "registry.application_repository must be at least 2"),
        (
            {"registry": {"application_repository": "a" * 257}},
            "registry.application_repository must be at most 256 characters",
        ),
        (
            {"registry": {"scanning": {"continuous_filters": ["a" * 256]}}},
            "registry.scanning.continuous_filters[0] must be at most 255 characters",
        ),
        (
            {"registry": {"replication": {"repository_prefixes": ["app/", "app/"]}}},
            "registry.replication.repository_prefixes must not repeat a prefix, got ['app/', 'app/']",
        ),
    ],
)
def test_fails_when_a_value_would_be_refused_at_deploy(data: dict, message: str) -> None:
    assert message in one_line_error(lambda: build(AppConfig, data))


def test_tags_in_any_script_with_spaces_pass() -> None:
    assert (
        build(AppConfig, {"tags": {"チーム": "開発 1", "cost-center": "a=b+c@d"}}).tags["チーム"] == "開発 1"
    )


def test_fails_when_a_stage_file_names_another_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A copied file that kept `stage: sandbox` would deploy over the sandbox's stacks.
    monkeypatch.setattr("stacks.config.schema.CONFIG_DIR", tmp_path)
    (tmp_path / "staging.yaml").write_text("stage: sandbox\n")
    with pytest.raises(ConfigError) as error:
        load_config(stage="staging")
    assert (
        str(error.value)
        == f"stage in {tmp_path / 'staging.yaml'} must be 'staging' (the stage asked for), got 'sandbox'"
    )


def test_a_stage_file_without_a_stage_key_takes_the_stage_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("stacks.config.schema.CONFIG_DIR", tmp_path)
    (tmp_path / "staging.yaml").write_text("log_retention_days: 14\n")
    assert load_config(stage="staging").stage == "staging"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"eks": {"endpoint": {"access": "private", "public_access_cidrs": ["203.0.113.0/24"]}}},
            "eks.endpoint.public_access_cidrs must be left out when access is private (there is no public "
            "endpoint to open), got ['203.0.113.0/24']",
        ),
        (
            {"eks": {"sample_app": {"image": "nginx latest"}}},
            "eks.sample_app.image must look like 'public.ecr.aws/nginx/nginx:1.28', got 'nginx latest'",
        ),
    ],
)
def test_fails_when_eks_settings_contradict_or_cannot_deploy(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        build(AppConfig, data)
    assert str(error.value) == message
