"""`make preflight`: every check against moto or a Stubber, passing and failing."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace
from typing import cast

import pytest

from ops.preflight import FARGATE_ON_DEMAND_QUOTA, FARGATE_SPOT_QUOTA, SERVICE_LINKED_ROLES, Preflight
from ops.report import Result, Status, run, summary
from stacks.config import AppConfig
from tests.ops.conftest import (
    ACCOUNT,
    REGION,
    REPLICA_REGION,
    FakeAws,
    aws_client,
    stack_info,
)

SANDBOX_STACKS = [
    stack_info("Network"),
    stack_info("RegistryReplica", REPLICA_REGION),
    stack_info("Registry", dependencies=("RegistryReplica",)),
    stack_info("EcsFargate", dependencies=("Network", "Registry")),
    stack_info("Eks", dependencies=("Network",)),
]


def statuses(results: list[Result]) -> dict[str, Status]:
    return {r.name: r.status for r in results}


@pytest.fixture
def preflight(fake_aws: FakeAws, sandbox_config: AppConfig) -> Preflight:
    return Preflight(fake_aws.account(), sandbox_config, list(SANDBOX_STACKS))


def test_runs_only_the_checks_of_the_enabled_stacks(preflight: Preflight) -> None:
    names = [check.__name__ for check in preflight.checks()]
    assert "guardduty_detector" not in names and "app_runner_access" not in names
    assert {"bootstrap", "fargate_quotas", "eks_version", "registry_singletons"} <= set(names)
    preflight.stacks = [stack_info("Network")]
    assert [check.__name__ for check in preflight.checks()] == ["bootstrap", "service_linked_roles"]


def test_bootstrap_passes_in_both_regions_and_fails_where_it_is_missing_or_old(
    fake_aws: FakeAws, preflight: Preflight
) -> None:
    fake_aws.answer_stack("CDKToolkit", "UPDATE_COMPLETE", {"BootstrapVersion": "30"})
    fake_aws.answer_no_stack("CDKToolkit", REPLICA_REGION)
    found = statuses(list(preflight.bootstrap()))
    assert found == {
        f"CDK bootstrap in {REGION}": Status.PASS,
        f"CDK bootstrap in {REPLICA_REGION}": Status.FAIL,
    }

    fake_aws.answer_stack("CDKToolkit", "CREATE_COMPLETE", {"BootstrapVersion": "5"})
    fake_aws.answer_stack(
        "CDKToolkit", "UPDATE_ROLLBACK_COMPLETE", {"BootstrapVersion": "30"}, REPLICA_REGION
    )
    assert {r.status for r in preflight.bootstrap()} == {Status.FAIL}
    fake_aws.assert_all_answered()


def _create_service_linked_role(name: str, service: str) -> None:
    aws_client("iam").create_role(
        RoleName=name,
        Path=f"/aws-service-role/{service}/",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
                ]
            }
        ),
    )


def test_service_linked_roles_pass_when_present(preflight: Preflight) -> None:
    for stack_id in ("Registry", "EcsFargate", "Eks"):
        for role in SERVICE_LINKED_ROLES[stack_id]:
            try:
                _create_service_linked_role(role.role_name, role.service)
            except aws_client("iam").exceptions.EntityAlreadyExistsException:
                pass
    results = list(preflight.service_linked_roles())
    assert results and {r.status for r in results} == {Status.PASS}


def test_missing_ecs_and_spot_roles_block_and_the_others_warn(preflight: Preflight) -> None:
    found = statuses(list(preflight.service_linked_roles()))
    # The EcsFargate stack makes the ECS role itself; EcsAnywhere, deployed in any order, does not.
    assert found["service-linked role AWSServiceRoleForECS"] == Status.WARN
    preflight.stacks.append(stack_info("EcsAnywhere"))
    found = statuses(list(preflight.service_linked_roles()))
    assert found["service-linked role AWSServiceRoleForECS"] == Status.FAIL
    # Karpenter's sandbox NodePool allows Spot: CreateFleet fails without the role.
    assert found["service-linked role AWSServiceRoleForEC2Spot"] == Status.FAIL
    assert found["service-linked role AWSServiceRoleForAmazonEKS"] == Status.WARN


def test_the_spot_role_is_not_needed_without_spot_capacity(preflight: Preflight) -> None:
    eks = preflight.config.eks
    general = dataclasses.replace(eks.karpenter.general, capacity_types=("on-demand",))
    karpenter = dataclasses.replace(eks.karpenter, general=general)
    preflight.config = dataclasses.replace(
        preflight.config, eks=dataclasses.replace(eks, karpenter=karpenter)
    )
    assert "service-linked role AWSServiceRoleForEC2Spot" not in statuses(
        list(preflight.service_linked_roles())
    )


def _quota(fake_aws: FakeAws, code: str, value: float) -> None:
    fake_aws.stub("service-quotas").add_response(
        "get_service_quota",
        {"Quota": {"ServiceCode": "fargate", "QuotaCode": code, "Value": value}},
        {"ServiceCode": "fargate", "QuotaCode": code},
    )


def test_fargate_quotas_pass_warn_and_fail(fake_aws: FakeAws, preflight: Preflight) -> None:
    # Sandbox: 1 on-demand task and up to 299 Spot tasks of 0.25 vCPU.
    _quota(fake_aws, FARGATE_ON_DEMAND_QUOTA, 4000)
    _quota(fake_aws, FARGATE_SPOT_QUOTA, 4000)
    assert {r.status for r in preflight.fargate_quotas()} == {Status.PASS}

    _quota(fake_aws, FARGATE_ON_DEMAND_QUOTA, 0)
    _quota(fake_aws, FARGATE_SPOT_QUOTA, 10)
    on_demand, spot = preflight.fargate_quotas()
    assert on_demand.status == Status.FAIL and "needs 0.25" in on_demand.detail
    assert spot.status == Status.WARN and "74.75" in spot.detail and FARGATE_SPOT_QUOTA in spot.fix
    fake_aws.assert_all_answered()


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        ([{"clusterVersion": "1.36", "versionStatus": "STANDARD_SUPPORT"}], Status.PASS),
        ([{"clusterVersion": "1.36", "versionStatus": "EXTENDED_SUPPORT"}], Status.WARN),
        ([], Status.FAIL),
    ],
)
def test_eks_version(fake_aws: FakeAws, preflight: Preflight, offered: list[dict], expected: Status) -> None:
    fake_aws.stub("eks").add_response(
        "describe_cluster_versions", {"clusterVersions": offered}, {"clusterVersions": ["1.36"]}
    )
    [result] = preflight.eks_version()
    assert result.status == expected


def test_bottlerocket_release_has_images_for_each_architecture(
    fake_aws: FakeAws, preflight: Preflight
) -> None:
    ssm = fake_aws.stub("ssm")
    release = preflight.config.eks.karpenter.bottlerocket_version.removeprefix("v")
    arm = f"/aws/service/bottlerocket/aws-k8s-1.36/arm64/{release}/image_id"
    x86 = f"/aws/service/bottlerocket/aws-k8s-1.36/x86_64/{release}/image_id"
    ssm.add_response("get_parameter", {"Parameter": {"Name": arm, "Value": "ami-0123"}}, {"Name": arm})
    ssm.add_client_error("get_parameter", "ParameterNotFound", expected_params={"Name": x86})
    arm_result, x86_result = preflight.bottlerocket_images()
    assert arm_result.status == Status.PASS and arm_result.detail == "ami-0123"
    assert x86_result.status == Status.FAIL and x86 in x86_result.detail
    fake_aws.assert_all_answered()


def _offerings(fake_aws: FakeAws, instance_type: str, zones: list[str]) -> None:
    ec2 = fake_aws.stub("ec2")
    ec2.add_response(
        "describe_availability_zones",
        {
            "AvailabilityZones": [
                {"ZoneName": z, "State": "available"}
                for z in ("ap-northeast-1d", "ap-northeast-1a", "ap-northeast-1c")
            ]
        },
    )
    ec2.add_response(
        "describe_instance_type_offerings",
        {
            "InstanceTypeOfferings": [
                {"InstanceType": instance_type, "LocationType": "availability-zone", "Location": z}
                for z in zones
            ]
        },
        {
            "LocationType": "availability-zone",
            "Filters": [
                {"Name": "instance-type", "Values": [instance_type]},
                # The VPC takes the first max_azs (2) zones in name order, as Fn::GetAZs lists them.
                {"Name": "location", "Values": ["ap-northeast-1a", "ap-northeast-1c"]},
            ],
        },
    )


@pytest.mark.parametrize(
    ("zones", "expected"),
    [
        (["ap-northeast-1a", "ap-northeast-1c"], Status.PASS),
        (["ap-northeast-1c"], Status.WARN),
        ([], Status.FAIL),
    ],
)
def test_instance_types_offered_in_the_chosen_zones(
    fake_aws: FakeAws, preflight: Preflight, zones: list[str], expected: Status
) -> None:
    _offerings(fake_aws, "t4g.medium", zones)
    [result] = preflight.instance_type_offerings()
    assert result.status == expected, result.line()
    fake_aws.assert_all_answered()


def _empty_registry(fake_aws: FakeAws, *, scanning: dict, replication: list, prefixes: list[str]) -> None:
    ecr = fake_aws.stub("ecr")
    ecr.add_response(
        "get_registry_scanning_configuration", {"registryId": ACCOUNT, "scanningConfiguration": scanning}
    )
    ecr.add_response(
        "describe_registry", {"registryId": ACCOUNT, "replicationConfiguration": {"rules": replication}}
    )
    ecr.add_response(
        "describe_pull_through_cache_rules",
        {
            "pullThroughCacheRules": [
                {"ecrRepositoryPrefix": p, "upstreamRegistryUrl": "public.ecr.aws"} for p in prefixes
            ]
        },
    )


def test_registry_singletons_free_in_a_fresh_account(fake_aws: FakeAws, preflight: Preflight) -> None:
    fake_aws.answer_no_stack("Registry")
    _empty_registry(fake_aws, scanning={"scanType": "BASIC", "rules": []}, replication=[], prefixes=["other"])
    assert {r.status for r in preflight.registry_singletons()} == {Status.PASS}
    fake_aws.assert_all_answered()


def test_registry_singletons_that_deploying_would_replace(fake_aws: FakeAws, preflight: Preflight) -> None:
    fake_aws.answer_no_stack("Registry")
    _empty_registry(
        fake_aws,
        scanning={
            "scanType": "ENHANCED",
            "rules": [
                {
                    "scanFrequency": "CONTINUOUS_SCAN",
                    "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
                }
            ],
        },
        replication=[{"destinations": [{"region": "us-west-2", "registryId": ACCOUNT}]}],
        prefixes=["ecr-public"],
    )
    scanning, replication, prefixes = preflight.registry_singletons()
    assert (scanning.status, replication.status, prefixes.status) == (Status.WARN, Status.WARN, Status.FAIL)
    assert "ecr-public" in prefixes.detail


def test_registry_singletons_of_this_stage_pass(fake_aws: FakeAws, preflight: Preflight) -> None:
    fake_aws.answer_stack("Registry")
    _empty_registry(
        fake_aws,
        scanning={"scanType": "ENHANCED", "rules": []},
        replication=[{"destinations": [{"region": REPLICA_REGION, "registryId": ACCOUNT}]}],
        prefixes=["ecr-public"],
    )
    assert {r.status for r in preflight.registry_singletons()} == {Status.PASS}


def test_standalone_account_with_inspector_off_passes(fake_aws: FakeAws, preflight: Preflight) -> None:
    assert {r.status for r in preflight.inspector_and_organization()} == {Status.PASS}


def test_an_organization_member_must_keep_scanning_on_delete(fake_aws: FakeAws, preflight: Preflight) -> None:
    fake_aws.stub("organizations", REGION).add_response(
        "describe_organization", {"Organization": {"Id": "o-abc123", "MasterAccountId": "210987654321"}}
    )
    aws_client("inspector2", REGION).enable(accountIds=[ACCOUNT], resourceTypes=["ECR"])
    fake_aws.answer_no_stack("Registry")
    organization, inspector = preflight.inspector_and_organization()
    assert organization.status == Status.FAIL and "retain_on_delete" in organization.fix
    assert inspector.status == Status.WARN


def test_guardduty_creates_or_adopts_a_detector(fake_aws: FakeAws, preflight: Preflight) -> None:
    preflight.stacks.append(stack_info("GuardDuty"))
    [result] = preflight.guardduty_detector()
    assert result.status == Status.PASS and "creates one" in result.detail
    aws_client("guardduty", REGION).create_detector(Enable=True)
    [result] = preflight.guardduty_detector()
    assert result.status == Status.PASS and "adopts it" in result.detail


def test_a_detector_managed_by_an_administrator_blocks_feature_changes(
    fake_aws: FakeAws, preflight: Preflight
) -> None:
    preflight.stacks.append(stack_info("GuardDuty"))
    guardduty = fake_aws.stub("guardduty")
    guardduty.add_response("list_detectors", {"DetectorIds": ["12abc34d567e8fa901bc2d34e56789f0"]})
    guardduty.add_response(
        "get_administrator_account",
        {
            "Administrator": {
                "AccountId": "210987654321",
                "InvitationId": "x",
                "RelationshipStatus": "Enabled",
            }
        },
        {"DetectorId": "12abc34d567e8fa901bc2d34e56789f0"},
    )
    fake_aws.answer_no_stack("GuardDuty")
    [result] = preflight.guardduty_detector()
    assert result.status == Status.FAIL and "manage_features: false" in result.fix
    fake_aws.assert_all_answered()


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        (
            [
                {
                    "ServiceName": "web-app",
                    "ServiceId": "0123456789abcdef0123456789abcdef",
                    "ServiceArn": f"arn:aws:apprunner:{REGION}:{ACCOUNT}:service/web-app/{'0a' * 16}",
                }
            ],
            Status.PASS,
        ),
        ([], Status.WARN),
        (None, Status.FAIL),
    ],
)
def test_app_runner_access(
    fake_aws: FakeAws, preflight: Preflight, services: list | None, expected: Status
) -> None:
    stubber = fake_aws.stub("apprunner")
    if services is None:
        stubber.add_client_error("list_services", "AccessDeniedException")
    else:
        stubber.add_response("list_services", {"ServiceSummaryList": services}, {"MaxResults": 1})
    [result] = preflight.app_runner_access()
    assert result.status == expected


def test_prints_each_result_as_it_runs_and_exits_non_zero_on_a_blocker(
    fake_aws: FakeAws, preflight: Preflight, capsys: pytest.CaptureFixture[str]
) -> None:
    preflight.stacks = [stack_info("Network")]
    fake_aws.answer_no_stack("CDKToolkit")
    results = run(preflight.checks())
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        f"FAIL  CDK bootstrap in {REGION}: no CDKToolkit stack",
        "      fix: make bootstrap (every region the stage uses)",
    ]
    assert summary(results) == ("1 fail", 1)


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        (
            [
                {
                    "Engine": "aurora-postgresql",
                    "ServerlessV2FeaturesSupport": {"MinCapacity": 0, "MaxCapacity": 256},
                }
            ],
            Status.PASS,
        ),
        (
            [
                {
                    "Engine": "aurora-postgresql",
                    "ServerlessV2FeaturesSupport": {"MinCapacity": 0.5, "MaxCapacity": 256},
                }
            ],
            Status.FAIL,
        ),
        ([], Status.FAIL),
    ],
)
def test_aurora_version_offered_with_serverless_v2_down_to_the_minimum(
    fake_aws: FakeAws, preflight: Preflight, versions: list[dict], expected: Status
) -> None:
    # The web section arrives with the DataStores stack; a stand-in carries its two keys here.
    aurora = SimpleNamespace(engine_version="17.5", min_capacity=0)
    preflight.config = cast(AppConfig, SimpleNamespace(web=SimpleNamespace(aurora=aurora)))
    preflight.stacks = [stack_info("DataStores")]
    fake_aws.stub("rds").add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": versions},
        {"Engine": "aurora-postgresql", "EngineVersion": "17.5"},
    )
    [result] = preflight.aurora_version()
    assert result.status == expected
