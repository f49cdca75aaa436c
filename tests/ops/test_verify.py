"""`make verify`: each stack's checks against moto or a Stubber, live and broken; URLs are stubbed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from ops.report import Result, Status
from ops.verify import CHECKS, Verify, checks_for
from stacks.config import AppConfig
from tests.ops.conftest import (
    ACCOUNT,
    NOW,
    REGION,
    REPLICA_REGION,
    FakeAws,
    aws_client,
    stack_info,
)


def answering(url: str, family: socket.AddressFamily) -> str:
    return "HTTP 200"


def ipv4_only(url: str, family: socket.AddressFamily) -> str:
    if family == socket.AF_INET6:
        raise OSError("no IPv6 address")
    return "HTTP 200"


def deployed(
    fake_aws: FakeAws,
    stack_id: str,
    resources: dict[str, list[str]],
    outputs: dict[str, str] | None = None,
    region: str = REGION,
) -> None:
    """Stub the stack's DescribeStacks and ListStackResources: `resources` maps a type to physical ids."""
    fake_aws.answer_stack(stack_id, outputs=outputs, region=region)
    summaries = [
        {
            "LogicalResourceId": f"R{i}",
            "PhysicalResourceId": physical,
            "ResourceType": resource_type,
            "LastUpdatedTimestamp": NOW,
            "ResourceStatus": "CREATE_COMPLETE",
        }
        for i, (resource_type, physical) in enumerate((t, p) for t, ids in resources.items() for p in ids)
    ]
    fake_aws.stub("cloudformation", region).add_response(
        "list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": stack_id}
    )


def run(
    fake_aws: FakeAws, config: AppConfig, stack_id: str, region: str = REGION, prober: Any = answering
) -> dict[str, Result]:
    verify = Verify(fake_aws.account(), config, [stack_info(stack_id, region)], prober=prober)
    results = {r.name: r for check in verify.checks() for r in check()}
    fake_aws.assert_all_answered()
    return results


def assert_all_passed(results: dict[str, Result]) -> None:
    """Every check passed (on failure, pytest shows each result's line)."""
    assert {r.status for r in results.values()} == {Status.PASS}, [r.line() for r in results.values()]


