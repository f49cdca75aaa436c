"""Whatever replication copies is cleaned up on destroy, and no Inspector finding is lost silently.

One Registry stack synthesized for the module, replicating a namespace (`app/`) and a plain
prefix without a slash (`tools`), which gets no creation template but is replicated all the same.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from stacks.registry_stack import RegistryStack
from tests.helpers import assert_dead_letters_raise_an_alarm, logical_id
from tests.registry.conftest import make_registry

DESTINATION = "ap-northeast-3"


@pytest.fixture(scope="module")
def stack() -> RegistryStack:
    return make_registry({"replication": {"repository_prefixes": ["app/", "tools"]}})


@pytest.fixture(scope="module")
def template(stack: RegistryStack) -> Template:
    return Template.from_stack(stack)


# --- Replication cleanup ---


def test_cleanup_covers_every_replication_filter_as_written(stack: RegistryStack, template: Template) -> None:
    resources = template.to_json()["Resources"]
    targets = resources[logical_id(stack.cleanup.resource)]["Properties"]["Targets"]
    replicated = [
        f["Filter"]
        for rule in resources[logical_id(stack.replication.configuration)]["Properties"][  # type: ignore[union-attr]
            "ReplicationConfiguration"
        ]["Rules"]
        for f in rule["RepositoryFilters"]
    ]
    assert replicated == ["app/", "tools"]
    assert [t["Prefix"] for t in targets if t["Region"] == DESTINATION] == replicated


def test_cleanup_may_delete_the_replicas_under_a_prefix_without_a_slash(
    stack: RegistryStack, template: Template
) -> None:
    role = stack.cleanup.function.role
    assert role is not None
    policy = template.to_json()["Resources"][logical_id(role.node.find_child("DefaultPolicy"))]
    (delete,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "ecr:DeleteRepository"
    ]

    def repositories(region: str, pattern: str) -> dict:
        account = {"Ref": "AWS::AccountId"}
        parts = ["arn:", {"Ref": "AWS::Partition"}, f":ecr:{region}:", account, f":repository/{pattern}"]
        return {"Fn::Join": ["", parts]}

    assert repositories(DESTINATION, "tools*") in delete["Resource"]
    assert repositories(DESTINATION, "app/*") in delete["Resource"]


# --- Findings dead-letter queue ---


def test_findings_rule_sends_undeliverable_findings_to_an_encrypted_dead_letter_queue(
    stack: RegistryStack, template: Template
) -> None:
    findings = stack.findings
    queue_id = logical_id(findings.dead_letter_queue)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": logical_id(findings.topic)},
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}},
                    }
                )
            ]
        },
    )
    queue = template.to_json()["Resources"][queue_id]
    assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [logical_id(findings.key), "Arn"]}
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["DeletionPolicy"] == "Delete"


def test_only_this_rule_may_send_to_the_dead_letter_queue_over_tls(
    stack: RegistryStack, template: Template
) -> None:
    queue_id = logical_id(stack.findings.dead_letter_queue)
    (policy,) = template.find_resources(
        "AWS::SQS::QueuePolicy", {"Properties": {"Queues": [{"Ref": queue_id}]}}
    ).values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (send,) = [s for s in statements if s["Effect"] == "Allow"]
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert send["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [logical_id(stack.findings.rule), "Arn"]}}
    }
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_an_alarm_tells_the_topic_as_soon_as_a_finding_is_dead_lettered(
    stack: RegistryStack, template: Template
) -> None:
    assert_dead_letters_raise_an_alarm(template, stack.findings)
