"""Every log group encrypted with a customer managed key has a key whose policy admits it.

CloudWatch Logs uses a KMS key for a group only if the key's policy admits the regional Logs
service for that group's ARN, which Logs sends as the encryption context; a group whose key does
not admit it fails to create (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
Checked on the synthesized templates of both stages, group by group, against the key's own policy.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.conftest import Synthesized

ACCOUNT = "111122223333"


def render(value: Any, region: str, stack_name: str = "") -> str:
    """A template value as a string, with the pseudo parameters filled in."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(render(part, region, stack_name) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
        }
        return pseudo.get(value["Ref"], f"<{value['Ref']}>")
    return f"<{value}>"


def logs_patterns(key: dict[str, Any], region: str, stack_name: str = "") -> list[str]:
    """The log-group ARN patterns for which the key's policy admits CloudWatch Logs."""
    patterns: list[str] = []
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        service = render(statement.get("Principal", {}).get("Service", ""), region)
        if statement["Effect"] != "Allow" or service != f"logs.{region}.amazonaws.com":
            continue
        context = statement.get("Condition", {}).get("ArnLike", {}).get("kms:EncryptionContext:aws:logs:arn")
        values = context if isinstance(context, list) else [context]
        patterns += [render(value, region, stack_name) for value in values if value is not None]
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
            rendered = render(name, region) if name else f"{stack.stack_name}-{logical_id}-AbCdEf123456"
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
