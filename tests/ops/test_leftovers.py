"""After destroy-all: anything still tagged for the project and stage is listed (moto's Tagging API)."""

from __future__ import annotations

import dataclasses

from ops.leftovers import leftovers
from ops.report import Status
from stacks.config import AppConfig
from tests.ops.conftest import REGION, REPLICA_REGION, FakeAws, aws_client


def _tagged_key(region: str, stage: str) -> str:
    return aws_client("kms", region).create_key(
        Tags=[{"TagKey": "project", "TagValue": "containers-update"}, {"TagKey": "stage", "TagValue": stage}]
    )["KeyMetadata"]["Arn"]


def test_nothing_left_in_either_region(fake_aws: FakeAws, sandbox_config: AppConfig) -> None:
    _tagged_key(REGION, "production")  # another stage's: not ours to report
    results = leftovers(fake_aws.account(), sandbox_config, [REGION, REPLICA_REGION])
    assert [r.status for r in results] == [Status.PASS, Status.PASS]


def test_a_leftover_in_the_replica_region_is_never_silent(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    arn = _tagged_key(REPLICA_REGION, "sandbox")
    here, replica = leftovers(fake_aws.account(), sandbox_config, [REGION, REPLICA_REGION])
    assert here.status == Status.PASS
    assert replica.status == Status.FAIL and arn in replica.detail


def test_retained_resources_are_listed_as_expected_in_a_retaining_stage(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    arn = _tagged_key(REGION, "sandbox")
    [result] = leftovers(
        fake_aws.account(), dataclasses.replace(sandbox_config, removal_policy="retain"), [REGION]
    )
    assert result.status == Status.WARN and arn in result.detail
