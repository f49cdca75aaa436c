"""`make cost`: the estimate follows the price table, and the README's table is the generated one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ops import assembly, cost
from ops.aws import JourneyError
from ops.prices import EVERY_REGION, FALLBACK_REGION, HOURS_PER_MONTH, INSTANCE_HOUR, PRICES
from tests.conftest import Synthesized
from tests.ops.conftest import REGION, stack_info

ROOT = Path(__file__).resolve().parents[2]


def template_of(**resources: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A template of the given resources: each logical id's type and properties."""
    return {
        "Resources": {name: {"Type": kind, "Properties": props} for name, (kind, props) in resources.items()}
    }


def price(key: str, region: str = REGION) -> float:
    by_region = PRICES[key].by_region
    return by_region.get(region, by_region.get(EVERY_REGION, by_region.get(FALLBACK_REGION, 0.0)))


@pytest.fixture(scope="module")
def costs(sandbox: Synthesized) -> dict[str, cost.StackCost]:
    return {info.id: cost.estimate(info) for info in assembly.read(sandbox.outdir)}


def lines(stack_cost: cost.StackCost) -> dict[str, float]:
    return {line.what: line.hourly for line in stack_cost.lines}


def test_network_costs_its_nat_gateway_its_address_and_its_key(costs: dict[str, cost.StackCost]) -> None:
    assert lines(costs["Network"]) == {
        "1 NAT gateway": pytest.approx(price("nat_gateway_hour")),
        "1 public IPv4 address (Elastic IP)": pytest.approx(price("public_ipv4_hour")),
        "1 KMS key": pytest.approx(price("kms_key_month") / HOURS_PER_MONTH),  # the flow logs' key
    }
    assert costs["Network"].monthly == pytest.approx(costs["Network"].hourly * HOURS_PER_MONTH)


def test_the_graviton_task_is_priced_as_arm_and_the_idle_windows_service_not_at_all(
    costs: dict[str, cost.StackCost],
) -> None:
    priced = lines(costs["EcsFargate"])
    assert priced["1 Graviton Fargate task(s): 0.25 vCPU"] == pytest.approx(
        0.25 * price("fargate_linux_arm_vcpu_hour")
    )
    assert priced["1 Graviton Fargate task(s): 0.5 GB"] == pytest.approx(
        0.5 * price("fargate_linux_arm_gb_hour")
    )
    assert priced["1 ALB"] == pytest.approx(price("alb_hour"))
    assert not any("Windows" in what for what in priced)
    assert any("Fargate Spot" in use for use in costs["EcsFargate"].usage)


def test_eks_costs_its_control_plane_system_nodes_and_the_sample_alb(
    costs: dict[str, cost.StackCost],
) -> None:
    priced = lines(costs["Eks"])
    assert priced["EKS control plane"] == pytest.approx(price("eks_cluster_hour"))
    assert priced["2 x t4g.medium node group"] == pytest.approx(2 * INSTANCE_HOUR["t4g.medium"][REGION])
    assert priced["1 ALB made by the Load Balancer Controller"] == pytest.approx(price("alb_hour"))


def test_the_replica_is_priced_in_its_own_region(costs: dict[str, cost.StackCost]) -> None:
    replica = costs["RegistryReplica"]
    assert replica.region == "ap-northeast-3"
    assert lines(replica) == {
        "1 KMS key": pytest.approx(price("kms_key_month", "ap-northeast-3") / HOURS_PER_MONTH)
    }


def test_data_stores_endpoints_and_express_mode_minimums() -> None:
    template = template_of(
        Endpoint=("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Interface", "SubnetIds": ["a", "b", "c"]}),
        Db=(
            "AWS::RDS::DBCluster",
            {"ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 4}},
        ),
        Writer=(
            "AWS::RDS::DBInstance",
            {"DBClusterIdentifier": {"Ref": "Db"}, "DBInstanceClass": "db.serverless"},
        ),
        Cache=("AWS::ElastiCache::ServerlessCache", {"Engine": "valkey"}),
        Express=(
            "AWS::ECS::ExpressGatewayService",
            {"Cpu": "512", "Memory": "1024", "ScalingTarget": {"MinTaskCount": 2}},
        ),
    )
    estimate = cost.estimate(stack_info("DataStores"), template)
    priced = lines(estimate)
    assert priced["1 interface endpoint x AZs"] == pytest.approx(3 * price("interface_endpoint_hour"))
    assert priced["Aurora Serverless v2: 1 instance(s) at the 0.5 ACU minimum"] == pytest.approx(
        0.5 * price("aurora_serverless_v2_acu_hour")
    )
    assert priced["ElastiCache Serverless (valkey) minimum 0.1 GB stored"] == pytest.approx(
        0.1 * price("elasticache_serverless_valkey_gb_hour")
    )
    assert priced["2 Express Mode task(s) of 0.5 vCPU"] == pytest.approx(
        1.0 * price("fargate_linux_x86_vcpu_hour")
    )
    # No Tokyo figure for ElastiCache Serverless in the table: the estimate says it used us-east-1's.
    notes = {line.what: line.note for line in estimate.lines}
    assert notes["ElastiCache Serverless (valkey) minimum 0.1 GB stored"].startswith(FALLBACK_REGION)


