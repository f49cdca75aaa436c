"""The agent endpoint cleanup's handler against moto's EC2: GuardDuty's endpoint and group, this VPC only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from constructs_lib.security.runtime import agent_endpoint_cleanup as handler_module
from tests.guardduty.aws import REGION, Responses, event, moto_client, stack_status

SERVICE = f"com.amazonaws.{REGION}.guardduty-data"
MANAGED = [{"Key": "GuardDutyManaged", "Value": "true"}]


def _endpoint(ec2: Any, vpc_id: str, subnet_id: str, service: str, tags: list[dict[str, str]]) -> str:
    spec = [{"ResourceType": "vpc-endpoint", "Tags": tags}] if tags else []
    return str(
        ec2.create_vpc_endpoint(
            VpcId=vpc_id,
            ServiceName=service,
            VpcEndpointType="Interface",
            SubnetIds=[subnet_id],
            TagSpecifications=spec,
        )["VpcEndpoint"]["VpcEndpointId"]
    )


def _group(ec2: Any, vpc_id: str, name: str, tags: list[dict[str, str]]) -> str:
    spec = [{"ResourceType": "security-group", "Tags": tags}] if tags else []
    return str(
        ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id, TagSpecifications=spec)[
            "GroupId"
        ]
    )


@pytest.fixture(scope="module")
def moto_ec2() -> Iterator[Any]:
    # One moto session and client per module (clients cost most of a test's time); each test makes
    # its own VPCs, so what one test leaves cannot pass for another's.
    with moto_client("ec2", handler_module) as ec2:
        yield ec2


@pytest.fixture
def aws(moto_ec2: Any) -> dict[str, Any]:
    ec2 = moto_ec2
    vpcs = {}
    for name, cidr in (("ours", "10.0.0.0/16"), ("theirs", "10.1.0.0/16")):
        vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr.replace("0.0/16", "1.0/24"))["Subnet"][
            "SubnetId"
        ]
        vpcs[name] = (vpc_id, subnet_id)
    ours, theirs = vpcs["ours"], vpcs["theirs"]
    found = {
        "vpc_id": ours[0],
        "ec2": ec2,
        "delete": {
            _endpoint(ec2, *ours, SERVICE, MANAGED),
            _group(ec2, ours[0], f"GuardDutyManagedSecurityGroup-{ours[0]}", MANAGED),
        },
        "keep": {
            # GuardDuty's, for another VPC
            _endpoint(ec2, *theirs, SERVICE, MANAGED),
            _group(ec2, theirs[0], f"GuardDutyManagedSecurityGroup-{theirs[0]}", MANAGED),
            # made by someone else for the agent in our VPC: no GuardDuty tag
            _endpoint(ec2, *ours, SERVICE, [{"Key": "owner", "Value": "network-team"}]),
            _group(ec2, ours[0], "GuardDutyManagedSecurityGroup-lookalike", []),
            # tagged, but another service, or the tag set to false
            _endpoint(ec2, *ours, f"com.amazonaws.{REGION}.logs", MANAGED),
            _endpoint(ec2, *ours, SERVICE, [{"Key": "GuardDutyManaged", "Value": "false"}]),
        },
    }
    return found


def live(ec2: Any) -> set[str]:
    endpoints = {
        e["VpcEndpointId"]
        for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
        if e["State"].lower() not in ("deleted", "deleting")
    }
    return endpoints | {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}


def properties(vpc_id: str) -> dict[str, Any]:
    return {"VpcId": vpc_id, "ServiceNames": [SERVICE, f"{SERVICE}-fips"]}


def test_stack_delete_removes_only_guardduty_endpoint_and_group_of_this_vpc(
    aws: dict[str, Any], responses: Responses
) -> None:
    with stack_status("DELETE_IN_PROGRESS"):
        handler_module.handler(event("Delete", properties(aws["vpc_id"]), "Resource-req-1"), None)

    assert responses.last["status"] == "SUCCESS"
    remaining = live(aws["ec2"])
    assert aws["delete"].isdisjoint(remaining)
    assert aws["keep"] <= remaining


@pytest.mark.parametrize("status", ["UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None])
def test_delete_outside_a_teardown_removes_nothing(
    aws: dict[str, Any], responses: Responses, status: str | None
) -> None:
    before = live(aws["ec2"])

    with stack_status(status):
        handler_module.handler(event("Delete", properties(aws["vpc_id"]), "Resource-req-1"), None)

    assert responses.last["status"] == "SUCCESS"
    assert live(aws["ec2"]) == before


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_remove_nothing(
    aws: dict[str, Any], responses: Responses, request_type: str
) -> None:
    before = live(aws["ec2"])

    handler_module.handler(event(request_type, properties(aws["vpc_id"]), "Resource-req-1"), None)

    assert responses.last["status"] == "SUCCESS"
    assert live(aws["ec2"]) == before


class BusyGroups:
    """EC2 that refuses a group delete with DependencyViolation `times` times, as while ENIs go away."""

    def __init__(self, ec2: Any, times: int) -> None:
        self._ec2, self.times = ec2, times

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ec2, name)

    def delete_security_group(self, **kwargs: Any) -> Any:
        if self.times:
            self.times -= 1
            raise ClientError(
                {"Error": {"Code": "DependencyViolation", "Message": "in use"}}, "DeleteSecurityGroup"
            )
        return self._ec2.delete_security_group(**kwargs)


def test_waits_for_the_endpoint_to_release_its_group(aws: dict[str, Any]) -> None:
    slept: list[float] = []
    ec2 = BusyGroups(aws["ec2"], times=2)

    report = handler_module.clean_up(ec2, vpc_id=aws["vpc_id"], service_names=[SERVICE], sleep=slept.append)

    assert report.left == {}
    assert set(report.deleted) == aws["delete"]
    assert slept == [handler_module.POLL_SECONDS] * 2


def test_fails_naming_what_is_left_when_time_runs_out(aws: dict[str, Any]) -> None:
    ec2 = BusyGroups(aws["ec2"], times=1000)

    report = handler_module.clean_up(
        ec2, vpc_id=aws["vpc_id"], service_names=[SERVICE], out_of_time=lambda: True, sleep=lambda _: None
    )

    (group,) = aws["delete"] - set(report.deleted)
    assert report.left == {group: "DependencyViolation"}
    assert group in report.summary()
