"""The EcsFargate stack's template: cluster, Graviton service, arm64 build, Windows with ECS Exec."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Capture, Match

from tests.ecs.conftest import EcsSynth
from tests.helpers import allows, has_role_policy, logical_id, render


def resource_of(synth: EcsSynth, construct: object) -> dict:
    return synth.template.to_json()["Resources"][logical_id(construct)]


# --- 1. Cluster ---


def test_cluster_has_enhanced_container_insights_and_both_fargate_capacity_providers(
    ecs_sandbox: EcsSynth,
) -> None:
    t = ecs_sandbox.template
    t.has_resource_properties(
        "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]}
    )
    t.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        {
            "CapacityProviders": ["FARGATE", "FARGATE_SPOT"],
            "Cluster": {"Ref": logical_id(ecs_sandbox.stack.cluster.cluster)},
        },
    )


def test_cluster_encrypts_exec_sessions_and_logs_them_to_a_group_with_retention(
    ecs_sandbox: EcsSynth,
) -> None:
    cluster = ecs_sandbox.stack.cluster
    key_id = logical_id(cluster.exec_key)
    group_id = logical_id(cluster.exec_log_group)
    ecs_sandbox.template.has_resource_properties(
        "AWS::ECS::Cluster",
        {
            "Configuration": {
                "ExecuteCommandConfiguration": {
                    "KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
                    "Logging": "OVERRIDE",
                    "LogConfiguration": {
                        "CloudWatchEncryptionEnabled": True,
                        "CloudWatchLogGroupName": {"Ref": group_id},
                    },
                }
            }
        },
    )
    group = ecs_sandbox.template.to_json()["Resources"][group_id]
    assert group["Properties"]["RetentionInDays"] == 7
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert group["DeletionPolicy"] == "Delete", "the sandbox leaves nothing behind"
    key = ecs_sandbox.template.to_json()["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    logs_statements = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"].get("Service") == "logs.ap-northeast-1.amazonaws.com"
    ]
    assert logs_statements, "CloudWatch Logs may use the key for the session log group"
    assert all("kms:EncryptionContext:aws:logs:arn" in s["Condition"]["ArnLike"] for s in logs_statements)


def test_container_insights_log_group_is_made_before_the_cluster_with_a_retention(
    ecs_sandbox: EcsSynth,
) -> None:
    cluster = ecs_sandbox.stack.cluster
    resources = ecs_sandbox.template.to_json()["Resources"]
    cluster_resource = resources[logical_id(cluster.cluster)]
    name = cluster_resource["Properties"]["ClusterName"]
    group_id = logical_id(cluster.insights_log_group)
    group = resources[group_id]
    assert group["Properties"] == {
        "LogGroupName": f"/aws/ecs/containerinsights/{name}/performance",
        "RetentionInDays": 7,
        "KmsKeyId": {"Fn::GetAtt": [logical_id(ecs_sandbox.stack.logs_key.key), "Arn"]},
    }
    assert group["DeletionPolicy"] == "Delete"
    assert group_id in cluster_resource["DependsOn"]


# --- 2. Graviton service ---


def test_graviton_task_is_arm64_linux_and_pulls_through_the_cache(ecs_sandbox: EcsSynth) -> None:
    task = resource_of(ecs_sandbox, ecs_sandbox.stack.graviton.task_definition)["Properties"]
    assert task["RuntimePlatform"] == {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}
    assert (task["Cpu"], task["Memory"]) == ("256", "512")
    (container,) = task["ContainerDefinitions"]
    # This account's registry, under the pull-through cache's prefix for ECR Public.
    assert render(container["Image"]) == (
        "<AWS::AccountId>.dkr.ecr.<AWS::Region>.<AWS::URLSuffix>/ecr-public/nginx/nginx-unprivileged:stable"
    )
    assert container["LinuxParameters"]["InitProcessEnabled"] is True
    assert container["ReadonlyRootFilesystem"] is False, "ECS Exec needs a writable root file system"


def test_execution_role_is_granted_the_pull_through_cache_pull(ecs_sandbox: EcsSynth) -> None:
    graviton = ecs_sandbox.stack.graviton
    role = graviton.task_definition.obtain_execution_role()
    assert [(grantee.node.path, image) for grantee, image in ecs_sandbox.cache.granted] == [  # type: ignore[attr-defined]
        (role.node.path, "public.ecr.aws/nginx/nginx-unprivileged:stable")
    ]
    role_id = logical_id(role)
    task = resource_of(ecs_sandbox, graviton.task_definition)["Properties"]
    assert task["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    has_role_policy(
        ecs_sandbox.template,
        role_id,
        Match.array_with(
            [
                allows("ecr:BatchImportUpstreamImage", "ecr:CreateRepository", Resource=Match.any_value()),
                {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"},
            ]
        ),
    )


def test_load_balancer_is_internet_facing_dual_stack_in_public_subnets(ecs_sandbox: EcsSynth) -> None:
    lb = resource_of(ecs_sandbox, ecs_sandbox.stack.graviton.load_balancer)["Properties"]
    assert lb["IpAddressType"] == "dualstack"
    assert lb["Scheme"] == "internet-facing"
    vpc = ecs_sandbox.stack.cluster.cluster.vpc
    assert lb["Subnets"] == [ecs_sandbox.stack.resolve(subnet.subnet_id) for subnet in vpc.public_subnets]
    assert {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"} in lb[
        "LoadBalancerAttributes"
    ]
    sg = ecs_sandbox.stack.graviton.load_balancer.connections.security_groups[0]
    ingress = resource_of(ecs_sandbox, sg)["Properties"]["SecurityGroupIngress"]
    assert {(rule.get("CidrIp"), rule.get("CidrIpv6"), rule["FromPort"]) for rule in ingress} == {
        ("0.0.0.0/0", None, 80),
        (None, "::/0", 80),
    }


def test_sandbox_listens_on_http_only(ecs_sandbox: EcsSynth) -> None:
    ecs_sandbox.template.resource_count_is("AWS::ElasticLoadBalancingV2::Listener", 1)
    ecs_sandbox.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Port": 80, "Protocol": "HTTP"}
    )
    assert ecs_sandbox.stack.graviton.url.startswith("http://")


def test_tasks_take_traffic_quickly_and_only_from_the_load_balancer(ecs_sandbox: EcsSynth) -> None:
    graviton = ecs_sandbox.stack.graviton
    tg = resource_of(ecs_sandbox, graviton.target_group)["Properties"]
    assert tg["TargetType"] == "ip"
    assert (tg["HealthCheckIntervalSeconds"], tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"]) == (
        10,
        2,
        2,
    )
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "15"} in tg["TargetGroupAttributes"]
    lb_sg = logical_id(graviton.load_balancer.connections.security_groups[0])
    ecs_sandbox.template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": {"Fn::GetAtt": [logical_id(graviton.security_group), "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [lb_sg, "GroupId"]},
            "FromPort": 8080,
            "ToPort": 8080,
        },
    )
    assert "SecurityGroupIngress" not in resource_of(ecs_sandbox, graviton.security_group)["Properties"]


def test_graviton_service_deploys_safely_with_exec_spot_and_private_subnets(ecs_sandbox: EcsSynth) -> None:
    service = resource_of(ecs_sandbox, ecs_sandbox.stack.graviton.service)
    props = service["Properties"]
    assert props["DeploymentConfiguration"] == {
        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
        "MaximumPercent": 200,
        "MinimumHealthyPercent": 100,
    }
    assert props["EnableExecuteCommand"] is True
    assert props["CapacityProviderStrategy"] == [
        {"Base": 1, "CapacityProvider": "FARGATE", "Weight": 0},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1},
    ]
    assert "LaunchType" not in props
    network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    private = ecs_sandbox.stack.cluster.cluster.vpc.private_subnets
    assert network["Subnets"] == [ecs_sandbox.stack.resolve(subnet.subnet_id) for subnet in private]
    assert "DesiredCount" not in props, "a deploy must not reset a scaled-out service"
    # Created after the capacity provider association (and deleted before it).
    association = ecs_sandbox.template.find_resources("AWS::ECS::ClusterCapacityProviderAssociations")
    assert set(association) <= set(service["DependsOn"])


def test_graviton_service_publishes_20_second_metrics(ecs_sandbox: EcsSynth) -> None:
    props = resource_of(ecs_sandbox, ecs_sandbox.stack.graviton.service)["Properties"]
    assert props["Monitoring"] == {
        "MetricConfigurations": [
            {"MetricNames": ["CPUUtilization", "MemoryUtilization"], "ResolutionSeconds": 20}
        ]
    }


def test_scaling_tracks_requests_per_target_and_high_resolution_cpu(ecs_sandbox: EcsSynth) -> None:
    t = ecs_sandbox.template
    target = Capture()
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 1, "MaxCapacity": 300, "ScalableDimension": "ecs:service:DesiredCount"},
    )
    (target_id,) = t.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "ScalingTargetId": {"Ref": target_id},
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ALBRequestCountPerTarget",
                    "ResourceLabel": target,
                },
                "TargetValue": 600,
                "ScaleOutCooldown": 30,
                "ScaleInCooldown": 300,
            },
        },
    )
    tg_id = logical_id(ecs_sandbox.stack.graviton.target_group)
    assert {"Fn::GetAtt": [tg_id, "TargetGroupFullName"]} in target.as_object()["Fn::Join"][1]
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "ScalingTargetId": {"Ref": target_id},
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilizationHighResolution"
                },
                "TargetValue": 60,
                "ScaleOutCooldown": 30,
            },
        },
    )
    t.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 2)


# --- 3. arm64 builds ---


def test_image_build_runs_privileged_on_an_arm_image_with_its_own_key(ecs_sandbox: EcsSynth) -> None:
    build = ecs_sandbox.stack.image_build
    props = resource_of(ecs_sandbox, build.project)["Properties"]
    env = props["Environment"]
    assert env["Type"] == "ARM_CONTAINER"
    assert env["Image"].startswith("aws/codebuild/amazonlinux-aarch64-standard:")
    assert env["PrivilegedMode"] is True
    assert env["ComputeType"] == "BUILD_GENERAL1_SMALL"
    assert props["EncryptionKey"]["Fn::GetAtt"][1] == "Arn"
    assert props["Source"]["Type"] == "S3"
    assert props["LogsConfig"]["CloudWatchLogs"]["GroupName"] == {"Ref": logical_id(build.log_group)}


def test_image_build_pushes_both_architectures_and_a_manifest_list(ecs_sandbox: EcsSynth) -> None:
    props = resource_of(ecs_sandbox, ecs_sandbox.stack.image_build.project)["Properties"]
    spec = json.loads(props["Source"]["BuildSpec"])
    commands = spec["phases"]["build"]["commands"]
    for arch in ("arm64", "amd64"):
        tag = f'"$REPOSITORY_URI:$TAG-{arch}"'
        assert f"docker build --platform linux/{arch} --tag {tag} ." in commands
        assert f"docker push {tag}" in commands
    # imagetools works on the classic and the containerd image store; `docker manifest` does not.
    assert commands[-1] == (
        'docker buildx imagetools create --tag "$REPOSITORY_URI:$TAG" '
        '"$REPOSITORY_URI:$TAG-arm64" "$REPOSITORY_URI:$TAG-amd64"'
    )
    assert not [c for c in commands if c.startswith("docker manifest")]
    assert "docker buildx version" in spec["phases"]["pre_build"]["commands"]
    variables = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
    repository = ecs_sandbox.stack.node.root.node.find_child("Registry").node.find_child("AppRepository")
    # This account's registry in the stack's region, and the application repository's name there.
    assert variables["REPOSITORY_URI"] == {
        "Fn::Join": [
            "",
            [
                {"Ref": "AWS::AccountId"},
                ".dkr.ecr.ap-northeast-1.",
                {"Ref": "AWS::URLSuffix"},
                "/",
                ecs_sandbox.stack.resolve(repository.repository_name),  # type: ignore[attr-defined]
            ],
        ]
    }


def test_image_build_may_push_to_the_app_repository(ecs_sandbox: EcsSynth) -> None:
    role = ecs_sandbox.stack.image_build.project.role
    assert role is not None
    has_role_policy(
        ecs_sandbox.template,
        logical_id(role),
        Match.array_with([allows("ecr:PutImage", "ecr:UploadLayerPart")]),
    )


# --- 4. Windows ---


def test_windows_task_is_2022_core_x86_with_at_least_one_vcpu(ecs_sandbox: EcsSynth) -> None:
    task = resource_of(ecs_sandbox, ecs_sandbox.stack.windows.task_definition)["Properties"]
    assert task["RuntimePlatform"] == {
        "CpuArchitecture": "X86_64",
        "OperatingSystemFamily": "WINDOWS_SERVER_2022_CORE",
    }
    assert (task["Cpu"], task["Memory"]) == ("1024", "2048")
    (container,) = task["ContainerDefinitions"]
    assert container["Image"].startswith("mcr.microsoft.com/windows/servercore")
    assert "LinuxParameters" not in container and "ReadonlyRootFilesystem" not in container


def test_windows_service_has_exec_on_demand_only_and_desired_count_from_config(ecs_sandbox: EcsSynth) -> None:
    props = resource_of(ecs_sandbox, ecs_sandbox.stack.windows.service)["Properties"]
    assert props["EnableExecuteCommand"] is True
    assert props["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE", "Weight": 1}]
    assert props["DesiredCount"] == 0
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


@pytest.mark.parametrize("service", ["graviton", "windows"])
def test_task_roles_may_open_exec_channels_and_write_the_session_log(
    ecs_sandbox: EcsSynth, service: str
) -> None:
    task_definition = getattr(ecs_sandbox.stack, service).task_definition
    role_id = logical_id(task_definition.task_role)
    exec_key = logical_id(ecs_sandbox.stack.cluster.exec_key)
    exec_sessions = logical_id(ecs_sandbox.stack.cluster.exec_log_group)
    has_role_policy(
        ecs_sandbox.template,
        role_id,
        Match.array_with(
            [
                allows("ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel", Effect="Allow"),
                allows("kms:Decrypt", "kms:GenerateDataKey", Resource={"Fn::GetAtt": [exec_key, "Arn"]}),
            ]
        ),
    )
    # The session log: only the exec sessions' group, not every group of the account.
    statements = Capture()
    has_role_policy(ecs_sandbox.template, role_id, statements)
    (put,) = [s for s in statements.as_array() if "logs:PutLogEvents" in s["Action"]]
    assert render(put["Resource"]).endswith(f":log-group:<{exec_sessions}>:*")


# --- 5. Outputs ---


def test_outputs_give_the_url_the_exec_commands_and_the_build_command(ecs_sandbox: EcsSynth) -> None:
    stack = ecs_sandbox.stack
    written = ecs_sandbox.template.to_json()["Outputs"]
    outputs = {name: render(output["Value"]) for name, output in written.items()}
    assert set(outputs) == {"ServiceUrl", "GravitonExecCommand", "WindowsExecCommand", "BuildCommand"}
    assert outputs["ServiceUrl"] == f"http://<{logical_id(stack.graviton.load_balancer)}.DNSName>/"
    cluster = f"--cluster <{logical_id(stack.cluster.cluster)}>"
    graviton = outputs["GravitonExecCommand"]
    assert graviton.startswith(f"aws ecs execute-command --region ap-northeast-1 {cluster} ")
    assert f"--service-name <{logical_id(stack.graviton.service)}.Name>" in graviton
    assert graviton.endswith("--container web --interactive --command /bin/sh")
    windows = outputs["WindowsExecCommand"]
    assert windows.startswith(f"aws ecs execute-command --region ap-northeast-1 {cluster} ")
    assert f"--service-name <{logical_id(stack.windows.service)}.Name>" in windows
    assert windows.endswith("--container windows --interactive --command powershell.exe")
    project = logical_id(stack.image_build.project)
    assert outputs["BuildCommand"] == (
        f"aws codebuild start-build --region ap-northeast-1 --project-name <{project}>"
    )


# --- Stateful resources and validators ---


def test_logical_ids_of_stateful_resources_are_pinned(ecs_sandbox: EcsSynth) -> None:
    stack = ecs_sandbox.stack
    assert {
        "exec key": logical_id(stack.cluster.exec_key),
        "exec sessions": logical_id(stack.cluster.exec_log_group),
        "build logs": logical_id(stack.image_build.log_group),
        "insights": logical_id(stack.cluster.insights_log_group),
        "cluster": logical_id(stack.cluster.cluster),
    } == {
        "exec key": "ClusterExecKeyE43DF76D",
        "exec sessions": "ClusterExecSessionsD710CEDE",
        "build logs": "ImageBuildLogs13D2D83D",
        "insights": "ClusterInsightsPerformanceBD7FA7DA",
        "cluster": "ClusterC2E21B66",
    }


@pytest.mark.parametrize("stage", ["ecs_sandbox", "ecs_production"])
def test_stack_has_no_unacknowledged_cdk_nag_finding_beside_the_stand_ins(
    stage: str, request: pytest.FixtureRequest
) -> None:
    # cfn-lint reads the stack's template as app.py composes it, for both stages, in
    # tests/test_validators.py; the stand-ins change only how it refers to the other stacks.
    synth: EcsSynth = request.getfixturevalue(stage)
    assert synth.nag_violations() == []


# --- Production ---


def test_production_keeps_an_on_demand_floor_and_writes_access_logs(ecs_production: EcsSynth) -> None:
    stack = ecs_production.stack
    props = resource_of(ecs_production, stack.graviton.service)["Properties"]
    assert props["CapacityProviderStrategy"] == [
        {"Base": 3, "CapacityProvider": "FARGATE", "Weight": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
    ]
    lb = resource_of(ecs_production, stack.graviton.load_balancer)["Properties"]
    attributes = {a["Key"]: a["Value"] for a in lb["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    buckets = ecs_production.template.find_resources("AWS::S3::Bucket")
    assert [b["DeletionPolicy"] for b in buckets.values()] == ["Retain"]
    group = resource_of(ecs_production, stack.cluster.exec_log_group)
    assert (group["DeletionPolicy"], group["Properties"]["RetentionInDays"]) == ("Retain", 365)


def test_production_keeps_the_named_insights_group_except_when_a_first_create_rolls_back(
    ecs_production: EcsSynth,
) -> None:
    # Its name is fixed by Container Insights: a plain Retain would block the next create.
    group = resource_of(ecs_production, ecs_production.stack.cluster.insights_log_group)
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