def test_every_price_is_sourced_and_has_a_fallback() -> None:
    for key, entry in PRICES.items():
        assert entry.source.startswith("https://aws.amazon.com/"), key
        assert FALLBACK_REGION in entry.by_region or EVERY_REGION in entry.by_region, key
    for instance_type, by_region in INSTANCE_HOUR.items():
        assert FALLBACK_REGION in by_region, instance_type


@pytest.mark.parametrize(("language", "name"), list(cost.README_FILES.items()))
def test_the_readme_table_is_the_generated_one(
    sandbox: Synthesized, costs: dict[str, cost.StackCost], language: str, name: str
) -> None:
    readme = (ROOT / name).read_text(encoding="utf-8")
    ordered = [costs[info.id] for info in assembly.read(sandbox.outdir)]
    expected = cost.readme_block(ordered, "sandbox", language)
    assert cost.current_readme_block(readme) == expected, f"run `make cost README=1` and commit {name}"


def test_refuses_an_assembly_of_another_stage(sandbox: Synthesized) -> None:
    stacks = assembly.read(sandbox.outdir)
    assert assembly.synthesized_stage(stacks) == "sandbox"
    with pytest.raises(JourneyError, match=r"cdk\.out holds stage 'sandbox', not 'production'"):
        assembly.require_stage(stacks, "production")


def test_an_ecs_anywhere_test_host_and_an_idle_app_runner_service() -> None:
    template = template_of(
        Host=("AWS::EC2::Instance", {"InstanceType": "t4g.small"}),
        Linux=("AWS::ECS::Service", {"LaunchType": "EXTERNAL", "DesiredCount": 1}),
        Scaling=("AWS::AppRunner::AutoScalingConfiguration", {"MinSize": 2}),
        Web=("AWS::AppRunner::Service", {"InstanceConfiguration": {"Memory": "2 GB"}}),
    )
    priced = lines(cost.estimate(stack_info("EcsAnywhere"), template))
    assert priced["1 t4g.small instance"] == pytest.approx(INSTANCE_HOUR["t4g.small"][REGION])
    assert priced["1 registered external instance"] == pytest.approx(price("ecs_anywhere_instance_hour"))
    assert priced["App Runner: 2 idle instance(s) of 2 GB"] == pytest.approx(
        4 * price("app_runner_provisioned_gb_hour")
    )


def test_eks_fargate_pods_are_priced_at_the_size_fargate_rounds_them_to() -> None:
    collector: dict[str, Any] = {
        "kind": "StatefulSet",
        # A manifest with a token in it (the IRSA role ARN in an annotation) arrives as Fn::Join.
        "metadata": {"namespace": "insights", "annotations": {"role": "ROLE"}},
        "spec": {
            "template": {
                "spec": {"containers": [{"resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}]}
            }
        },
    }
    sample = {
        "kind": "Deployment",
        "metadata": {"namespace": "apps"},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {"containers": [{"resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
            },
        },
    }
    on_nodes = {**sample, "metadata": {"namespace": "sample"}}
    before, after = json.dumps([collector]).split("ROLE")
    template = template_of(
        AppsProfile=("AWS::EKS::FargateProfile", {"Selectors": [{"Namespace": "apps"}]}),
        InsightsProfile=("AWS::EKS::FargateProfile", {"Selectors": [{"Namespace": "insights"}]}),
        Collector=(
            "Custom::AWSCDK-EKS-KubernetesResource",
            {"Manifest": {"Fn::Join": ["", [before, {"Ref": "Role"}, after]]}},
        ),
        Workloads=("Custom::AWSCDK-EKS-KubernetesResource", {"Manifest": json.dumps([sample, on_nodes])}),
    )
    priced = lines(cost.estimate(stack_info("Eks"), template))
    # Collector: 0.25 vCPU, 512 MiB + 256 MiB -> 1 GB; each sample pod: 0.25 vCPU, 64 MiB + 256 MiB -> 0.5 GB.
    assert priced["3 EKS Fargate pod(s): 0.75 vCPU"] == pytest.approx(
        0.75 * price("fargate_linux_x86_vcpu_hour")
    )
    assert priced["3 EKS Fargate pod(s): 2 GB"] == pytest.approx(2 * price("fargate_linux_x86_gb_hour"))


def test_a_web_acl_costs_per_month_and_per_rule() -> None:
    template = template_of(Acl=("AWS::WAFv2::WebACL", {"Rules": [{"Name": "Common"}, {"Name": "BadInputs"}]}))
    priced = lines(cost.estimate(stack_info("EcsFargate"), template))
    assert priced["1 WAF web ACL"] == pytest.approx(price("waf_web_acl_month") / HOURS_PER_MONTH)
    assert priced["its 2 rules"] == pytest.approx(2 * price("waf_rule_month") / HOURS_PER_MONTH)
