"""Stages side by side: each stage's stacks get their own CloudFormation names, and ARNs fit the region."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

import app as app_module
from stacks.config import AppConfig, ConfigError
from stacks.config.loader import build
from tests.conftest import Synthesized


def stack_names(synthesized: Synthesized) -> dict[str, str]:
    """Artifact id (what `cdk deploy <id>` selects) -> CloudFormation stack name, from the manifest."""
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    return {
        artifact_id: artifact["properties"]["stackName"]
        for artifact_id, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }


def test_stack_names_carry_the_stage_and_ids_stay_short(sandbox: Synthesized) -> None:
    names = stack_names(sandbox)
    assert set(names) == set(sandbox.stacks), "the ids `cdk deploy Network` selects stay stage-free"
    assert names == {stack_id: f"sandbox-{stack_id}" for stack_id in sandbox.stacks}


def test_two_stages_in_one_account_never_share_a_stack_name(
    sandbox: Synthesized, production: Synthesized
) -> None:
    assert not set(stack_names(sandbox).values()) & set(stack_names(production).values())


def test_registry_says_it_holds_account_wide_settings(sandbox: Synthesized) -> None:
    assert (
        "deploy one stage's Registry per account and region"
        in sandbox.template_json("Registry")["Description"]
    )


CERTIFICATE = "arn:aws:acm:ap-northeast-1:111122223333:certificate/1a2b3c4d-0000-1111-2222-333344445555"
SECRET = "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:ecr-pullthroughcache/docker-hub-AbCdEf"


@pytest.mark.parametrize(
    ("data", "env", "message"),
    [
        (
            {"ecs": {"graviton": {"certificate_arn": CERTIFICATE}}},
            cdk.Environment(region="us-east-1"),
            f"ecs.graviton.certificate_arn must be in the region the stacks deploy to (us-east-1), "
            f"got {CERTIFICATE!r}",
        ),
        (
            {"ecs": {"graviton": {"certificate_arn": CERTIFICATE}}},
            cdk.Environment(account="444455556666", region="ap-northeast-1"),
            f"ecs.graviton.certificate_arn must be in the account the stacks deploy to (444455556666), "
            f"got {CERTIFICATE!r}",
        ),
        (
            {
                "registry": {
                    "pull_through_cache": {
                        "upstreams": ["docker-hub"],
                        "credentials": {"docker-hub": SECRET},
                    }
                }
            },
            cdk.Environment(region="eu-west-1"),
            "registry.pull_through_cache.credentials.docker-hub must be in the region the stacks deploy "
            f"to (eu-west-1), got {SECRET!r}",
        ),
        (
            {"eks": {"admin_principal_arn": "arn:aws:iam::111122223333:role/Admin"}},
            cdk.Environment(region="cn-north-1"),
            "eks.admin_principal_arn must be an ARN of the aws-cn partition (the stacks deploy to "
            "cn-north-1), got 'arn:aws:iam::111122223333:role/Admin'",
        ),
    ],
)
def test_fails_when_an_arn_is_of_another_region_account_or_partition(
    data: dict, env: cdk.Environment, message: str
) -> None:
    config = build(AppConfig, data)
    with pytest.raises(ConfigError) as error:
        app_module.compose(cdk.App(), config, env)
    assert str(error.value) == message


def test_an_arn_of_the_stacks_own_region_and_account_passes() -> None:
    config = build(AppConfig, {"ecs": {"graviton": {"certificate_arn": CERTIFICATE}}})
    app_module.check_arns(config, cdk.Environment(account="111122223333", region="ap-northeast-1"))


def test_fails_when_replication_leaves_the_partition() -> None:
    config = build(AppConfig, {"registry": {"replication": {"destination_region": "cn-north-1"}}})
    with pytest.raises(ConfigError) as error:
        app_module.compose(cdk.App(), config, cdk.Environment(region="ap-northeast-1"))
    assert str(error.value) == (
        "registry.replication.destination_region must be in the partition of the region the stacks deploy "
        "to (ap-northeast-1), got 'cn-north-1'"
    )
