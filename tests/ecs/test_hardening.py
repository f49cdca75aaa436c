"""What the EcsFargate stack does about first deploys, week-old images, teardown races and security gaps.

Template assertions on the session synths of `conftest.py`; the handlers behind the two custom
resources are tested against moto in `test_runtime.py`.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from stacks.config import ConfigError
from stacks.config.ecs import EcsConfig
from stacks.config.loader import build
from tests.ecs.conftest import EcsSynth
from tests.helpers import logical_id, render


def actions(statement: dict) -> list[str]:
    """A policy statement's actions, one or many."""
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def resource_of(synth: EcsSynth, construct: object) -> dict:
    return synth.template.to_json()["Resources"][logical_id(construct)]


def depends_on(synth: EcsSynth, construct: object) -> list[str]:
    return list(resource_of(synth, construct).get("DependsOn", []))


# --- First deploy in a new account: the ECS service-linked role ---


def test_cluster_and_capacity_providers_wait_for_the_service_linked_role(ecs_sandbox: EcsSynth) -> None:
    cluster = ecs_sandbox.stack.cluster
    assert cluster.service_linked_role is not None
    role_id = logical_id(cluster.service_linked_role)
    assert resource_of(ecs_sandbox, cluster.service_linked_role)["Type"] == "Custom::EcsServiceLinkedRole"
    resources = ecs_sandbox.template.to_json()["Resources"]
    (association,) = [
        r for r in resources.values() if r["Type"] == "AWS::ECS::ClusterCapacityProviderAssociations"
    ]
    assert role_id in association["DependsOn"]
    assert role_id in depends_on(ecs_sandbox, cluster.cluster)


def test_service_linked_role_function_may_create_only_the_ecs_role(ecs_sandbox: EcsSynth) -> None:
    ecs_sandbox.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "iam:CreateServiceLinkedRole",
                        "Effect": "Allow",
                        "Condition": {"StringEquals": {"iam:AWSServiceName": "ecs.amazonaws.com"}},
                        "Resource": {
                            "Fn::Join": [
                                "",
                                Match.array_with(
                                    [":role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"]
                                ),
                            ]
                        },
                    }
                ]
            }
        },
    )


def test_fails_when_the_service_linked_role_setting_is_not_a_boolean() -> None:
    with pytest.raises(ConfigError, match=r"^ecs.ensure_service_linked_role must be"):
        build(EcsConfig, {"ensure_service_linked_role": "maybe", "graviton": {"plain_http": True}}, "ecs")


# --- Teardown: Container Insights' fixed-name group ---


def test_insights_guard_is_made_before_the_group_and_deleted_after_it(ecs_sandbox: EcsSynth) -> None:
    cluster = ecs_sandbox.stack.cluster
    assert cluster.insights_guard is not None
    guard = resource_of(ecs_sandbox, cluster.insights_guard)
    assert guard["Type"] == "Custom::EcsInsightsLogsGuard"
    assert guard["Properties"]["ClusterName"] == cluster.cluster_name
    assert logical_id(cluster.insights_guard) in depends_on(ecs_sandbox, cluster.insights_log_group)
    # The cluster depends on the group, so it is deleted before the guard sweeps.
    assert logical_id(cluster.insights_log_group) in depends_on(ecs_sandbox, cluster.cluster)


def test_insights_guard_may_delete_only_that_group_and_read_its_own_stack(ecs_sandbox: EcsSynth) -> None:
    statements = [
        statement
        for policy in ecs_sandbox.template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "logs:DeleteLogGroup" in actions(statement)
    ]
    assert len(statements) == 1
    name = ecs_sandbox.stack.cluster.cluster_name
    group = (
        "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
        f"log-group:/aws/ecs/containerinsights/{name}/performance"
    )
    # The group's ARN with and without its trailing :*, and nothing else.
    assert [render(arn) for arn in statements[0]["Resource"]] == [group, f"{group}:*"]
    ecs_sandbox.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Action": "cloudformation:DescribeStacks", "Resource": {"Ref": "AWS::StackId"}}
                        )
                    ]
                )
            }
        },
    )


def test_custom_resource_functions_do_not_retry_and_log_to_their_own_encrypted_group(
    ecs_sandbox: EcsSynth,
) -> None:
    key = {"Fn::GetAtt": [logical_id(ecs_sandbox.stack.logs_key.key), "Arn"]}
    cluster = ecs_sandbox.stack.cluster
    for resource in (cluster.insights_guard, cluster.service_linked_role):
        assert resource is not None
        scope = resource.node.scope
        function = scope.node.find_child("Function")  # type: ignore[union-attr]
        log_group = scope.node.find_child("LogGroup")  # type: ignore[union-attr]
        props = resource_of(ecs_sandbox, function)["Properties"]
        assert (props["Runtime"], props["Architectures"]) == ("python3.14", ["arm64"])
        assert props["LoggingConfig"]["LogGroup"] == {"Ref": logical_id(log_group)}
        assert resource_of(ecs_sandbox, log_group)["Properties"]["KmsKeyId"] == key
        configs = ecs_sandbox.template.find_resources(
            "AWS::Lambda::EventInvokeConfig",
            {"Properties": {"FunctionName": {"Ref": logical_id(function)}}},
        )
        assert [c["Properties"]["MaximumRetryAttempts"] for c in configs.values()] == [0]
        # No CreateLogGroup: a last log line after the stack deleted the group cannot bring it back.
        role_id = logical_id(scope.node.find_child("Role"))  # type: ignore[union-attr]
        policies = ecs_sandbox.template.find_resources(
            "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}}
        )
        granted = {
            action
            for policy in policies.values()
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            for action in actions(statement)
        }
        assert granted and not granted & {"logs:CreateLogGroup", "logs:*", "*"}


