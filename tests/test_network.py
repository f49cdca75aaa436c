"""The Network stack's dual-stack VPC: what IPv6 EKS, Fargate and dual-stack ALBs rely on."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from constructs_lib.network import DualStackVpc, DualStackVpcProps
from stacks.config import load_config
from tests.conftest import Synthesized
from tests.helpers import logical_id, logs_of_stack_condition, only_network


@pytest.fixture(scope="module")
def network(sandbox: Synthesized) -> Template:
    return sandbox.template("Network")


@pytest.fixture(scope="module")
def production_network(production: Synthesized) -> Template:
    return production.template("Network")


def subnets_of_tier(template: Template, tier: str) -> dict[str, Any]:
    return {
        logical_id: resource
        for logical_id, resource in template.find_resources("AWS::EC2::Subnet").items()
        if {"Key": "aws-cdk:subnet-name", "Value": tier} in resource["Properties"]["Tags"]
    }


def test_vpc_has_an_amazon_provided_ipv6_block(network: Template) -> None:
    network.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.0.0.0/16", "EnableDnsHostnames": True})
    network.resource_count_is("AWS::EC2::VPCCidrBlock", 1)
    network.has_resource_properties("AWS::EC2::VPCCidrBlock", {"AmazonProvidedIpv6CidrBlock": True})


@pytest.mark.parametrize("tier", ["Public", "Private", "Isolated"])
def test_every_subnet_of_each_tier_is_dual_stack_with_a_64(network: Template, tier: str) -> None:
    subnets = subnets_of_tier(network, tier)
    assert len(subnets) == 2, f"one {tier} subnet per AZ in the sandbox"
    for subnet in subnets.values():
        props = subnet["Properties"]
        assert props["AssignIpv6AddressOnCreation"] is True
        # Fn::Cidr over the VPC's /56 with 64 host bits: one /64 per subnet.
        cidr = props["Ipv6CidrBlock"]["Fn::Select"][1]["Fn::Cidr"]
        assert cidr[2] == "64"


def test_dns64_is_pinned_off_on_private_subnets(network: Template) -> None:
    for subnet in subnets_of_tier(network, "Private").values():
        assert subnet["Properties"]["EnableDns64"] is False


def test_ipv6_default_routes_use_the_internet_gateway_and_the_egress_only_gateway(network: Template) -> None:
    network.resource_count_is("AWS::EC2::EgressOnlyInternetGateway", 1)
    routes = network.find_resources("AWS::EC2::Route", {"Properties": {"DestinationIpv6CidrBlock": "::/0"}})
    through_igw = [r for r in routes.values() if "GatewayId" in r["Properties"]]
    through_eigw = [r for r in routes.values() if "EgressOnlyInternetGatewayId" in r["Properties"]]
    assert len(through_igw) == 2, "each public subnet routes ::/0 to the internet gateway"
    assert len(through_eigw) == 2, "each private subnet routes ::/0 to the egress-only gateway"


def test_isolated_subnets_have_no_default_route(network: Template) -> None:
    isolated_tables = {
        logical_id
        for logical_id in network.find_resources("AWS::EC2::RouteTable")
        if logical_id.startswith("VpcIsolated")
    }
    assert isolated_tables
    for route in network.find_resources("AWS::EC2::Route").values():
        assert route["Properties"]["RouteTableId"]["Ref"] not in isolated_tables


def test_sandbox_runs_a_single_nat_gateway(network: Template) -> None:
    network.resource_count_is("AWS::EC2::NatGateway", 1)


def test_production_runs_a_nat_gateway_per_az(production_network: Template) -> None:
    production_network.resource_count_is("AWS::EC2::NatGateway", 3)


def test_flow_logs_capture_all_traffic_into_a_log_group_with_retention(network: Template) -> None:
    network.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    network.has_resource(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 7}, "DeletionPolicy": "Delete"}
    )


def test_production_keeps_flow_logs_for_a_year_and_retains_them(production_network: Template) -> None:
    production_network.has_resource(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 365}, "DeletionPolicy": "Retain"}
    )


def test_s3_gateway_endpoint_always_and_interface_endpoints_only_when_configured(
    network: Template, production_network: Template
) -> None:
    network.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})
    network.resource_count_is("AWS::EC2::VPCEndpoint", 1)
    production_network.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Interface",
            "ServiceName": "com.amazonaws.ap-northeast-1.ecr.dkr",
            "PrivateDnsEnabled": True,
        },
    )


def test_subnets_carry_the_tags_load_balancers_and_karpenter_discover_them_by(network: Template) -> None:
    for subnet in subnets_of_tier(network, "Public").values():
        assert {"Key": "kubernetes.io/role/elb", "Value": "1"} in subnet["Properties"]["Tags"]
    for subnet in subnets_of_tier(network, "Private").values():
        tags = subnet["Properties"]["Tags"]
        assert {"Key": "kubernetes.io/role/internal-elb", "Value": "1"} in tags
        assert {"Key": "karpenter.sh/discovery", "Value": "containers-update"} in tags
    for subnet in subnets_of_tier(network, "Isolated").values():
        keys = {tag["Key"] for tag in subnet["Properties"]["Tags"]}
        assert not keys & {
            "kubernetes.io/role/elb",
            "kubernetes.io/role/internal-elb",
            "karpenter.sh/discovery",
        }


def test_stack_carries_the_stage_and_project_tags(network: Template) -> None:
    network.has_resource_properties(
        "AWS::EC2::VPC",
        {
            "Tags": Match.array_with(
                [{"Key": "project", "Value": "containers-update"}, {"Key": "stage", "Value": "sandbox"}]
            )
        },
    )


def test_vpc_logical_id_is_pinned(sandbox: Synthesized) -> None:
    # Renaming the construct would replace the VPC and everything in it.
    stack = sandbox.stacks["Network"]
    assert logical_id(stack.network.vpc) == "Vpc49347EA9"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (DualStackVpcProps(nat_gateways=0), "nat_gateways must be at least 1 (for IPv4 egress), got 0"),
        (DualStackVpcProps(max_azs=2, nat_gateways=3), "nat_gateways must not exceed max_azs (2), got 3"),
    ],
)
def test_fails_when_props_are_inconsistent(props: DualStackVpcProps, message: str) -> None:
    import aws_cdk as cdk

    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DualStackVpc(cdk.Stack(cdk.App(), "S"), "Vpc", props=props)


def test_interface_endpoints_share_one_group_open_to_the_vpc_on_https_only(
    production_network: Template,
) -> None:
    groups = production_network.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": "Interface endpoints: HTTPS from inside the VPC"}},
    )
    assert len(groups) == 1
    ((group_id, group),) = groups.items()
    assert group["Properties"]["SecurityGroupIngress"] == [
        {
            "CidrIp": "10.0.0.0/16",
            "Description": "HTTPS from the VPC",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    for endpoint in production_network.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    ).values():
        assert endpoint["Properties"]["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]


def test_pinned_zones_place_the_subnets_by_name(synth_with) -> None:
    config = only_network(load_config())
    pinned = dataclasses.replace(
        config,
        network=dataclasses.replace(
            config.network, availability_zones=("ap-northeast-1a", "ap-northeast-1d")
        ),
    )
    template = synth_with(pinned).template("Network")
    zones = {
        subnet["Properties"]["AvailabilityZone"]
        for subnet in template.find_resources("AWS::EC2::Subnet").values()
    }
    assert zones == {"ap-northeast-1a", "ap-northeast-1d"}


def test_flow_logs_are_encrypted_with_a_rotating_key_of_the_stack(network: Template) -> None:
    key = Capture()
    network.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": {"Fn::GetAtt": [key, "Arn"]}})
    network.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": {"EnableKeyRotation": True},
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
        },
    )
    # Pinned: a new logical id would replace the key, and the retained logs would lose it.
    assert key.as_string() == "VpcFlowLogKeyD489FA5A"


def test_flow_log_key_admits_cloudwatch_logs_for_this_stacks_groups_only(network: Template) -> None:
    ((key,),) = [list(network.find_resources("AWS::KMS::Key").values())]
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (logs_statement,) = [s for s in statements if s.get("Sid") == "CloudWatchLogsForThisStacksGroups"]
    assert logs_statement["Principal"] == {"Service": "logs.ap-northeast-1.amazonaws.com"}
    assert logs_statement["Condition"] == logs_of_stack_condition("sandbox-Network")
    # Besides CloudWatch Logs, only the account's own key administration statement.
    assert len(statements) == 2


def test_production_retains_the_flow_log_key(production_network: Template) -> None:
    production_network.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})
