"""`DualStackVpc` copied into another project: it keeps its promises without the Network stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.network import DualStackVpc, DualStackVpcProps
from tests.helpers import one_line_error


@pytest.fixture(scope="module")
def copied() -> Template:
    """An environment-agnostic plain stack (CDK offers it two zones) with three AZs and its own key."""
    # CDK's built-in CloudFormation validation is off for speed, as in the session fixtures.
    stack = cdk.Stack(cdk.App(builtin_cloud_formation_validation=False), "Copied")
    key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    DualStackVpc(stack, "Vpc", props=DualStackVpcProps(max_azs=3, nat_gateways=1, flow_log_key=key))
    return Template.from_stack(stack)


def test_a_plain_stack_gets_every_az_asked_for(copied: Template) -> None:
    zones = [
        subnet["Properties"]["AvailabilityZone"]
        for subnet in copied.find_resources("AWS::EC2::Subnet").values()
    ]
    assert len(zones) == 9, "three tiers in three AZs"
    assert {zone["Fn::Select"][0] for zone in zones} == {0, 1, 2}
    assert all(zone["Fn::Select"][1] == {"Fn::GetAZs": ""} for zone in zones)


def test_a_key_passed_in_encrypts_the_flow_logs_and_no_other_key_is_made(copied: Template) -> None:
    copied.resource_count_is("AWS::KMS::Key", 1)
    (key_id,) = copied.find_resources("AWS::KMS::Key")
    copied.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"interface_endpoints": ["ecr.dokr"]},
            "interface_endpoints must name AWS services such as 'ecr.dkr' (did you mean 'ecr.dkr'?), "
            "got 'ecr.dokr'",
        ),
        (
            {"interface_endpoints": ["sts", "sts"]},
            "interface_endpoints must not repeat a service, got ['sts', 'sts']",
        ),
        (
            {"interface_endpoints": "ecr.api"},
            "interface_endpoints must be a list of strings such as ['ecr.api'], got 'ecr.api'",
        ),
        (
            {"availability_zones": "us-east-1a"},
            "availability_zones must be a list of strings such as ['us-east-1a'], got 'us-east-1a'",
        ),
        (
            {"availability_zones": ["us-east-1a", "us-east-1a"]},
            "availability_zones must not repeat a zone, got ['us-east-1a', 'us-east-1a']",
        ),
        ({"max_azs": "3"}, "max_azs must be a whole number, got '3'"),
        ({"max_azs": 7, "nat_gateways": 1}, "max_azs must be between 2 and 6, got 7"),
        (
            {"cidr": "10.0.0.0/24"},
            "cidr must be an IPv4 /16 block such as 10.0.0.0/16 (the subnet plan fills it)",
        ),
        ({"cidr": 16}, "cidr must be a CIDR block such as '10.0.0.0/16', got 16"),
        ({"flow_log_retention": 7}, "flow_log_retention must be a logs.RetentionDays, got 7"),
        ({"private_subnet_tags": ["team"]}, "private_subnet_tags must map keys to strings"),
    ],
)
def test_fails_with_one_line_when_a_prop_is_wrong(props: dict, message: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    shown = one_line_error(lambda: DualStackVpc(stack, "Vpc", props=DualStackVpcProps(**props)), ValueError)
    assert shown.startswith(message)


def test_a_service_off_the_short_list_that_cdk_knows_is_accepted() -> None:
    vpc = DualStackVpc(
        cdk.Stack(cdk.App(), "S"), "Vpc", props=DualStackVpcProps(interface_endpoints=["monitoring"])
    )
    assert vpc.vpc.node.try_find_child("Monitoring") is not None