def test_a_stack_not_deployed_is_skipped_and_a_failed_one_fails(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    fake_aws.answer_no_stack("Network")
    [result] = run(fake_aws, sandbox_config, "Network").values()
    assert result.status == Status.SKIP
    fake_aws.answer_stack("Network", "UPDATE_ROLLBACK_COMPLETE")
    [result] = run(fake_aws, sandbox_config, "Network").values()
    assert result.status == Status.FAIL and result.detail == "UPDATE_ROLLBACK_COMPLETE"


def test_a_new_stack_plugs_in_its_own_checks(fake_aws: FakeAws, sandbox_config: AppConfig) -> None:
    @checks_for("Probe")
    def probe_output(stack: Any) -> Iterator[Result]:
        yield Result(Status.PASS, stack.name("output"), stack.outputs["Answer"])

    try:
        deployed(fake_aws, "Probe", {}, {"Answer": "42"})
        results = run(fake_aws, sandbox_config, "Probe")
    finally:
        CHECKS.pop("Probe")
    assert results["Probe: output"].detail == "42"


def _vpc(ipv6: bool) -> dict[str, list[str]]:
    ec2 = aws_client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=ipv6)["Vpc"]
    subnet_args: dict[str, Any] = {"VpcId": vpc["VpcId"], "CidrBlock": "10.0.0.0/24"}
    if ipv6:
        block = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0][
            "Ipv6CidrBlock"
        ]
        subnet_args["Ipv6CidrBlock"] = block.replace("/56", "/64")
    subnet = ec2.create_subnet(**subnet_args)["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    return {"AWS::EC2::VPC": [vpc["VpcId"]], "AWS::EC2::Subnet": [subnet], "AWS::EC2::NatGateway": [nat]}


def test_network_is_dual_stack(fake_aws: FakeAws, sandbox_config: AppConfig) -> None:
    deployed(fake_aws, "Network", _vpc(ipv6=True))
    results = run(fake_aws, sandbox_config, "Network")
    assert_all_passed(results)


def test_network_without_ipv6_fails(fake_aws: FakeAws, sandbox_config: AppConfig) -> None:
    deployed(fake_aws, "Network", _vpc(ipv6=False))
    results = run(fake_aws, sandbox_config, "Network")
    failed = [name for name, r in results.items() if r.status == Status.FAIL]
    assert any("dual-stack" in name for name in failed) and any("every subnet" in name for name in failed)


def _registry(
    fake_aws: FakeAws,
    *,
    scan_type: str,
    prefixes: list[str],
    templates: dict[str, list[str]],
    destinations: list[str],
) -> None:
    ecr = fake_aws.stub("ecr")
    ecr.add_response(
        "get_registry_scanning_configuration",
        {
            "registryId": ACCOUNT,
            "scanningConfiguration": {
                "scanType": scan_type,
                "rules": [
                    {
                        "scanFrequency": "CONTINUOUS_SCAN",
                        "repositoryFilters": [{"filter": "app/*", "filterType": "WILDCARD"}],
                    },
                    {
                        "scanFrequency": "SCAN_ON_PUSH",
                        "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
                    },
                ],
            },
        },
    )
    ecr.add_response(
        "describe_pull_through_cache_rules",
        {
            "pullThroughCacheRules": [
                {"ecrRepositoryPrefix": p, "upstreamRegistryUrl": "quay.io"} for p in prefixes
            ]
        },
    )
    ecr.add_response(
        "describe_repository_creation_templates",
        {
            "registryId": ACCOUNT,
            "repositoryCreationTemplates": [{"prefix": p, "appliedFor": a} for p, a in templates.items()],
        },
    )
    ecr.add_response(
        "describe_registry",
        {
            "registryId": ACCOUNT,
            "replicationConfiguration": {
                "rules": [
                    {
                        "destinations": [{"region": d, "registryId": ACCOUNT} for d in destinations],
                        "repositoryFilters": [{"filter": "app/", "filterType": "PREFIX_MATCH"}],
                    }
                ]
            },
        },
    )


REGISTRY_OUTPUTS = {
    "CachePrefixEcrPublic": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/ecr-public/",
    "CachePrefixQuay": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/quay/",
}


def test_registry_features_are_live(fake_aws: FakeAws, sandbox_config: AppConfig) -> None:
    deployed(fake_aws, "Registry", {}, REGISTRY_OUTPUTS)
    _registry(
        fake_aws,
        scan_type="ENHANCED",
        prefixes=["ecr-public", "quay"],
        templates={"ecr-public": ["PULL_THROUGH_CACHE"], "quay": ["PULL_THROUGH_CACHE"]},
        destinations=[REPLICA_REGION],
    )
    results = run(fake_aws, sandbox_config, "Registry")
    assert_all_passed(results)
    assert "CONTINUOUS_SCAN app/*" in results["Registry: enhanced scanning"].detail


def test_registry_with_basic_scanning_missing_rules_and_no_replication_fails(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    deployed(fake_aws, "Registry", {}, REGISTRY_OUTPUTS)
    _registry(fake_aws, scan_type="BASIC", prefixes=["ecr-public"], templates={}, destinations=["us-west-2"])
    results = run(fake_aws, sandbox_config, "Registry")
    assert {name for name, r in results.items() if r.status == Status.FAIL} == {
        "Registry: enhanced scanning",
        "Registry: pull-through cache rule quay/",
        "Registry: repository creation templates",
        "Registry: cross-region replication",
    }


@pytest.mark.parametrize(("applied_for", "expected"), [(["REPLICATION"], Status.PASS), ([], Status.FAIL)])
def test_replica_templates(
    fake_aws: FakeAws, sandbox_config: AppConfig, applied_for: list[str], expected: Status
) -> None:
    deployed(fake_aws, "RegistryReplica", {}, region=REPLICA_REGION)
    templates = [{"prefix": "app", "appliedFor": applied_for}] if applied_for else []
    fake_aws.stub("ecr", REPLICA_REGION).add_response(
        "describe_repository_creation_templates",
        {"registryId": ACCOUNT, "repositoryCreationTemplates": templates},
    )
    results = run(fake_aws, sandbox_config, "RegistryReplica", REPLICA_REGION)
    assert results[f"RegistryReplica: REPLICATION template app in {REPLICA_REGION}"].status == expected


CLUSTER = "containers-update-sandbox-Cluster"
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/graviton"


def _ecs(fake_aws: FakeAws, *, arch: str, running: int, rollout: str = "COMPLETED") -> None:
    deployed(
        fake_aws,
        "EcsFargate",
        {"AWS::ECS::Cluster": [CLUSTER], "AWS::ECS::Service": [SERVICE]},
        {"ServiceUrl": "http://web.example"},
    )
    ecs = fake_aws.stub("ecs")
    ecs.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": "graviton",
                    "desiredCount": 2,
                    "runningCount": running,
                    "deployments": [{"rolloutState": rollout}],
                }
            ]
        },
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    tasks = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{i}" for i in range(running)]
    ecs.add_response("list_tasks", {"taskArns": tasks})
    ecs.add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": task,
                    "capacityProviderName": "FARGATE" if i == 0 else "FARGATE_SPOT",
                    "attributes": [{"name": "ecs.cpu-architecture", "value": arch}],
                }
                for i, task in enumerate(tasks)
            ]
        },
    )