def test_production_retains_the_insights_group_and_has_no_guard(ecs_production: EcsSynth) -> None:
    assert ecs_production.stack.cluster.insights_guard is None
    assert ecs_production.template.find_resources("Custom::EcsInsightsLogsGuard") == {}


# --- A week later: the image pulled through the cache ---


def test_graviton_pulls_the_cached_tag_instead_of_the_digest_resolved_at_deploy(
    ecs_sandbox: EcsSynth,
) -> None:
    task = resource_of(ecs_sandbox, ecs_sandbox.stack.graviton.task_definition)["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert container["VersionConsistency"] == "disabled"


# --- Log encryption ---


def test_every_log_group_but_the_exec_sessions_uses_the_stacks_logs_key(ecs_sandbox: EcsSynth) -> None:
    stack = ecs_sandbox.stack
    key_id = logical_id(stack.logs_key.key)
    exec_group = logical_id(stack.cluster.exec_log_group)
    groups = ecs_sandbox.template.find_resources("AWS::Logs::LogGroup")
    assert len(groups) >= 6
    exec_key = logical_id(stack.cluster.exec_key)
    for group_id, group in groups.items():
        expected = exec_key if group_id == exec_group else key_id
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [expected, "Arn"]}, group_id


def test_logs_key_rotates_and_admits_cloudwatch_logs_for_this_stacks_groups_only(
    ecs_sandbox: EcsSynth,
) -> None:
    key = resource_of(ecs_sandbox, ecs_sandbox.stack.logs_key.key)["Properties"]
    assert key["EnableKeyRotation"] is True
    logs_statements = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if "Service" in s.get("Principal", {})
        and render(s["Principal"]["Service"]) == "logs.ap-northeast-1.<AWS::URLSuffix>"
    ]
    patterns = [
        render(s["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]) for s in logs_statements
    ]
    # The stack's generated group names, and the one group Container Insights names itself.
    name = ecs_sandbox.stack.cluster.insights_log_group_name
    assert sorted(patterns) == sorted(
        [
            "arn:aws:logs:ap-northeast-1:<AWS::AccountId>:log-group:EcsFargate-*",
            f"arn:aws:logs:ap-northeast-1:<AWS::AccountId>:log-group:{name}",
        ]
    )


# --- Network: what the tasks may reach ---


@pytest.mark.parametrize("service", ["graviton", "windows"])
def test_tasks_may_leave_on_https_only_over_ipv4_and_ipv6(ecs_sandbox: EcsSynth, service: str) -> None:
    group = resource_of(ecs_sandbox, getattr(ecs_sandbox.stack, service).security_group)["Properties"]
    egress = sorted(
        (rule.get("CidrIp") or rule.get("CidrIpv6"), rule["IpProtocol"], rule["FromPort"], rule["ToPort"])
        for rule in group["SecurityGroupEgress"]
    )
    assert egress == [("0.0.0.0/0", "tcp", 443, 443), ("::/0", "tcp", 443, 443)]


# --- The Graviton container's user ---


def test_graviton_container_runs_as_a_non_root_user_on_a_high_port(ecs_sandbox: EcsSynth) -> None:
    task = resource_of(ecs_sandbox, ecs_sandbox.stack.graviton.task_definition)["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert container["User"] == "101"
    assert container["PortMappings"][0]["ContainerPort"] == 8080
    assert ecs_sandbox.stack.graviton.service.node.default_child.enable_execute_command is True  # type: ignore[union-attr]


@pytest.mark.parametrize("user", ["root", "0", "0:0", "root:nginx"])
def test_fails_when_the_graviton_user_is_root(user: str) -> None:
    with pytest.raises(ConfigError, match=r"^ecs.graviton.user must name a non-root user .*got '"):
        build(EcsConfig, {"graviton": {"user": user, "plain_http": True}}, "ecs")


# --- Production: listener, web ACL, access-log bucket ---


def test_fails_when_no_certificate_is_given_and_plain_http_is_not_asked_for() -> None:
    with pytest.raises(ConfigError) as error:
        build(EcsConfig, {"graviton": {"min_tasks": 1}}, "ecs")
    assert str(error.value) == (
        "ecs.graviton.certificate_arn must be set for an https listener (or set ecs.graviton.plain_http: "
        "true to serve plain http on the internet), got nothing"
    )


def test_production_puts_a_managed_rules_web_acl_on_the_load_balancer(ecs_production: EcsSynth) -> None:
    graviton = ecs_production.stack.graviton
    assert graviton.web_acl is not None
    acl_id = logical_id(graviton.web_acl)
    acl = ecs_production.template.to_json()["Resources"][acl_id]["Properties"]
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    groups = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= groups
    ecs_production.template.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {
            "ResourceArn": {"Ref": logical_id(graviton.load_balancer)},
            "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]},
        },
    )


def test_sandbox_has_no_web_acl_unless_asked(ecs_sandbox: EcsSynth) -> None:
    assert ecs_sandbox.template.find_resources("AWS::WAFv2::WebACL") == {}


def test_production_access_log_bucket_is_versioned_and_expires_old_versions(ecs_production: EcsSynth) -> None:
    (bucket,) = ecs_production.template.find_resources("AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 365
