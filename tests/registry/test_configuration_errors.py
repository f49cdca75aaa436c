"""Bad Registry settings stop synth with one line naming the key (config) or the prop (construct)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib.ecr import CrossRegionReplication, EnhancedScanning, PullThroughCache, ScanFindingAlerts
from stacks.config import ConfigError, load_config
from stacks.config.loader import build
from stacks.config.registry import RegistryConfig
from tests.helpers import one_line_error
from tests.registry.conftest import ENV, make_registry

# Complete ARNs of existing secrets (Secrets Manager appends six random characters to a name).
SECRETS = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:ecr-pullthroughcache/"


def registry_config(data: dict[str, Any]) -> RegistryConfig:
    return build(RegistryConfig, data, "registry")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"scanning": {"continuous_filters": ["App/*"]}},
            "registry.scanning.continuous_filters[0] must look like 'app/*', got 'App/*'",
        ),
        (
            {"scanning": {"scan_on_push_filters": ["app/ web"]}},
            "registry.scanning.scan_on_push_filters[0] must look like 'team-*/web'",
        ),
        (
            {"scanning": {"continuous_filters": [f"r{i}" for i in range(101)]}},
            "may list at most 100 items, got 101",
        ),
        (
            {"scanning": {"retain_on_delete": "yes"}},
            "registry.scanning.retain_on_delete must be true or false",
        ),
        (
            {"pull_through_cache": {"upstreams": ["gcr"]}},
            "registry.pull_through_cache.upstreams[0] must be one of",
        ),
        (
            {
                "pull_through_cache": {
                    "upstreams": ["docker-hub"],
                    "credentials": {"docker-hub": "dockerhub-token"},
                }
            },
            "registry.pull_through_cache.credentials.docker-hub must be the complete ARN of a secret named "
            "ecr-pullthroughcache/...",
        ),
        (
            {"pull_through_cache": {"upstreams": ["ecr-public", "github-container-registry"]}},
            "registry.pull_through_cache.credentials.github-container-registry must name",
        ),
        (
            {"pull_through_cache": {"credentials": {"docker-hub": f"{SECRETS}docker-hub-AbC123"}}},
            "registry.pull_through_cache.credentials must name upstreams listed",
        ),
        (
            {
                "pull_through_cache": {
                    "upstreams": ["docker-hub"],
                    "credentials": {"docker-hub": "ecr-pullthroughcache/docker-hub"},
                }
            },
            "registry.pull_through_cache.credentials.docker-hub must be the secret's complete ARN, such as "
            "arn:aws:secretsmanager:<region>:<account>:secret:ecr-pullthroughcache/<name>-AbCdEf (aws "
            "secretsmanager describe-secret --secret-id ecr-pullthroughcache/docker-hub --query ARN), "
            "not its name, got 'ecr-pullthroughcache/docker-hub'",
        ),
        (
            {
                "pull_through_cache": {
                    "upstreams": ["docker-hub"],
                    "credentials": {
                        "docker-hub": "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:"
                        "ecr-pullthroughcache/docker-hub"
                    },
                }
            },
            "registry.pull_through_cache.credentials.docker-hub must be the complete ARN",
        ),
        ({"findings": {"minimum_severity": "SEVERE"}}, "registry.findings.minimum_severity must be one of"),
        (
            {"findings": {"email": "not-an-address"}},
            "registry.findings.email must look like 'you@example.com', got 'not-an-address'",
        ),
        (
            {"replication": {"destination_region": "osaka"}},
            "registry.replication.destination_region must look like 'ap-northeast-3', got 'osaka'",
        ),
        (
            {"replication": {"repository_prefixes": ["App/"]}},
            "registry.replication.repository_prefixes[0] must look like 'app/'",
        ),
        (
            {"application_repository": "App"},
            "registry.application_repository must look like 'app/web', got 'App'",
        ),
        ({"lifecycle": {"keep_last_images": 0}}, "registry.lifecycle.keep_last_images must be at least 1"),
        ({"scaning": {}}, "registry.scaning is not a known setting"),
    ],
)
def test_fails_when_a_setting_is_bad(data: dict[str, Any], message: str) -> None:
    assert message in one_line_error(lambda: registry_config(data))


def test_fails_when_replicating_to_the_stack_region() -> None:
    with pytest.raises(
        ValueError, match=r"^destination_region must differ from the stack's region, got 'ap-northeast-1'$"
    ):
        make_registry({"replication": {"destination_region": "ap-northeast-1"}})


def test_fails_from_the_yaml_file_with_one_line(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("registry:\n  pull_through_cache:\n    upstreams: [ecr-public, harbor]\n")
    with pytest.raises(
        ConfigError, match=r"^registry\.pull_through_cache\.upstreams\[1\] must be one of .*'harbor'$"
    ):
        load_config(path=str(file))


@pytest.mark.parametrize("stage", ["sandbox", "production"])
def test_both_stages_parse(stage: str) -> None:
    config = load_config(stage=stage).registry
    assert config.replication.destination_region == "ap-northeast-3"
    assert config.pull_through_cache.upstreams == ("ecr-public", "quay", "k8s")


# --- the constructs validate their own props (for users who copy them) -----------------------


def scope() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "S", env=ENV)


@pytest.mark.parametrize(
    ("build_it", "message"),
    [
        (
            lambda s: EnhancedScanning(s, "X", continuous_filters=["a b"]),
            "continuous_filters must be lowercase",
        ),
        (
            lambda s: EnhancedScanning(s, "X", continuous_filters=["x"] * 101),
            "continuous_filters must list at most 100",
        ),
        (lambda s: EnhancedScanning(s, "X", continuous_filters="app/*"), "continuous_filters must be a list"),
        (lambda s: PullThroughCache(s, "X", upstreams=["harbor"]), "upstreams must be among"),
        (
            lambda s: PullThroughCache(s, "X", upstreams=["docker-hub"]),
            "credentials must hold a ecr-pullthroughcache/",
        ),
        (lambda s: PullThroughCache(s, "X", prefixes={"quay": "Q"}), "prefixes must be 2 to 30"),
        (
            lambda s: PullThroughCache(
                s,
                "X",
                upstreams=["docker-hub"],
                credentials={
                    "docker-hub": cdk.aws_secretsmanager.Secret.from_secret_name_v2(s, "S", "docker")
                },
            ),
            "credentials must be secrets named ecr-pullthroughcache/..., got 'docker'",
        ),
        (
            lambda s: PullThroughCache(
                s,
                "X",
                upstreams=["docker-hub"],
                credentials={
                    "docker-hub": cdk.aws_secretsmanager.Secret.from_secret_name_v2(
                        s, "P", "ecr-pullthroughcache/docker-hub"
                    )
                },
            ),
            "credentials must be secrets with a complete ARN (Secret.from_secret_complete_arn or a Secret "
            "of this app), got a partial ARN for 'ecr-pullthroughcache/docker-hub'",
        ),
        (lambda s: ScanFindingAlerts(s, "X", minimum_severity="low"), "minimum_severity must be one of"),
        (
            lambda s: CrossRegionReplication(
                s, "X", destination_region="ap-northeast-1", repository_prefixes=["app/"]
            ),
            "destination_region must differ from the stack's region",
        ),
        (
            lambda s: CrossRegionReplication(s, "X", destination_region="us-east-1", repository_prefixes=[]),
            "repository_prefixes must list 1 to 100 prefixes",
        ),
    ],
)
def test_constructs_fail_cleanly_on_bad_props(build_it: Any, message: str) -> None:
    assert one_line_error(lambda: build_it(scope()), ValueError).startswith(message)