def test_graviton_service_steady_on_arm64_and_reachable_on_both_families(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    _ecs(fake_aws, arch="arm64", running=2)
    results = run(fake_aws, sandbox_config, "EcsFargate")
    assert_all_passed(results)
    assert "1 on FARGATE_SPOT" in results["EcsFargate: graviton tasks on Graviton"].detail


# Each stack has a live test and a broken one: where one ends and the next begins reads as for
# the Registry; the stubs and assertions differ, only pytest's frame is alike.
def test_graviton_service_on_x86_not_steady_and_ipv4_only_is_reported(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    _ecs(fake_aws, arch="x86_64", running=1, rollout="IN_PROGRESS")
    results = run(fake_aws, sandbox_config, "EcsFargate", prober=ipv4_only)
    assert results["EcsFargate: service graviton"].status == Status.WARN
    assert results["EcsFargate: graviton tasks on Graviton"].status == Status.FAIL
    assert results["EcsFargate: ServiceUrl over IPv4"].status == Status.PASS
    assert results["EcsFargate: ServiceUrl over IPv6"].status == Status.FAIL


def _eks(fake_aws: FakeAws, *, ip_family: str, ami: str, with_rules: bool) -> None:
    sqs = aws_client("sqs", REGION)
    queue = sqs.create_queue(QueueName="karpenter-interruptions")["QueueUrl"]
    rules = []
    if with_rules:
        events = aws_client("events", REGION)
        for name in ("SpotInterruption", "Rebalance"):
            events.put_rule(Name=name, EventPattern='{"source": ["aws.ec2"]}', State="ENABLED")
            rules.append(name)
    fake_aws.stub("ec2").add_response(
        "describe_instances",
        {
            "Reservations": [
                {
                    "Instances": [
                        {
                            "InstanceId": "i-0123456789abcdef0",
                            "InstanceType": "m7g.large",
                            "InstanceLifecycle": "spot",
                        }
                    ]
                }
            ]
        },
    )
    deployed(
        fake_aws,
        "Eks",
        {"AWS::SQS::Queue": [queue], "AWS::Events::Rule": rules},
        {"ClusterName": "sandbox", "SampleUrl": "http://sample.example"},
    )
    eks = fake_aws.stub("eks")
    eks.add_response(
        "describe_cluster",
        {
            "cluster": {
                "name": "sandbox",
                "status": "ACTIVE",
                "version": "1.36",
                "kubernetesNetworkConfig": {"ipFamily": ip_family},
            }
        },
        {"name": "sandbox"},
    )
    eks.add_response("list_nodegroups", {"nodegroups": ["system"]}, {"clusterName": "sandbox"})
    eks.add_response(
        "describe_nodegroup",
        {
            "nodegroup": {
                "nodegroupName": "system",
                "status": "ACTIVE",
                "amiType": ami,
                "instanceTypes": ["t4g.medium"],
                "scalingConfig": {"desiredSize": 2},
            }
        },
        {"clusterName": "sandbox", "nodegroupName": "system"},
    )


def test_eks_ipv6_cluster_bottlerocket_nodes_karpenter_queue_and_sample(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    _eks(fake_aws, ip_family="ipv6", ami="BOTTLEROCKET_ARM_64", with_rules=True)
    results = run(fake_aws, sandbox_config, "Eks")
    assert_all_passed(results)
    assert "m7g.large" in results["Eks: nodes Karpenter launched"].detail
    assert "2 enabled EventBridge rule(s)" in results["Eks: Karpenter interruption queue"].detail


def test_eks_ipv4_cluster_other_nodes_and_no_interruption_rules_fail(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    _eks(fake_aws, ip_family="ipv4", ami="AL2023_ARM_64_STANDARD", with_rules=False)
    results = run(fake_aws, sandbox_config, "Eks")
    assert {name for name, r in results.items() if r.status == Status.FAIL} == {
        "Eks: cluster sandbox",
        "Eks: node group system",
        "Eks: Karpenter interruption queue",
    }


def test_network_without_resources_fails_rather_than_describing_every_vpc(
    fake_aws: FakeAws, sandbox_config: AppConfig
) -> None:
    deployed(fake_aws, "Network", {})
    results = run(fake_aws, sandbox_config, "Network")
    assert results["Network: VPC"].status == Status.FAIL
