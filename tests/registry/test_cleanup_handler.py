"""The teardown handler against moto's ECR, with CloudFormation's DescribeStacks stubbed.

moto's CloudFormation finishes a stack delete at once, so it never shows DELETE_IN_PROGRESS:
botocore's Stubber answers DescribeStacks instead, through a real client that validates the
request and the response against the service model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import cfn_response
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from constructs_lib.ecr.runtime import delete_repositories as handler_module
from tests.helpers import LambdaContext, answer_stack_status, cloudformation_event

REGION = "ap-northeast-1"
REPLICA_REGION = "ap-northeast-3"
STACK_ID = "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/Registry/0b1c2d3e"
CACHED = ["quay/prometheus/node-exporter", "quay/argoproj/argocd", "k8s/pause"]
UNRELATED = ["quayside/app", "app/web"]


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        ecr = boto3.client("ecr", region_name=REGION)
        for name in [*CACHED, *UNRELATED]:
            ecr.create_repository(repositoryName=name)
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}
        ecr.put_image(
            repositoryName="quay/argoproj/argocd", imageManifest=json.dumps(manifest), imageTag="v1"
        )
        replica_ecr = boto3.client("ecr", region_name=REPLICA_REGION)
        replica_ecr.create_repository(repositoryName="app/web")
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        with Stubber(cloudformation) as stubber:
            clients = {("ecr", REGION): ecr, ("ecr", REPLICA_REGION): replica_ecr}
            clients[("cloudformation", REGION)] = cloudformation
            with mock.patch.object(handler_module, "client", side_effect=lambda s, r: clients[(s, r)]):
                yield {"ecr": ecr, "replica_ecr": replica_ecr, "stubber": stubber}


def names(client: Any) -> set[str]:
    return {r["repositoryName"] for r in client.describe_repositories()["repositories"]}


def stack_status(stubber: Stubber, status: str) -> None:
    answer_stack_status(stubber, STACK_ID, status)


def event(request_type: str) -> dict[str, Any]:
    targets = [
        {"Region": REGION, "Prefix": "k8s/"},
        {"Region": REGION, "Prefix": "quay/"},
        {"Region": REPLICA_REGION, "Prefix": "app/"},
    ]
    return cloudformation_event(
        request_type,
        stack_id=STACK_ID,
        logical_id="CreatedRepositoryCleanup",
        properties={"Targets": targets},
        PhysicalResourceId="CreatedRepositoryCleanup",
    )


def run(request: dict[str, Any], context: Any = None) -> tuple[str, str]:
    """The handler's answer to CloudFormation: (status, reason)."""
    with mock.patch.object(cfn_response, "respond") as respond:
        handler_module.handler(request, context or LambdaContext())
    assert respond.call_count == 1
    _, _, status = respond.call_args.args
    return status, respond.call_args.kwargs["reason"]


def refuse(names_refused: set[str], client: Any) -> Any:
    """Make `client.delete_repository` fail like ECR without kms:RetireGrant, for some names."""
    original = client.delete_repository

    def delete_repository(**kwargs: Any) -> Any:
        if kwargs["repositoryName"] in names_refused:
            raise ClientError(
                {"Error": {"Code": "KmsException", "Message": "kms:RetireGrant denied"}}, "DeleteRepository"
            )
        return original(**kwargs)

    return mock.patch.object(client, "delete_repository", side_effect=delete_repository)


# --- deleting under a prefix ------------------------------------------------------------------


def test_deletes_repositories_under_the_prefix_with_their_images(aws: dict[str, Any]) -> None:
    outcome = handler_module.delete_repositories(REGION, "quay/", ecr=aws["ecr"])
    assert sorted(outcome.deleted) == [
        f"{REGION}:quay/argoproj/argocd",
        f"{REGION}:quay/prometheus/node-exporter",
    ]
    assert outcome.left == {}
    # `quayside/app` shares the characters but not the prefix `quay/`.
    assert names(aws["ecr"]) == {"quayside/app", "app/web", "k8s/pause"}


