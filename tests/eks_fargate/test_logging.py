"""Item 2: the aws-logging ConfigMap obeys Fargate's rules, and its log group is the stack's."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from constructs_lib.eks.fargate import MAX_CHARACTERS, check_aws_logging, render_aws_logging
from tests.eks_fargate.conftest import FargateView
from tests.helpers import logical_id

GROUP = "/aws/eks/containers-update-sandbox/fargate-pods"


def sections(text: str) -> list[dict[str, str]]:
    """`[SECTION]` blocks of a Fluent Bit file as dicts (lowercased keys, `_section` the header)."""
    found: list[dict[str, str]] = []
    for line in text.splitlines():
        if line.strip().startswith("["):
            found.append({"_section": line.strip()})
        elif line.strip():
            key, value = line.split(None, 1)
            found[-1][key.lower()] = value.strip()
    return found


@pytest.fixture(scope="module")
def logging_objects(fargate_sandbox: FargateView) -> dict[str, dict]:
    return fargate_sandbox.objects(fargate_sandbox.fargate.logging_manifest)


@pytest.fixture(scope="module")
def config_data(logging_objects: dict[str, dict]) -> Mapping[str, str]:
    return logging_objects["ConfigMap/aws-logging"]["data"]


def test_namespace_is_aws_observability_with_the_enabling_label(logging_objects: dict[str, dict]) -> None:
    namespace = logging_objects["Namespace/aws-observability"]
    assert namespace["metadata"]["labels"]["aws-observability"] == "enabled"
    assert logging_objects["ConfigMap/aws-logging"]["metadata"]["namespace"] == "aws-observability"


def test_deployed_config_map_passes_fargates_rules(config_data: Mapping[str, str]) -> None:
    check_aws_logging(config_data)
    assert sum(len(k) + len(v) for k, v in config_data.items()) <= MAX_CHARACTERS
    assert config_data["flb_log_cw"] == "false"  # no Fluent Bit process logs to a group EKS would create


def test_parser_reads_the_cri_format(config_data: Mapping[str, str]) -> None:
    [parser] = sections(config_data["parsers.conf"])
    assert parser["name"] == "cri" and parser["format"] == "regex"
    assert parser["regex"].startswith("^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>P|F) (?<log>.*)$")
    [first, _] = sections(config_data["filters.conf"])
    assert first == {
        "_section": "[FILTER]",
        "name": "parser",
        "match": "kube.*",
        "key_name": "log",
        "parser": "cri",
    }


def test_kubernetes_filter_merges_json_drops_the_line_and_caches_metadata(
    config_data: Mapping[str, str],
) -> None:
    [_, kubernetes] = sections(config_data["filters.conf"])
    assert kubernetes["name"] == "kubernetes"
    assert kubernetes["match"] == "kube.*"
    assert kubernetes["merge_log"] == "On"
    assert kubernetes["keep_log"] == "Off"
    assert kubernetes["kube_meta_cache_ttl"] == "300s"
    assert not {"kube_url", "kube_ca_file", "kube_token_command", "kube_token_file"} & set(kubernetes)


def test_output_writes_to_the_stacks_group_and_creates_none(
    config_data: Mapping[str, str], fargate_sandbox: FargateView
) -> None:
    [output] = sections(config_data["output.conf"])
    assert output["name"] == "cloudwatch_logs"
    assert output["log_group_name"] == GROUP
    assert output["region"] == fargate_sandbox.stack.region
    assert output["auto_create_group"] == "false"
    assert "log_retention_days" not in output  # retention is the group's, set by the stack
    fargate_sandbox.template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": GROUP,
            "RetentionInDays": 7,
            "KmsKeyId": {"Fn::GetAtt": [logical_id(fargate_sandbox.fargate.log_key), "Arn"]},
        },
    )


def test_pod_execution_role_writes_to_that_group_only(fargate_sandbox: FargateView) -> None:
    role = logical_id(fargate_sandbox.fargate.profiles.pod_execution_role)
    group = logical_id(fargate_sandbox.fargate.pod_log_group)
    policies = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in fargate_sandbox.resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
    ]
    assert policies == [
        [
            {
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [group, "Arn"]},
            }
        ]
    ]


GOOD = render_aws_logging(region="ap-northeast-1", log_group_name="/aws/eks/demo/fargate-pods")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"service.conf": "[SERVICE]\n    Flush 1\n"}, "may hold only"),
        ({"filters.conf": "[INPUT]\n    Name tail\n    Match *\n"}, "may hold only [FILTER] sections"),
        ({"filters.conf": "[FILTER]\n    Name lua\n    Match *\n"}, "filter must be one of"),
        ({"filters.conf": "[FILTER]\n    Name grep\n"}, "must set match"),
        ({"parsers.conf": "[PARSER]\n    Name json\n"}, "must set format"),
        ({"output.conf": "[OUTPUT]\n    Name s3\n    Match *\n"}, "output must be one of"),
        ({"output.conf": ""}, "at least one supported [OUTPUT]"),
        (
            {"output.conf": GOOD["output.conf"].replace("ap-northeast-1", "${AWS_REGION}")},
            "environment variables",
        ),
        (
            {"filters.conf": "[FILTER]\n    Name kubernetes\n    Match kube.*\n    Kube_URL https://x\n"},
            "must not set kube_url",
        ),
        ({"filters.conf": "[FILTER]\n    Name grep\n  Match *\n"}, "indent every entry alike"),
        ({"filters.conf": "  [FILTER]\n  Name grep\n  Match *\n"}, "deeper than headers"),
        ({"flb_log_cw": "yes"}, 'must be "true" or "false"'),
        ({"filters.conf": GOOD["filters.conf"] + "#" * MAX_CHARACTERS}, f"must not exceed {MAX_CHARACTERS}"),
    ],
)
def test_validator_rejects_what_fargate_rejects(change: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]").replace("$", r"\$")):
        check_aws_logging({**GOOD, **change})


def test_validator_counts_characters_of_unresolved_tokens() -> None:
    check_aws_logging(GOOD)
    room = MAX_CHARACTERS - sum(len(k) + len(v) for k, v in GOOD.items())
    with pytest.raises(ValueError, match="must not exceed"):
        check_aws_logging(GOOD, token_allowance=room + 1)
