"""Shared test doubles for the GuardDuty handlers: CloudFormation's answers and the stack's status."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
import cfn_response
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

REGION = "ap-northeast-1"
STACK_ID = "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/GuardDuty/0b1c2d3e"
OTHER_STACK_ID = "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/GuardDuty/ffffffff"


@contextmanager
def moto_client(service: str, handler_module: Any) -> Iterator[Any]:
    """One moto session and `service` client for a whole test module, which the handler's own
    `client()` returns: building clients costs most of a test's time."""
    with mock.patch.dict("os.environ", {"AWS_DEFAULT_REGION": REGION}), mock_aws():
        found = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
        with mock.patch.object(handler_module, "client", return_value=found):
            yield found


def event(request: str, properties: dict[str, Any], physical_id: str | None = None) -> dict[str, Any]:
    found = {
        "RequestType": request,
        "StackId": STACK_ID,
        "RequestId": "req-1",
        "LogicalResourceId": "Resource",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/put",
        "ResourceProperties": properties,
    }
    if physical_id is not None:
        found["PhysicalResourceId"] = physical_id
    return found


class Responses:
    """What the handler answered CloudFormation, captured instead of PUT."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any, status: str, **kwargs: Any) -> None:
        self.calls.append({"status": status, **kwargs})

    @property
    def last(self) -> dict[str, Any]:
        return self.calls[-1]


@functools.cache
def _cloudformation() -> Any:
    return boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@contextmanager
def stack_status(status: str | None) -> Iterator[Stubber]:
    """Make DescribeStacks answer `status` (None: AccessDenied), through a real, validating client.

    moto's CloudFormation finishes a stack delete at once, so it never shows DELETE_IN_PROGRESS;
    botocore's Stubber answers DescribeStacks instead, checked against the service model.
    """
    cloudformation = _cloudformation()
    real_client = boto3.client
    with Stubber(cloudformation) as stubber:
        if status is None:
            stubber.add_client_error("describe_stacks", "AccessDenied", http_status_code=403)
        else:
            stubber.add_response(
                "describe_stacks",
                {
                    "Stacks": [
                        {
                            "StackName": "GuardDuty",
                            "StackId": STACK_ID,
                            "CreationTime": datetime.datetime(2026, 11, 30),
                            "StackStatus": status,
                        }
                    ]
                },
                {"StackName": STACK_ID},
            )

        def client(service: str, *args: Any, **kwargs: Any) -> Any:
            return cloudformation if service == "cloudformation" else real_client(service, *args, **kwargs)  # type: ignore[call-overload]

        with mock.patch.object(cfn_response.boto3, "client", side_effect=client):
            yield stubber


def client_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "UpdateDetector")
