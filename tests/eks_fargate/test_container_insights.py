"""Items 4 and 5: the ADOT collector on Fargate, the CloudWatch add-on on the nodes, their log groups."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match

from constructs_lib.eks.fargate import collector
from tests.eks_fargate.conftest import FargateView
from tests.helpers import has_role_policy, logical_id, render

PERFORMANCE = "/aws/containerinsights/containers-update-sandbox/performance"


@pytest.fixture(scope="module")
def objects(fargate_sandbox: FargateView) -> dict[str, dict[str, Any]]:
    assert fargate_sandbox.fargate.collector_manifest is not None
    return fargate_sandbox.objects(fargate_sandbox.fargate.collector_manifest)


@pytest.fixture(scope="module")
def config(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return json.loads(objects["ConfigMap/adot-collector"]["data"][collector.CONFIG_FILE])


def test_one_collector_replica_from_a_pinned_ecr_public_image(objects: dict[str, dict[str, Any]]) -> None:
    statefulset = objects["StatefulSet/adot-collector"]
    assert statefulset["metadata"]["namespace"] == "fargate-container-insights"
    assert statefulset["spec"]["replicas"] == 1
    [container] = statefulset["spec"]["template"]["spec"]["containers"]
    repository, tag = container["image"].rsplit(":", 1)
    assert repository == "public.ecr.aws/aws-observability/aws-otel-collector"
    assert tag.startswith("v") and tag != "latest"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == "ClusterName=containers-update-sandbox"


def test_collector_scrapes_cadvisor_through_the_api_server(config: dict[str, Any]) -> None:
    [job] = config["receivers"]["prometheus"]["config"]["scrape_configs"]
    assert job["kubernetes_sd_configs"] == [{"role": "node"}]
    relabel = {r.get("target_label"): r.get("replacement") for r in job["relabel_configs"]}
    assert relabel["__address__"] == "kubernetes.default.svc:443"
    assert relabel["__metrics_path__"] == "/api/v1/nodes/$${1}/proxy/metrics/cadvisor"


def test_emf_exporter_writes_to_the_performance_group_in_the_stacks_region(
    config: dict[str, Any], fargate_sandbox: FargateView
) -> None:
    emf = config["exporters"]["awsemf"]
    assert emf["log_group_name"] == PERFORMANCE
    assert emf["region"] == fargate_sandbox.stack.region
    assert emf["namespace"] == "ContainerInsights"
    assert emf["eks_fargate_container_insights_enabled"] is True
    [declaration] = emf["metric_declarations"]
    assert {"pod_cpu_utilization_over_pod_limit", "pod_memory_utilization_over_pod_limit"} <= set(
        declaration["metric_name_selectors"]
    )
    pipeline = config["service"]["pipelines"]["metrics"]
    assert pipeline["receivers"] == ["prometheus"] and pipeline["exporters"] == ["awsemf"]
    assert set(pipeline["processors"]) == set(config["processors"])


def test_rbac_reads_nodes_and_the_node_proxy_only(objects: dict[str, dict[str, Any]]) -> None:
    role = objects["ClusterRole/adot-collector"]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]},
    ]
    binding = objects["ClusterRoleBinding/adot-collector"]
    assert binding["roleRef"]["name"] == "adot-collector"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "adot-collector", "namespace": "fargate-container-insights"}
    ]
    assert [o["kind"] for o in objects.values()].count("Role") == 0


def test_collector_gets_its_role_through_irsa(
    objects: dict[str, dict[str, Any]], fargate_sandbox: FargateView
) -> None:
    role = fargate_sandbox.fargate.collector_role
    assert role is not None
    annotations = objects["ServiceAccount/adot-collector"]["metadata"]["annotations"]
    assert annotations["eks.amazonaws.com/role-arn"] == f"<{logical_id(role)}.Arn>"
    trust = fargate_sandbox.resources[logical_id(role)]["Properties"]["AssumeRolePolicyDocument"]
    [statement] = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert "Federated" in statement["Principal"]
    # The conditions (issuer as key) are resolved at deploy time by CfnJson.
    assert "Fn::GetAtt" in statement["Condition"]["StringEquals"]
    performance = logical_id(fargate_sandbox.fargate.insights_log_groups["performance"])
    has_role_policy(
        fargate_sandbox.template,
        logical_id(role),
        [
            {
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [performance, "Arn"]},
            }
        ],
    )


def test_no_fargate_or_collector_policy_may_create_log_groups(fargate_sandbox: FargateView) -> None:
    # Every role the Fargate construct creates: the pods' execution role and the collector's.
    fargate = fargate_sandbox.fargate
    roles = [{"Ref": logical_id(c)} for c in fargate.node.find_all() if isinstance(c, iam.CfnRole)]
    actions = [
        action
        for resource in fargate_sandbox.resources.values()
        if resource["Type"] == "AWS::IAM::Policy"
        and any(role in roles for role in resource["Properties"]["Roles"])
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]
    assert len(roles) >= 2 and actions
    assert "logs:CreateLogGroup" not in actions and "logs:*" not in actions and "*" not in actions


def test_sandbox_leaves_the_node_add_on_off_and_owns_the_performance_group(
    fargate_sandbox: FargateView,
) -> None:
    fargate_sandbox.template.resource_properties_count_is(
        "AWS::EKS::Addon", {"AddonName": "amazon-cloudwatch-observability"}, 0
    )
    fargate_sandbox.template.has_resource(
        "AWS::Logs::LogGroup",
        {"Properties": {"LogGroupName": PERFORMANCE, "RetentionInDays": 7}, "DeletionPolicy": "Delete"},
    )


def test_production_runs_the_node_add_on_with_pod_identity(fargate_production: FargateView) -> None:
    fargate = fargate_production.fargate
    assert fargate.cloudwatch_agent_role is not None and fargate.cloudwatch_addon is not None
    role = logical_id(fargate.cloudwatch_agent_role)
    fargate_production.template.has_resource_properties(
        "AWS::EKS::Addon",
        {
            "AddonName": "amazon-cloudwatch-observability",
            "PodIdentityAssociations": [
                {"RoleArn": {"Fn::GetAtt": [role, "Arn"]}, "ServiceAccount": "cloudwatch-agent"}
            ],
            "PreserveOnDelete": False,
        },
    )
    fargate_production.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                        "Principal": {"Service": "pods.eks.amazonaws.com"},
                        "Effect": "Allow",
                    }
                ]
            },
            "ManagedPolicyArns": [
                Match.object_like(
                    {
                        "Fn::Join": [
                            "",
                            Match.array_with([Match.string_like_regexp("CloudWatchAgentServerPolicy")]),
                        ]
                    }
                )
            ],
        },
    )


def test_production_owns_each_container_insights_group_once(fargate_production: FargateView) -> None:
    names = [
        r["Properties"].get("LogGroupName")
        for r in fargate_production.resources.values()
        if r["Type"] == "AWS::Logs::LogGroup"
    ]
    for group in ("performance", "application", "dataplane", "host"):
        assert names.count(f"/aws/containerinsights/containers-update-production/{group}") == 1, group
    addon = fargate_production.fargate.cloudwatch_addon
    groups = {logical_id(g) for g in fargate_production.fargate.insights_log_groups.values()}
    assert groups <= fargate_production.depends_on(addon)
    # Created after Karpenter's NodePools (its controller may need a Karpenter node), deleted before them.
    pools = {logical_id(m) for m in fargate_production.stack.karpenter.node_pool_manifests.values()}
    assert pools <= fargate_production.depends_on(addon)
    fargate_production.template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "LogGroupName": "/aws/containerinsights/containers-update-production/host",
                "RetentionInDays": 365,
            },
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )


def test_log_key_admits_cloudwatch_logs_for_these_groups_only(fargate_sandbox: FargateView) -> None:
    key = fargate_sandbox.resources[logical_id(fargate_sandbox.fargate.log_key)]
    [logs_statement] = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal", {}).get("Service") == "logs.ap-northeast-1.amazonaws.com"
    ]
    arns = logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert sorted(render(a).rsplit(":log-group:", 1)[1] for a in arns) == sorted(
        ["/aws/eks/containers-update-sandbox/fargate-pods", PERFORMANCE]
    )
