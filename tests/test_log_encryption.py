"""Every log group encrypted with a customer managed key has a key whose policy admits it.

CloudWatch Logs uses a KMS key for a group only if the key's policy admits the regional Logs
service for that group's ARN, which Logs sends as the encryption context; a group whose key does
not admit it fails to create (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
Checked on the synthesized templates of both stages, group by group, against the key's own policy.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from constructs_lib._shared.log_key import admit_group
from tests.conftest import Synthesized
from tests.helpers import render

ACCOUNT = "<AWS::AccountId>"


def text(value: Any, region: str, stack_name: str = "") -> str:
    """`tests.helpers.render` with the pseudo parameters that name the region, the partition, the
    URL suffix and the stack filled in (the account stays `<AWS::AccountId>` on both sides)."""
    rendered = render(value)
    for pseudo, actual in (
        ("<AWS::Region>", region),
        ("<AWS::Partition>", "aws"),
        ("<AWS::URLSuffix>", "amazonaws.com"),
        ("<AWS::StackName>", stack_name),
    ):
        rendered = rendered.replace(pseudo, actual)
    return rendered


def logs_patterns(key: dict[str, Any], region: str, stack_name: str = "") -> list[str]:
    """The log-group ARN patterns for which the key's policy admits CloudWatch Logs."""
    patterns: list[str] = []
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        service = text(statement.get("Principal", {}).get("Service", ""), region)
        if statement["Effect"] != "Allow" or service != f"logs.{region}.amazonaws.com":
            continue
        context = statement.get("Condition", {}).get("ArnLike", {}).get("kms:EncryptionContext:aws:logs:arn")
        values = context if isinstance(context, list) else [context]
        patterns += [text(value, region, stack_name) for value in values if value is not None]
    return patterns


@pytest.mark.parametrize("stage", ["sandbox", "production"])
def test_every_encrypted_log_group_has_a_key_that_admits_it(
    stage: str, request: pytest.FixtureRequest
) -> None:
    synthesized: Synthesized = request.getfixturevalue(stage)
    checked, problems = 0, []
    for stack_id, stack in synthesized.stacks.items():
        resources = synthesized.template_json(stack_id)["Resources"]
        region = stack.region
        for logical_id, group in resources.items():
            if group["Type"] != "AWS::Logs::LogGroup" or "KmsKeyId" not in group["Properties"]:
                continue
            checked += 1
            # A key of this stack, whose policy the template holds.
            (key_id, _) = group["Properties"]["KmsKeyId"]["Fn::GetAtt"]
            name = group["Properties"].get("LogGroupName")
            # CloudFormation names an unnamed group `<StackName>-<LogicalId>-<suffix>`.
            rendered = text(name, region) if name else f"{stack.stack_name}-{logical_id}-AbCdEf123456"
            arn = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{rendered}"
            patterns = logs_patterns(resources[key_id], region, stack.stack_name)
            if not any(fnmatchcase(arn, pattern) for pattern in patterns):
                problems.append(f"{stack_id}/{logical_id}: key {key_id} does not admit {arn}")
    assert problems == []
    # Network, EcsFargate, Eks, EcsAnywhere, DataStores, ExpressMode and GuardDuty encrypt theirs.
    assert checked >= 15


def test_the_check_sees_a_key_that_does_not_admit_its_group() -> None:
    key = {
        "Properties": {
            "KeyPolicy": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "logs.ap-northeast-1.amazonaws.com"},
                        "Condition": {
                            "ArnLike": {
                                "kms:EncryptionContext:aws:logs:arn": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            "arn:aws:logs:ap-northeast-1:",
                                            {"Ref": "AWS::AccountId"},
                                            ":log-group:s-*",
                                        ],
                                    ]
                                }
                            }
                        },
                    }
                ]
            }
        }
    }
    patterns = logs_patterns(key, "ap-northeast-1")
    assert patterns == [f"arn:aws:logs:ap-northeast-1:{ACCOUNT}:log-group:s-*"]
    assert fnmatchcase(f"arn:aws:logs:ap-northeast-1:{ACCOUNT}:log-group:s-Logs-1", patterns[0])
    assert not fnmatchcase(f"arn:aws:logs:ap-northeast-1:{ACCOUNT}:log-group:/aws/rds/x", patterns[0])


def test_a_log_group_is_admitted_by_a_plain_name_only() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    key = kms.Key(stack, "Key")
    group = logs.LogGroup(stack, "Logs", encryption_key=key)
    for name in ("", stack.stack_id):
        with pytest.raises(
            ValueError, match=r"^name must be a plain, non-empty log group name, not a token, got"
        ):
            admit_group(key, group, sid="Logs", name=name)
