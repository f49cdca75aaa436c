"""The GuardDuty stack's template: detector, findings, endpoint cleanup, delete order, both stages."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template
from constructs import IConstruct

from constructs_lib.security import GuardDutyFeatures, GuardDutyFindingAlerts
from stacks.config import AppConfig, ConfigError
from stacks.config.loader import build
from tests.conftest import Synthesized
from tests.helpers import assert_dead_letters_raise_an_alarm, logical_id

STACK = "GuardDuty"


@pytest.fixture(scope="module")
def template(sandbox: Synthesized) -> Template:
    return sandbox.template(STACK)


def construct_at(synth: Synthesized, path: str) -> IConstruct:
    """The construct at `path` (ids separated by `/`) under the GuardDuty stack."""
    construct: IConstruct = synth.stacks[STACK]
    for part in path.split("/"):
        construct = construct.node.find_child(part)
    return construct


def resources_of(template: Template, resource_type: str) -> dict[str, Any]:
    return dict(template.find_resources(resource_type))


def test_the_detector_gets_the_configured_container_features(template: Template) -> None:
    template.has_resource_properties(
        "Custom::GuardDutyDetector",
        {
            # Spelled out rather than computed from GuardDutyFeatures: what the API must receive.
            "Features": [
                {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"},
                {
                    "Name": "RUNTIME_MONITORING",
                    "Status": "ENABLED",
                    "AdditionalConfiguration": [
                        {"Name": "EKS_ADDON_MANAGEMENT", "Status": "ENABLED"},
                        {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"},
                        {"Name": "EC2_AGENT_MANAGEMENT", "Status": "DISABLED"},
                    ],
                },
            ],
            "DisabledOnCreate": Match.array_with(["S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"]),
            "ManageFeatures": True,
        },
    )
    # Never the CloudFormation resource: it fails where a detector exists already.
    assert resources_of(template, "AWS::GuardDuty::Detector") == {}


def test_the_detector_is_deleted_before_the_endpoint_cleanup_runs(
    sandbox: Synthesized, template: Template
) -> None:
    # CloudFormation deletes dependants first: the detector (features off or deleted) goes, then
    # the cleanup removes GuardDuty's endpoint, which GuardDuty then no longer re-creates.
    detector = logical_id(construct_at(sandbox, "Detector/Resource"))
    cleanup = logical_id(construct_at(sandbox, "AgentEndpointCleanup/Resource"))
    assert cleanup in template.to_json()["Resources"][detector]["DependsOn"]


def test_the_cleanup_works_on_the_network_vpc_and_guardduty_service_names(
    sandbox: Synthesized, template: Template
) -> None:
    vpc = Capture()
    template.has_resource_properties(
        "Custom::GuardDutyAgentEndpointCleanup",
        {
            "VpcId": {"Fn::GetStackOutput": vpc},
            "ServiceNames": [
                {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".guardduty-data"]]},
                {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".guardduty-data-fips"]]},
            ],
        },
    )
    network = sandbox.stacks["Network"].stack_name
    assert vpc.as_object()["StackName"] == network and "Vpc" in vpc.as_object()["OutputName"]


def test_the_cleanup_may_delete_only_what_guardduty_tagged(template: Template) -> None:
    tagged = {"aws:ResourceTag/GuardDutyManaged": "true"}
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Action": "ec2:DeleteVpcEndpoints", "Condition": {"StringEquals": tagged}}
                        ),
                        Match.object_like(
                            {
                                "Action": "ec2:DeleteSecurityGroup",
                                "Condition": {
                                    "StringEquals": Match.object_like(
                                        {**tagged, "ec2:Vpc": Match.any_value()}
                                    )
                                },
                            }
                        ),
                    ]
                )
            }
        },
    )


def test_findings_at_or_above_high_go_to_an_encrypted_topic_with_a_dead_letter_queue(
    sandbox: Synthesized, template: Template
) -> None:
    topic = logical_id(construct_at(sandbox, "Findings/Resource"))
    queue = logical_id(construct_at(sandbox, "Findings/DeadLetterQueue"))
    key = logical_id(construct_at(sandbox, "Findings/Key"))
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.guardduty"],
                "detail-type": ["GuardDuty Finding"],
                "detail": {"severity": [{"numeric": [">=", 7]}]},
            },
            "Targets": [
                Match.object_like(
                    {"Arn": {"Ref": topic}, "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}}
                )
            ],
        },
    )
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}})
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}})
    insecure = {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    for policy_type in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"):
        template.has_resource_properties(
            policy_type, {"PolicyDocument": {"Statement": Match.array_with([Match.object_like(insecure)])}}
        )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    # No address configured in the sandbox: no subscription to confirm.
    assert resources_of(template, "AWS::SNS::Subscription") == {}


def test_an_alarm_tells_the_topic_as_soon_as_a_finding_is_dead_lettered(
    sandbox: Synthesized, template: Template
) -> None:
    findings = construct_at(sandbox, "Findings")
    assert isinstance(findings, GuardDutyFindingAlerts)
    assert_dead_letters_raise_an_alarm(template, findings)


def test_handler_logs_are_encrypted_with_a_key_only_this_stacks_groups_may_use(
    sandbox: Synthesized, template: Template
) -> None:
    key = logical_id(construct_at(sandbox, "LogKey"))
    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert len(groups) == 2
    for group in groups.values():
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
        assert group["Properties"]["RetentionInDays"] == 7
    statements = template.to_json()["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in statements if s.get("Sid") == "CloudWatchLogsForThisStack"]
    pattern = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]["Fn::Join"][1]
    assert pattern[-2:] == [{"Ref": "AWS::StackName"}, "-*"]


def test_handlers_are_never_retried_by_lambda(template: Template) -> None:
    configs = resources_of(template, "AWS::Lambda::EventInvokeConfig")
    assert [c["Properties"]["MaximumRetryAttempts"] for c in configs.values()] == [0, 0]
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Runtime": "python3.14", "Architectures": ["arm64"]}
    )


def test_two_lambda_backed_custom_resources_and_no_more(template: Template) -> None:
    resources = template.to_json()["Resources"]
    custom = sorted(r["Type"] for r in resources.values() if r["Type"].startswith("Custom::"))
    assert custom == ["Custom::GuardDutyAgentEndpointCleanup", "Custom::GuardDutyDetector"]
    assert len(resources_of(template, "AWS::Lambda::Function")) == 2


def test_stateful_logical_ids_are_pinned(sandbox: Synthesized) -> None:
    # Renaming one of these replaces it: a new key, topic (subscriptions lost) or detector record.
    assert {
        path: logical_id(construct_at(sandbox, path))
        for path in (
            "LogKey",
            "Detector/Resource",
            "Detector/LogGroup",
            "AgentEndpointCleanup/Resource",
            "AgentEndpointCleanup/LogGroup",
            "Findings/Key",
            "Findings/Resource",
            "Findings/DeadLetterQueue",
        )
    } == {
        "LogKey": "LogKeyE83D0C1B",
        "Detector/Resource": "Detector8252EF51",
        "Detector/LogGroup": "DetectorLogGroup7F84711E",
        "AgentEndpointCleanup/Resource": "AgentEndpointCleanup31C13947",
        "AgentEndpointCleanup/LogGroup": "AgentEndpointCleanupLogGroup96B862BF",
        "Findings/Key": "FindingsKeyC72F54EF",
        "Findings/Resource": "Findings4AD62E91",
        "Findings/DeadLetterQueue": "FindingsDeadLetterQueue7357FBE7",
    }


def test_the_stack_needs_only_network_and_is_destroyed_before_the_workloads(sandbox: Synthesized) -> None:
    manifest = json.loads((sandbox.outdir / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    stacks = [name for name in artifacts if name in sandbox.stacks]
    dependencies = {d for d in artifacts[STACK].get("dependencies", []) if d in sandbox.stacks}
    assert dependencies == {"Network"}
    # Independent stacks are destroyed in the reverse of this order: GuardDuty (and its detector)
    # before the clusters whose agents it manages, Network after all of them.
    assert stacks.index(STACK) > max(stacks.index("Eks"), stacks.index("EcsFargate"))


def test_production_leaves_the_organizations_detector_alone(production: Synthesized) -> None:
    template = production.template(STACK)
    template.has_resource_properties("Custom::GuardDutyDetector", {"ManageFeatures": False})
    # Nothing here makes GuardDuty deploy agents, so nothing here cleans their endpoints.
    assert resources_of(template, "Custom::GuardDutyAgentEndpointCleanup") == {}
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": Match.object_like({"detail": {"severity": [{"numeric": [">=", 4]}]}})},
    )
    template.has_resource(
        "AWS::KMS::Key",
        {"DeletionPolicy": "Retain", "Properties": Match.object_like({"EnableKeyRotation": True})},
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"features": {"runtime_monitoring": False}},
            "guardduty.features.eks_addon_management needs runtime_monitoring: true, "
            "got runtime_monitoring: false",
        ),
        (
            {"findings": {"minimum_severity": "SEVERE"}},
            "guardduty.findings.minimum_severity must be one of 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL', "
            "got 'SEVERE'",
        ),
        (
            {"findings": {"email": "not-an-address"}},
            "guardduty.findings.email must look like 'you@example.com', got 'not-an-address'",
        ),
        ({"features": {"s3_data_events": True}}, "guardduty.features.s3_data_events is not a known setting"),
        ({"manage_features": "yes"}, "guardduty.manage_features must be true or false, got 'yes'"),
    ],
)
def test_fails_when_the_guardduty_section_is_wrong(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        build(AppConfig, {"guardduty": section})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_runtime_monitoring_can_be_off_when_its_agents_are_too() -> None:
    features = {
        "runtime_monitoring": False,
        "eks_addon_management": False,
        "ecs_fargate_agent_management": False,
    }
    config = build(AppConfig, {"guardduty": {"features": features}})
    assert not config.guardduty.features.creates_agent_endpoints


def test_constructs_refuse_bad_props_with_one_line() -> None:
    with pytest.raises(ValueError, match=r"^ecs_fargate_agent_management needs runtime_monitoring: true"):
        GuardDutyFeatures(runtime_monitoring=False, eks_addon_management=False).validate()
    stack = cdk.Stack(cdk.App())
    with pytest.raises(
        ValueError, match=r"^minimum_severity must be one of LOW, MEDIUM, HIGH, CRITICAL, got 'high'"
    ):
        GuardDutyFindingAlerts(stack, "Findings", minimum_severity="high")
    with pytest.raises(ValueError, match=r"^email must be an e-mail address, got 'nobody'"):
        GuardDutyFindingAlerts(stack, "Other", email="nobody")
