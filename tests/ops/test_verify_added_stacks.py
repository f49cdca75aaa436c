"""`make verify` for what was added after the first five stacks: GuardDuty, EcsAnywhere, web, EKS Fargate.

Their checks are keyed by stack id, so they run once those stacks exist in the app; here they run
against Stubbers shaped like each service's responses.
"""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import cast

import pytest

from ops.checks.eks import fargate_profiles_and_logs
from ops.report import Status
from ops.verify import DeployedStack
from stacks.config import AppConfig, load_config
from tests.ops.conftest import ACCOUNT, NOW, REGION, FakeAws, aws_client, stack_info
from tests.ops.test_verify import answering, assert_all_passed, deployed, run

DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"


def _detector(fake_aws: FakeAws, *, runtime: str, coverage: list[str]) -> None:
    deployed(fake_aws, "GuardDuty", {}, {"DetectorId": DETECTOR})
    guardduty = fake_aws.stub("guardduty")
    guardduty.add_response(
        "get_detector",
        {
            "ServiceRole": "arn:aws:iam::123456789012:role/aws-service-role/guardduty.amazonaws.com/x",
            "Status": "ENABLED",
            "Features": [
                {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"},
                {
                    "Name": "RUNTIME_MONITORING",
                    "Status": runtime,
                    # EC2_AGENT_MANAGEMENT (configured DISABLED) left out, as GetDetector may do.
                    "AdditionalConfiguration": [
                        {"Name": "EKS_ADDON_MANAGEMENT", "Status": runtime},
                        {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": runtime},
                    ],
                },
            ],
        },
        {"DetectorId": DETECTOR},
    )
    guardduty.add_response(
        "list_coverage",
        {
            "Resources": [
                {
                    "ResourceId": f"r{i}",
                    "DetectorId": DETECTOR,
                    "AccountId": ACCOUNT,
                    "CoverageStatus": status,
                }
                for i, status in enumerate(coverage)
            ]
        },
    )


def test_guardduty_detector_with_its_features_and_healthy_coverage(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    _detector(fake_aws, runtime="ENABLED", coverage=["HEALTHY", "HEALTHY"])
    results = run(fake_aws, sandbox_config, "GuardDuty")
    assert_all_passed(results)
    assert "RUNTIME_MONITORING/EKS_ADDON_MANAGEMENT" in results[f"GuardDuty: detector {DETECTOR}"].detail


def test_guardduty_unhealthy_coverage_warns(fake_aws: FakeAws, sandbox_config: AppConfig) -> None:
    _detector(fake_aws, runtime="DISABLED", coverage=["HEALTHY", "UNHEALTHY"])
    results = run(fake_aws, sandbox_config, "GuardDuty")
    assert results["GuardDuty: runtime monitoring coverage"].status == Status.WARN


ANYWHERE_CLUSTER = "containers-update-anywhere"


@pytest.mark.parametrize(
    ("connected", "expected"), [(True, Status.PASS), (False, Status.FAIL), (None, Status.WARN)]
)
def test_ecs_anywhere_external_instances(
    fake_aws: FakeAws, sandbox_config: AppConfig, connected: bool | None, expected: Status
) -> None:
    deployed(fake_aws, "EcsAnywhere", {}, {"ClusterName": ANYWHERE_CLUSTER})
    ecs = fake_aws.stub("ecs")
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/{ANYWHERE_CLUSTER}/abc"
    ecs.add_response(
        "list_container_instances", {"containerInstanceArns": [] if connected is None else [arn]}
    )
    if connected is not None:
        ecs.add_response(
            "describe_container_instances",
            {
                "containerInstances": [
                    {
                        "containerInstanceArn": arn,
                        "ec2InstanceId": "mi-0123456789abcdef0",
                        "status": "ACTIVE",
                        "agentConnected": connected,
                    }
                ]
            },
        )
    results = run(fake_aws, sandbox_config, "EcsAnywhere")
    assert results[f"EcsAnywhere: external instances in {ANYWHERE_CLUSTER}"].status == expected


def _data_stores(fake_aws: FakeAws, status: str) -> None:
    deployed(
        fake_aws,
        "DataStores",
        {"AWS::RDS::DBCluster": ["web-db"], "AWS::ElastiCache::ServerlessCache": ["web-cache"]},
    )
    fake_aws.stub("rds").add_response(
        "describe_db_clusters",
        {
            "DBClusters": [
                {
                    "DBClusterIdentifier": "web-db",
                    "Status": status,
                    "Engine": "aurora-postgresql",
                    "EngineVersion": "17.5",
                    "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.0, "MaxCapacity": 4.0},
                }
            ]
        },
        {"DBClusterIdentifier": "web-db"},
    )
    fake_aws.stub("elasticache").add_response(
        "describe_serverless_caches",
        {
            "ServerlessCaches": [
                {
                    "ServerlessCacheName": "web-cache",
                    "Status": status,
                    "Engine": "valkey",
                    "Endpoint": {"Address": "c.example", "Port": 6379},
                }
            ]
        },
        {"ServerlessCacheName": "web-cache"},
    )


@pytest.mark.parametrize(("status", "expected"), [("available", Status.PASS), ("creating", Status.WARN)])
def test_data_stores_available(
    fake_aws: FakeAws, sandbox_config: AppConfig, status: str, expected: Status
) -> None:
    _data_stores(fake_aws, status)
    results = run(fake_aws, sandbox_config, "DataStores")
    assert results["DataStores: Aurora cluster web-db"].status == expected
    assert results["DataStores: valkey serverless cache web-cache"].status == expected


APP_RUNNER_ARN = f"arn:aws:apprunner:{REGION}:{ACCOUNT}:service/web-app/{'0a' * 16}"


@pytest.mark.parametrize(("status", "expected"), [("RUNNING", Status.PASS), ("CREATE_FAILED", Status.FAIL)])
def test_app_runner_service_running_and_answering(
    fake_aws: FakeAws, sandbox_config: AppConfig, status: str, expected: Status
) -> None:
    deployed(
        fake_aws,
        "AppRunner",
        {"AWS::AppRunner::Service": [APP_RUNNER_ARN]},
        {
            "ServiceUrl": "https://abc.ap-northeast-1.awsapprunner.com",
            "DataUrl": "https://abc.ap-northeast-1.awsapprunner.com/data",
        },
    )
    fake_aws.stub("apprunner").add_response(
        "describe_service",
        {
            "Service": {
                "ServiceName": "web-app",
                "ServiceId": "0a" * 16,
                "ServiceArn": APP_RUNNER_ARN,
                "CreatedAt": NOW,
                "UpdatedAt": NOW,
                "Status": status,
                "SourceConfiguration": {},
                "InstanceConfiguration": {},
                "AutoScalingConfigurationSummary": {},
                "NetworkConfiguration": {},
            }
        },
        {"ServiceArn": APP_RUNNER_ARN},
    )
    results = run(fake_aws, sandbox_config, "AppRunner")
    assert results["AppRunner: App Runner service web-app"].status == expected
    assert results["AppRunner: ServiceUrl over IPv6"].status == Status.PASS


def test_express_mode_service_active_and_its_endpoint_answers_over_ipv4(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/default/web"
    deployed(
        fake_aws,
        "ExpressMode",
        {"AWS::ECS::ExpressGatewayService": [arn]},
        {"Endpoint": "web.ecs.ap-northeast-1.on.aws"},
    )
    fake_aws.stub("ecs").add_response(
        "describe_express_gateway_service",
        {"service": {"serviceName": "web", "serviceArn": arn, "status": {"statusCode": "ACTIVE"}}},
        {"serviceArn": arn},
    )
    seen: list[str] = []

    def prober(url: str, family: socket.AddressFamily) -> str:
        seen.append(url)
        return answering(url, family)

    results = run(fake_aws, sandbox_config, "ExpressMode", prober=prober)
    assert_all_passed(results)
    assert seen == ["https://web.ecs.ap-northeast-1.on.aws"]


def _fargate(fake_aws: FakeAws, *, status: str, logged: bool) -> None:
    logs = aws_client("logs", REGION)
    logs.create_log_group(logGroupName="Eks-FargatePods")
    if logged:
        logs.create_log_stream(logGroupName="Eks-FargatePods", logStreamName="fargate-apps.web-abc")
        logs.put_log_events(
            logGroupName="Eks-FargatePods",
            logStreamName="fargate-apps.web-abc",
            logEvents=[{"timestamp": int(NOW.timestamp() * 1000), "message": "{}"}],
        )
    eks = fake_aws.stub("eks")
    eks.add_response(
        "list_fargate_profiles", {"fargateProfileNames": ["Workloads"]}, {"clusterName": "sandbox"}
    )
    eks.add_response(
        "describe_fargate_profile",
        {
            "fargateProfile": {
                "fargateProfileName": "Workloads",
                "status": status,
                "selectors": [{"namespace": "fargate-apps"}],
            }
        },
        {"clusterName": "sandbox", "fargateProfileName": "Workloads"},
    )


@pytest.mark.parametrize(
    ("status", "logged", "expected"),
    [("ACTIVE", True, (Status.PASS, Status.PASS)), ("CREATE_FAILED", False, (Status.FAIL, Status.WARN))],
)
def test_eks_fargate_profiles_and_pod_logs(
    fake_aws: FakeAws, status: str, logged: bool, expected: tuple[Status, Status]
) -> None:
    _fargate(fake_aws, status=status, logged=logged)
    stack = DeployedStack(
        account=fake_aws.account(),
        info=stack_info("Eks"),
        config=load_config(),
        outputs={"ClusterName": "sandbox", "FargatePodLogGroup": "Eks-FargatePods"},
        resources=[{"ResourceType": "AWS::EKS::FargateProfile", "PhysicalResourceId": "sandbox|Workloads"}],
    )
    profile, pod_logs = fargate_profiles_and_logs(stack)
    assert (profile.status, pod_logs.status) == expected
    fake_aws.assert_all_answered()


class _Features:
    """Stands in for the GuardDuty section's `GuardDutyFeatures` (its `to_api()` shape)."""

    def to_api(self) -> list[dict[str, object]]:
        return [
            {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"},
            {
                "Name": "RUNTIME_MONITORING",
                "Status": "ENABLED",
                "AdditionalConfiguration": [{"Name": "EKS_ADDON_MANAGEMENT", "Status": "ENABLED"}],
            },
        ]


def test_guardduty_features_that_differ_from_the_configuration_fail(fake_aws: FakeAws) -> None:
    _detector(fake_aws, runtime="DISABLED", coverage=[])
    config = cast(AppConfig, SimpleNamespace(guardduty=SimpleNamespace(features=_Features())))
    results = run(fake_aws, config, "GuardDuty")
    detector = results[f"GuardDuty: detector {DETECTOR}"]
    assert detector.status == Status.FAIL
    assert "RUNTIME_MONITORING is DISABLED, configured ENABLED" in detector.detail


def test_an_express_mode_service_that_is_not_active_fails(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/default/web"
    deployed(fake_aws, "ExpressMode", {"AWS::ECS::ExpressGatewayService": [arn]}, {})
    fake_aws.stub("ecs").add_response(
        "describe_express_gateway_service",
        {"service": {"serviceName": "web", "status": {"statusCode": "DRAINING", "statusReason": "deleting"}}},
        {"serviceArn": arn},
    )
    results = run(fake_aws, sandbox_config, "ExpressMode")
    assert results["ExpressMode: Express Mode service web"].status == Status.FAIL
    assert results["ExpressMode: Endpoint"].status == Status.SKIP
