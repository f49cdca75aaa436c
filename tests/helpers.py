"""Small helpers shared by the tests."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Matcher, Template
from botocore.stub import Stubber
from moto import mock_aws

from stacks.config import AppConfig, ConfigError

ROOT = Path(__file__).resolve().parents[1]
FEATURE_SECTIONS = ("registry", "ecs", "eks", "guardduty", "ecs_anywhere", "web")


def only_network(config: AppConfig) -> AppConfig:
    """The same configuration with every feature stack switched off: only Network remains."""
    changes = {name: dataclasses.replace(getattr(config, name), enabled=False) for name in FEATURE_SECTIONS}
    return dataclasses.replace(config, **changes)


def with_anywhere_test_host(config: AppConfig) -> AppConfig:
    """The same configuration with EcsAnywhere and its optional test host switched on."""
    anywhere = config.ecs_anywhere
    test_host = dataclasses.replace(anywhere.test_host, enabled=True)
    return dataclasses.replace(
        config, ecs_anywhere=dataclasses.replace(anywhere, enabled=True, test_host=test_host)
    )


def one_line_error(action: Callable[[], object], expected: type[Exception] = ConfigError) -> str:
    """The message of the `expected` error that `action()` raises, asserted to be one line.

    A bad setting or prop stops synth with one line that names it and its value, no traceback.
    """
    with pytest.raises(expected) as error:
        action()
    message = str(error.value)
    assert "\n" not in message, message
    return message


def run_python(*args: str, env: Mapping[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """`python <args>` in the project root, as the CDK CLI runs app.py, its output captured as text.

    The caller judges the exit code: some tests expect the run to fail.
    """
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def logical_id(construct: Any) -> str:
    """The logical id of an L1 resource, or of the resource behind an L2 construct, however deep.

    HelmChart, CustomResource and our own wrappers hold their CfnResource a level or two down.
    The id is the one written in the template: where CDK overrides the generated id (a generated
    secret, an instance whose user data forces replacement), the override.
    """
    element = construct
    while not isinstance(element, cdk.CfnElement):
        child = element.node.default_child
        assert child is not None, f"{construct.node.path} wraps no CloudFormation resource"
        element = child
    return str(cdk.Stack.of(element).resolve(element.logical_id))


def has_role_policy(template: Template, role_id: str, statements: Any, **document: Any) -> None:
    """Assert that the role `role_id` has an inline policy (`AWS::IAM::Policy`) with `statements`.

    `statements` is a list (every statement, in order), a `Match` or a `Capture`; `document` adds
    other keys of the policy document (`Version`).
    """
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"Roles": [{"Ref": role_id}], "PolicyDocument": {**document, "Statement": statements}},
    )


def allows(*actions: str, **fields: Any) -> Matcher:
    """A statement that allows at least `actions`, with `fields` (`Resource`, `Effect`) as given."""
    return Match.object_like({"Action": Match.array_with(list(actions)), **fields})


# The EKS user guide's IAM policy for the VPC CNI in an IPv6 cluster, as CDK writes it
# (https://docs.aws.amazon.com/eks/latest/userguide/cni-iam-role.html#cni-iam-role-create-ipv6-policy):
# every node role of the project carries exactly these statements.
IPV6_CNI_STATEMENTS = [
    {
        "Effect": "Allow",
        "Action": [
            "ec2:AssignIpv6Addresses",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeInstances",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeTags",
        ],
        "Resource": "*",
    },
    {
        "Effect": "Allow",
        "Action": "ec2:CreateTags",
        "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ec2:*:*:network-interface/*"]]},
    },
]


# The statement of every cleanup handler that reads its own stack's status (it acts only while
# that stack is being deleted or rolled back), and no other stack's.
READ_OWN_STACK = {
    "Sid": "ReadOwnStack",
    "Action": "cloudformation:DescribeStacks",
    "Effect": "Allow",
    "Resource": {"Ref": "AWS::StackId"},
}


def logs_of_stack_condition(stack_name: str, region: str = "ap-northeast-1") -> dict[str, Any]:
    """The key-policy condition that admits CloudWatch Logs for the log groups of `stack_name` only.

    CloudWatch Logs names the log group's ARN in the encryption context
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html); every
    generated group name starts with the stack's name.
    """
    arn = [f"arn:aws:logs:{region}:", {"Ref": "AWS::AccountId"}, f":log-group:{stack_name}-*"]
    return {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"Fn::Join": ["", arn]}}}


def render(value: Any) -> str:
    """A template string value as text: `Fn::Join` joined, `Ref` and `Fn::GetAtt` as `<Id>` / `<Id.Attr>`.

    For asserting on what a value reads as (an ARN, a shell command in an output) without
    matching on the serialized JSON around it.
    """
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    raise AssertionError(f"unexpected template value {value!r}")


def intrinsics(value: Any) -> set[str]:
    """The names of the intrinsic functions (`Fn::ImportValue`, `Ref`, ...) used anywhere in `value`."""
    if isinstance(value, list):
        return set().union(*(intrinsics(item) for item in value))
    if isinstance(value, dict):
        names = {key for key in value if key == "Ref" or key.startswith("Fn::")}
        return names.union(*(intrinsics(item) for item in value.values()))
    return set()


def parse_json_property(value: Any) -> Any:
    """Parse a JSON-valued property (Helm values, a manifest): a string, or an Fn::Join with tokens.

    Each deploy-time value inside (a `Ref`, an `Fn::GetAtt`) reads as the string "TOKEN".
    """
    if isinstance(value, dict):
        value = "".join(part if isinstance(part, str) else "TOKEN" for part in value["Fn::Join"][1])
    return json.loads(value)


@contextlib.contextmanager
def mocked_aws(region: str) -> Iterator[None]:
    """moto for a whole test module, with test credentials in `region` (starting moto costs seconds).

    Each test then takes an account of its own (`MOTO_ACCOUNT_ID`), which moto keeps apart.
    """
    with pytest.MonkeyPatch.context() as patch:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
            patch.setenv(key, "testing")
        patch.setenv("AWS_DEFAULT_REGION", region)
        patch.setenv("AWS_REGION", region)
        # No handler reads AMIs; loading moto's thousands of default AMIs costs a second.
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        with mock_aws():
            yield


def answer_stack_status(stubber: Stubber, stack_id: str, status: str) -> None:
    """Queue a DescribeStacks answer: moto's CloudFormation never shows DELETE_IN_PROGRESS.

    botocore's Stubber answers through a real client, which validates the request and the
    response against the service model.
    """
    stack = {
        "StackName": stack_id.split("/")[1],
        "StackId": stack_id,
        "CreationTime": datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
        "StackStatus": status,
    }
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": stack_id})


def cloudformation_event(
    request_type: str, *, stack_id: str, logical_id: str, properties: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """A custom-resource request as CloudFormation sends it (RequestId `r1`), `extra` keys added."""
    return {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/signed",
        "StackId": stack_id,
        "RequestId": "r1",
        "LogicalResourceId": logical_id,
        "ResourceProperties": {"ServiceToken": "arn", **properties},
        **extra,
    }


@dataclasses.dataclass
class LambdaContext:
    """What the handlers read of Lambda's context object: the time left and the log stream."""

    remaining_ms: int = 300_000
    log_stream_name: str = "2026/11/30/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def assert_dead_letters_raise_an_alarm(template: Any, findings: Any) -> None:
    """A findings construct's alarm goes off on the first dead-lettered finding and tells its topic,
    and CloudWatch may use the topic's key for this account's alarms only."""
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Namespace": "AWS/SQS",
            "Dimensions": [
                {
                    "Name": "QueueName",
                    "Value": {"Fn::GetAtt": [logical_id(findings.dead_letter_queue), "QueueName"]},
                }
            ],
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "AlarmActions": [{"Ref": logical_id(findings.topic)}],
        },
    )
    key_policy = template.to_json()["Resources"][logical_id(findings.key)]["Properties"]["KeyPolicy"]
    (cloudwatch,) = [
        s
        for s in key_policy["Statement"]
        if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
    ]
    assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