def test_a_prefix_without_a_slash_matches_as_replication_does(aws: dict[str, Any]) -> None:
    # A replication filter `quay` replicates `quay/...` and `quayside/...` alike: both are cleaned.
    outcome = handler_module.delete_repositories(REGION, "quay", ecr=aws["ecr"])
    assert sorted(outcome.deleted) == [
        f"{REGION}:quay/argoproj/argocd",
        f"{REGION}:quay/prometheus/node-exporter",
        f"{REGION}:quayside/app",
    ]
    assert names(aws["ecr"]) == {"app/web", "k8s/pause"}


def test_fails_when_a_prefix_would_match_every_repository(aws: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^prefix must have at least 2 characters, got ''$"):
        handler_module.delete_repositories(REGION, "", ecr=aws["ecr"])
    assert names(aws["ecr"]) == {*CACHED, *UNRELATED}


def test_a_refused_deletion_does_not_stop_the_other_repositories(aws: dict[str, Any]) -> None:
    with refuse({"quay/argoproj/argocd"}, aws["ecr"]):
        outcome = handler_module.delete_repositories(REGION, "quay/", ecr=aws["ecr"])
    assert outcome.deleted == [f"{REGION}:quay/prometheus/node-exporter"]
    assert outcome.left == {f"{REGION}:quay/argoproj/argocd": "KmsException"}


def test_a_repository_already_gone_counts_as_deleted(aws: dict[str, Any]) -> None:
    gone = aws["ecr"].exceptions.RepositoryNotFoundException(
        {"Error": {"Code": "RepositoryNotFoundException", "Message": "gone"}}, "DeleteRepository"
    )
    with mock.patch.object(aws["ecr"], "delete_repository", side_effect=gone):
        outcome = handler_module.delete_repositories(REGION, "k8s/", ecr=aws["ecr"])
    assert (outcome.deleted, outcome.left) == ([f"{REGION}:k8s/pause"], {})


# --- the custom resource events ---------------------------------------------------------------


# ROLLBACK_IN_PROGRESS: a first deploy failed after the cache rules were created (the cleanup
# depends on them, so it exists only if they do, and the repositories under them are ours).
@pytest.mark.parametrize("torn_down", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_stack_delete_cleans_every_target_in_both_regions_and_succeeds(
    aws: dict[str, Any], torn_down: str
) -> None:
    stack_status(aws["stubber"], torn_down)
    status, reason = run(event("Delete"))
    assert (status, reason) == ("SUCCESS", "deleted 4 repositories")
    assert names(aws["ecr"]) == set(UNRELATED)
    assert names(aws["replica_ecr"]) == set()
    aws["stubber"].assert_no_pending_responses()


@pytest.mark.parametrize(
    "status",
    [
        # The resource was replaced or removed by an update (renamed, removal policy changed).
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        # The update that created a replacement is rolled back, and the replacement deleted.
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ],
)
def test_delete_outside_a_stack_delete_keeps_every_repository(aws: dict[str, Any], status: str) -> None:
    stack_status(aws["stubber"], status)
    assert run(event("Delete")) == (
        "SUCCESS",
        "stack is not being deleted or rolled back: no repository deleted",
    )
    assert names(aws["ecr"]) == {*CACHED, *UNRELATED}
    assert names(aws["replica_ecr"]) == {"app/web"}


def test_create_and_update_touch_nothing_and_do_not_ask_cloudformation(aws: dict[str, Any]) -> None:
    assert run(event("Create")) == ("SUCCESS", "")
    assert run(event("Update")) == ("SUCCESS", "")
    assert names(aws["ecr"]) == {*CACHED, *UNRELATED}
    aws["stubber"].assert_no_pending_responses()  # no DescribeStacks was expected, none was made


def test_a_refused_deletion_fails_the_delete_naming_what_is_left_after_trying_everything(
    aws: dict[str, Any],
) -> None:
    stack_status(aws["stubber"], "DELETE_IN_PROGRESS")
    with refuse({"k8s/pause"}, aws["ecr"]), refuse({"app/web"}, aws["replica_ecr"]):
        status, reason = run(event("Delete"))
    assert status == "FAILED"
    assert reason == (
        "deleted 2 repositories, 2 left (log stream 2026/11/30/[$LATEST]abc): "
        f"{REGION}:k8s/pause (KmsException), {REPLICA_REGION}:app/web (KmsException)"
    )
    # The later targets were still cleaned.
    assert names(aws["ecr"]) == {"k8s/pause", *UNRELATED}


def test_a_target_whose_listing_fails_is_named_and_the_others_are_still_cleaned(aws: dict[str, Any]) -> None:
    stack_status(aws["stubber"], "DELETE_IN_PROGRESS")
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeRepositories"
    )
    with mock.patch.object(aws["replica_ecr"], "get_paginator", side_effect=denied):
        status, reason = run(event("Delete"))
    assert status == "FAILED"
    assert reason.endswith(f"{REPLICA_REGION}:app/* (listing failed: AccessDeniedException)")
    assert names(aws["ecr"]) == set(UNRELATED)


def test_when_time_runs_out_the_rest_is_named_not_attempted(aws: dict[str, Any]) -> None:
    stack_status(aws["stubber"], "DELETE_IN_PROGRESS")
    status, reason = run(event("Delete"), LambdaContext(remaining_ms=10_000))
    assert status == "FAILED"
    assert "deleted 0 repositories, 4 left" in reason
    assert f"{REGION}:k8s/pause (not attempted: out of time)" in reason
    assert names(aws["ecr"]) == {*CACHED, *UNRELATED}


def test_an_unreadable_stack_status_deletes_nothing(aws: dict[str, Any]) -> None:
    aws["stubber"].add_client_error("describe_stacks", "AccessDenied", "not authorized", 403)
    status, reason = run(event("Delete"))
    assert (status, reason) == ("SUCCESS", "stack is not being deleted or rolled back: no repository deleted")
    assert names(aws["ecr"]) == {*CACHED, *UNRELATED}


def test_an_unexpected_error_still_answers_cloudformation(aws: dict[str, Any]) -> None:
    with mock.patch.object(handler_module, "on_delete", side_effect=KeyError("Targets")):
        assert run(event("Delete")) == ("FAILED", "cleanup failed: 'Targets'")


def _put(status: str, reason: str) -> dict[str, Any]:
    with mock.patch.object(cfn_response.urllib.request, "urlopen") as urlopen:
        urlopen.return_value.__enter__.return_value.status = 200
        cfn_response.respond(event("Delete"), LambdaContext(), status, reason=reason)
    request = urlopen.call_args.args[0]
    assert request.get_method() == "PUT"
    return dict(json.loads(request.data))


def test_the_reason_is_cut_to_fit_cloudformation() -> None:
    assert len(_put("FAILED", "x" * 5000)["Reason"]) == cfn_response.MAX_REASON


def test_response_is_a_put_with_the_cloudformation_fields() -> None:
    assert _put("FAILED", "1 left") == {
        "Status": "FAILED",
        "Reason": "1 left",
        "PhysicalResourceId": "CreatedRepositoryCleanup",
        "StackId": STACK_ID,
        "RequestId": "r1",
        "LogicalResourceId": "CreatedRepositoryCleanup",
        "NoEcho": False,
        "Data": {},
    }


def test_the_response_put_is_retried() -> None:
    with (
        mock.patch.object(cfn_response.urllib.request, "urlopen") as urlopen,
        mock.patch.object(cfn_response.time, "sleep") as sleep,
    ):
        urlopen.side_effect = [OSError("connection reset"), mock.MagicMock()]
        cfn_response.respond(event("Delete"), LambdaContext(), "SUCCESS", reason="done")
    assert urlopen.call_count == 2
    sleep.assert_called_once()


def test_create_gets_a_physical_id_of_its_own_and_delete_keeps_the_known_one() -> None:
    created = {**event("Create"), "RequestId": "r9"}
    del created["PhysicalResourceId"]
    assert cfn_response.default_physical_id(created) == "CreatedRepositoryCleanup-r9"
    assert cfn_response.default_physical_id(event("Delete")) == "CreatedRepositoryCleanup"
