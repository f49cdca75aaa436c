"""The teardown handler against moto's ECR: it deletes what ECR created under the prefixes only."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from constructs_lib.ecr.runtime import delete_repositories as handler_module

REGION = "ap-northeast-1"


@pytest.fixture
def ecr() -> Any:
    with mock_aws():
        client = boto3.client("ecr", region_name=REGION)
        for name in [
            "quay/prometheus/node-exporter",
            "quay/argoproj/argocd",
            "quayside/app",
            "app/web",
            "k8s/pause",
        ]:
            client.create_repository(repositoryName=name)
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}
        client.put_image(
            repositoryName="quay/argoproj/argocd", imageManifest=json.dumps(manifest), imageTag="v1"
        )
        yield client


def names(client: Any) -> set[str]:
    return {r["repositoryName"] for r in client.describe_repositories()["repositories"]}


def test_deletes_repositories_under_the_prefix_with_their_images(ecr: Any) -> None:
    deleted = handler_module.delete_repositories(REGION, "quay", client=ecr)
    assert sorted(deleted) == ["quay/argoproj/argocd", "quay/prometheus/node-exporter"]
    # `quayside/app` shares the characters but not the prefix `quay/`.
    assert names(ecr) == {"quayside/app", "app/web", "k8s/pause"}


def event(request_type: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/x",
        "StackId": "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/Registry/1",
        "RequestId": "r1",
        "LogicalResourceId": "CreatedRepositoryCleanup",
        "ResourceProperties": {
            "Targets": [{"Region": REGION, "Prefix": "k8s"}, {"Region": REGION, "Prefix": "quay"}]
        },
    }


def test_delete_event_cleans_every_target_and_reports_success(ecr: Any) -> None:
    with mock.patch.object(handler_module, "respond") as respond:
        handler_module.handler(event("Delete"), None)
    assert names(ecr) == {"quayside/app", "app/web"}
    assert respond.call_args.args[2] == "deleted 3 repositories"


def test_create_and_update_touch_nothing(ecr: Any) -> None:
    with mock.patch.object(handler_module, "respond") as respond:
        handler_module.handler(event("Create"), None)
        handler_module.handler(event("Update"), None)
    assert len(names(ecr)) == 5
    assert respond.call_count == 2


def test_a_failure_is_reported_as_success_so_teardown_never_wedges(ecr: Any) -> None:
    with (
        mock.patch.object(handler_module, "delete_repositories", side_effect=RuntimeError("AccessDenied")),
        mock.patch.object(handler_module, "respond") as respond,
    ):
        handler_module.handler(event("Delete"), None)
    assert respond.call_args.args[2] == "cleanup failed: AccessDenied"


def test_response_is_a_put_with_the_cloudformation_fields() -> None:
    with mock.patch("urllib.request.urlopen") as urlopen:
        urlopen.return_value.__enter__.return_value.status = 200
        handler_module.respond(event("Delete"), None, "deleted 0 repositories")
    request = urlopen.call_args.args[0]
    assert request.get_method() == "PUT"
    assert json.loads(request.data) == {
        "Status": "SUCCESS",
        "Reason": "deleted 0 repositories",
        "PhysicalResourceId": "CreatedRepositoryCleanup",
        "StackId": "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/Registry/1",
        "RequestId": "r1",
        "LogicalResourceId": "CreatedRepositoryCleanup",
    }
