"""AppRunner and ExpressMode: the same image over the same data stores, each admitted by rules it owns."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match

from constructs_lib.web.express import INFRASTRUCTURE_POLICY
from tests.conftest import Synthesized
from tests.web.conftest import FRONT_ENDS, resources_of, subnet_refs, vpc


def data_store_groups(stage: Synthesized, stack_id: str) -> dict[str, Any]:
    """The data stores' security group ids, as `stack_id`'s template refers to them."""
    data = stage.stacks["DataStores"]
    stack = stage.stacks[stack_id]
    return {
        "postgres": stack.resolve(data.postgres.security_group.security_group_id),  # type: ignore[attr-defined]
        "valkey": stack.resolve(data.valkey.security_group.security_group_id),  # type: ignore[attr-defined]
    }


@pytest.mark.parametrize("stack_id", FRONT_ENDS)
def test_each_front_end_admits_only_its_own_group_to_the_data_stores(
    sandbox: Synthesized, stack_id: str
) -> None:
    own_groups = {logical_id for logical_id in resources_of(sandbox, stack_id, "AWS::EC2::SecurityGroup")}
    groups = data_store_groups(sandbox, stack_id)
    rules = {
        (rule["Properties"]["FromPort"], rule["Properties"]["ToPort"], str(rule["Properties"]["GroupId"]))
        for rule in resources_of(sandbox, stack_id, "AWS::EC2::SecurityGroupIngress").values()
    }
    assert rules == {
        (5432, 5432, str(groups["postgres"])),
        (6379, 6379, str(groups["valkey"])),
        (6380, 6380, str(groups["valkey"])),
    }
    for rule in resources_of(sandbox, stack_id, "AWS::EC2::SecurityGroupIngress").values():
        assert rule["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0] in own_groups
        assert "CidrIp" not in rule["Properties"] and "CidrIpv6" not in rule["Properties"]


def test_nothing_else_anywhere_opens_the_data_stores(sandbox: Synthesized) -> None:
    openers = []
    for stack_id in sandbox.stacks:
        if stack_id in FRONT_ENDS:
            continue
        groups = (
            [str(group) for group in data_store_groups(sandbox, stack_id).values()]
            if stack_id != "DataStores"
            else []
        )
        for logical_id, rule in resources_of(sandbox, stack_id, "AWS::EC2::SecurityGroupIngress").items():
            if str(rule["Properties"].get("GroupId")) in groups or stack_id == "DataStores":
                openers.append(f"{stack_id}/{logical_id}")
    assert openers == []


def test_app_runner_egresses_through_a_vpc_connector_in_the_private_subnets(sandbox: Synthesized) -> None:
    template = sandbox.template("AppRunner")
    group = Capture()
    template.has_resource_properties(
        "AWS::AppRunner::VpcConnector",
        {
            "Subnets": subnet_refs(sandbox, "AppRunner", vpc(sandbox).private_subnets),
            "SecurityGroups": [{"Fn::GetAtt": [group, "GroupId"]}],
        },
    )
    connector = Capture()
    template.has_resource_properties(
        "AWS::AppRunner::Service",
        {
            "NetworkConfiguration": {
                "EgressConfiguration": {
                    "EgressType": "VPC",
                    "VpcConnectorArn": {"Fn::GetAtt": [connector, "VpcConnectorArn"]},
                },
                "IngressConfiguration": {"IsPubliclyAccessible": True},
                "IpAddressType": "DUAL_STACK",
            },
        },
    )
    assert resources_of(sandbox, "AppRunner", "AWS::AppRunner::VpcConnector").keys() == {
        connector.as_string()
    }


def test_app_runner_scales_traces_checks_health_and_runs_the_amd64_image(sandbox: Synthesized) -> None:
    template = sandbox.template("AppRunner")
    template.has_resource_properties(
        "AWS::AppRunner::AutoScalingConfiguration", {"MinSize": 1, "MaxSize": 2, "MaxConcurrency": 100}
    )
    template.has_resource_properties(
        "AWS::AppRunner::ObservabilityConfiguration", {"TraceConfiguration": {"Vendor": "AWSXRAY"}}
    )
    template.has_resource_properties(
        "AWS::AppRunner::Service",
        {
            "HealthCheckConfiguration": Match.object_like({"Protocol": "HTTP", "Path": "/healthz"}),
            "InstanceConfiguration": Match.object_like({"Cpu": "0.25 vCPU", "Memory": "0.5 GB"}),
            "ObservabilityConfiguration": Match.object_like({"ObservabilityEnabled": True}),
            "SourceConfiguration": Match.object_like(
                {
                    "AutoDeploymentsEnabled": False,
                    "ImageRepository": Match.object_like(
                        {
                            "ImageRepositoryType": "ECR",
                            "ImageIdentifier": {
                                "Fn::Join": ["", Match.array_with([Match.string_like_regexp(":v1-amd64$")])]
                            },
                        }
                    ),
                }
            ),
        },
    )


def test_app_runner_gets_the_database_secret_only_through_its_instance_role(sandbox: Synthesized) -> None:
    template = sandbox.template("AppRunner")
    secret = sandbox.stacks["AppRunner"].resolve(
        sandbox.stacks["DataStores"].postgres.secret.secret_arn  # type: ignore[attr-defined]
    )
    instance_role = Capture()
    template.has_resource_properties(
        "AWS::AppRunner::Service",
        {
            "InstanceConfiguration": Match.object_like(
                {"InstanceRoleArn": {"Fn::GetAtt": [instance_role, "Arn"]}}
            ),
            "SourceConfiguration": Match.object_like(
                {
                    "ImageRepository": Match.object_like(
                        {
                            "ImageConfiguration": Match.object_like(
                                {"RuntimeEnvironmentSecrets": [{"Name": "DB_SECRET", "Value": secret}]}
                            )
                        }
                    )
                }
            ),
        },
    )
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {
                    "Statement": [
                        Match.object_like({"Principal": {"Service": "tasks.apprunner.amazonaws.com"}})
                    ]
                }
            )
        },
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": instance_role.as_string()}],
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Action": [
                                        "secretsmanager:DescribeSecret",
                                        "secretsmanager:GetSecretValue",
                                    ],
                                    "Resource": secret,
                                }
                            )
                        ]
                    )
                }
            ),
        },
    )


@pytest.mark.parametrize(
    ("stage_name", "subnets"), [("sandbox", "public_subnets"), ("production", "private_subnets")]
)
def test_express_service_runs_in_our_subnets_with_our_security_group(
    request: pytest.FixtureRequest, stage_name: str, subnets: str
) -> None:
    stage: Synthesized = request.getfixturevalue(stage_name)
    group = Capture()
    stage.template("ExpressMode").has_resource_properties(
        "AWS::ECS::ExpressGatewayService",
        {
            "NetworkConfiguration": {
                "Subnets": subnet_refs(stage, "ExpressMode", getattr(vpc(stage), subnets)),
                "SecurityGroups": [{"Fn::GetAtt": [group, "GroupId"]}],
            }
        },
    )
    assert resources_of(stage, "ExpressMode", "AWS::EC2::SecurityGroup").keys() == {group.as_string()}


def test_express_service_uses_our_cluster_roles_logs_and_scaling(sandbox: Synthesized) -> None:
    template = sandbox.template("ExpressMode")
    cluster, infrastructure, execution, logs = Capture(), Capture(), Capture(), Capture()
    secret = sandbox.stacks["ExpressMode"].resolve(
        sandbox.stacks["DataStores"].postgres.secret.secret_arn  # type: ignore[attr-defined]
    )
    template.has_resource_properties(
        "AWS::ECS::ExpressGatewayService",
        {
            "Cluster": {"Ref": cluster},
            "InfrastructureRoleArn": {"Fn::GetAtt": [infrastructure, "Arn"]},
            "ExecutionRoleArn": {"Fn::GetAtt": [execution, "Arn"]},
            "TaskRoleArn": Match.any_value(),
            "HealthCheckPath": "/healthz",
            "ScalingTarget": {
                "MinTaskCount": 1,
                "MaxTaskCount": 2,
                "AutoScalingMetric": "REQUEST_COUNT_PER_TARGET",
                "AutoScalingTargetValue": 100,
            },
            "PrimaryContainer": Match.object_like(
                {
                    "ContainerPort": 8080,
                    "Secrets": [{"Name": "DB_SECRET", "ValueFrom": secret}],
                    "AwsLogsConfiguration": {"LogGroup": {"Ref": logs}, "LogStreamPrefix": "web"},
                    "Image": {"Fn::Join": ["", Match.array_with([Match.string_like_regexp(":v1$")])]},
                }
            ),
        },
    )
    resources = sandbox.template_json("ExpressMode")["Resources"]
    assert resources[cluster.as_string()]["Type"] == "AWS::ECS::Cluster"
    assert resources[logs.as_string()]["Properties"]["RetentionInDays"] == 7
    assert resources[logs.as_string()]["DeletionPolicy"] == "Delete"
    infrastructure_role = resources[infrastructure.as_string()]["Properties"]
    assert infrastructure_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ecs.amazonaws.com"
    }
    assert infrastructure_role["ManagedPolicyArns"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::aws:policy/{INFRASTRUCTURE_POLICY}"]]}
    ]
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": execution.as_string()}],
            "PolicyDocument": Match.object_like(
                {"Statement": Match.array_with([Match.object_like({"Resource": secret})])}
            ),
        },
    )
    assert "Endpoint" in sandbox.template_json("ExpressMode")["Outputs"]


def test_the_web_stacks_add_one_lambda_backed_custom_resource_the_app_runner_log_cleanup(
    sandbox: Synthesized,
) -> None:
    found = {
        stack_id: sorted(
            resource["Type"]
            for resource in sandbox.template_json(stack_id)["Resources"].values()
            if resource["Type"] == "AWS::Lambda::Function" or resource["Type"].startswith("Custom::")
        )
        for stack_id in ("DataStores", *FRONT_ENDS)
    }
    assert found == {
        "DataStores": [],
        "AppRunner": ["AWS::Lambda::Function", "Custom::AppRunnerLogCleanup"],
        "ExpressMode": [],
    }
