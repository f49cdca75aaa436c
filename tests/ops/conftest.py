"""Fixtures of the journey tests: an account made of moto's services and botocore Stubbers.

moto serves what it implements faithfully (IAM, EC2, SQS, EventBridge, Organizations, Inspector,
GuardDuty, ECR's registry scanning and replication, the Tagging API); a Stubber answers the calls
moto lacks or cannot reach here: CloudFormation (moto's needs a package the project does not
install), Service Quotas for Fargate, EKS DescribeClusterVersions, the public SSM parameters,
ECR pull-through cache rules and creation templates, App Runner, ECS tasks and EKS clusters with
their IP family. A Stubber validates every request and response against botocore's service model.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ops.assembly import StackInfo
from ops.aws import Account

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
REPLICA_REGION = "ap-northeast-3"
NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)


_SESSIONS: list[boto3.session.Session] = []


def _session() -> boto3.session.Session:
    """One session for the module's tests: its loader keeps the service models it has read, which
    makes a client cheap (a fresh default session per test reads them from disk again)."""
    if not _SESSIONS:
        _SESSIONS.append(boto3.session.Session(region_name=REGION))
    return _SESSIONS[0]


def aws_client(service: str, region: str = REGION) -> Any:
    """A client from the shared session (moto answers it inside the `fake_aws` fixture)."""
    return _session().client(service, region_name=region)  # type: ignore[call-overload]


@dataclass
class FakeAws:
    """moto for every service, except those given a Stubber with `stub(service, region)`."""

    stubbers: dict[tuple[str, str], Stubber] = field(default_factory=dict)

    def stub(self, service: str, region: str = REGION) -> Stubber:
        key = (service, region)
        if key not in self.stubbers:
            stubber = Stubber(_session().client(service, region_name=region))  # type: ignore[call-overload]
            stubber.activate()
            self.stubbers[key] = stubber
        return self.stubbers[key]

    def client(self, service: str, region: str = REGION) -> Any:
        if (service, region) in self.stubbers:
            return self.stubbers[(service, region)].client
        return _session().client(service, region_name=region)  # type: ignore[call-overload]

    def account(self) -> Account:
        return Account(account_id=ACCOUNT, region=REGION, factory=self.client)

    def answer_stack(
        self,
        name: str,
        status: str = "CREATE_COMPLETE",
        outputs: dict[str, str] | None = None,
        region: str = REGION,
    ) -> None:
        """Queue the answer to DescribeStacks for stack `name` in `region`: it exists, in `status`."""
        self.stub("cloudformation", region).add_response(
            "describe_stacks", described_stack(name, status, outputs), {"StackName": name}
        )

    def answer_no_stack(self, name: str, region: str = REGION) -> None:
        """Queue the answer to DescribeStacks for stack `name` in `region`: it does not exist."""
        self.stub("cloudformation", region).add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message=f"Stack with id {name} does not exist",
            expected_params={"StackName": name},
        )

    def assert_all_answered(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        fake = FakeAws()
        yield fake
        for stubber in fake.stubbers.values():
            stubber.deactivate()


def stack_info(stack_id: str, region: str = REGION, dependencies: tuple[str, ...] = ()) -> StackInfo:
    return StackInfo(
        id=stack_id,
        stack_name=f"{stack_id}",
        region=region,
        account=None,
        dependencies=dependencies,
        template_file=Path(f"{stack_id}.template.json"),
        tags={},
    )


def described_stack(
    name: str, status: str = "CREATE_COMPLETE", outputs: dict[str, str] | None = None
) -> dict:
    return {
        "Stacks": [
            {
                "StackName": name,
                "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/guid",
                "CreationTime": NOW,
                "StackStatus": status,
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
            }
        ]
    }
