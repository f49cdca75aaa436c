"""The detector custom resource's handler against moto's GuardDuty: create, adopt, update, delete, refusal.

moto keeps a detector's `Features` as last sent (AWS merges them per feature); the handler sends
every managed feature in each call, so both behave the same for what is tested here. moto never
refuses UpdateDetector; the member-account refusal is answered by botocore's Stubber.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber

from constructs_lib.security import OTHER_PROTECTION_PLANS, GuardDutyFeatures
from constructs_lib.security.runtime import detector as handler_module
from tests.guardduty.aws import (
    OTHER_STACK_ID,
    REGION,
    STACK_ID,
    Responses,
    client_error,
    event,
    moto_client,
    stack_status,
)

WANTED = GuardDutyFeatures().to_api()
PROPERTIES = {"Features": WANTED, "DisabledOnCreate": list(OTHER_PROTECTION_PLANS), "ManageFeatures": "true"}
BEFORE = [
    {"Name": "EKS_AUDIT_LOGS", "Status": "DISABLED"},
    {
        "Name": "RUNTIME_MONITORING",
        "Status": "DISABLED",
        "AdditionalConfiguration": [
            {"Name": "EKS_ADDON_MANAGEMENT", "Status": "DISABLED"},
            {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "DISABLED"},
            {"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"},
        ],
    },
    {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
]


@pytest.fixture(scope="module")
def moto_guardduty() -> Iterator[Any]:
    # One moto session and client per module: building clients costs most of a test's time.
    with moto_client("guardduty", handler_module) as guardduty:
        yield guardduty


@pytest.fixture
def guardduty(moto_guardduty: Any) -> Any:
    for detector_id in moto_guardduty.list_detectors()["DetectorIds"]:
        moto_guardduty.delete_detector(DetectorId=detector_id)
    return moto_guardduty


def features_of(guardduty: Any, detector_id: str) -> dict[str, str]:
    detector = guardduty.get_detector(DetectorId=detector_id)
    return handler_module.feature_state(detector, [*WANTED, {"Name": "S3_DATA_EVENTS"}])


def existing_detector(guardduty: Any, tags: dict[str, str] | None = None) -> str:
    return str(guardduty.create_detector(Enable=True, Features=BEFORE, Tags=tags or {})["DetectorId"])


def test_creates_a_detector_with_the_features_when_there_is_none(
    guardduty: Any, responses: Responses
) -> None:
    handler_module.handler(event("Create", PROPERTIES), None)

    assert responses.last["status"] == "SUCCESS"
    (detector_id,) = guardduty.list_detectors()["DetectorIds"]
    assert responses.last["physical_id"] == f"guardduty-detector/{detector_id}/created"
    assert responses.last["data"] == {"DetectorId": detector_id, "Ownership": "created"}
    detector = guardduty.get_detector(DetectorId=detector_id)
    assert detector["Tags"] == {"CreatedByStack": STACK_ID}
    assert features_of(guardduty, detector_id) == {
        "DETECTOR": "ENABLED",
        "EKS_AUDIT_LOGS": "ENABLED",
        "RUNTIME_MONITORING": "ENABLED",
        "RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT": "ENABLED",
        "RUNTIME_MONITORING.ECS_FARGATE_AGENT_MANAGEMENT": "ENABLED",
        "RUNTIME_MONITORING.EC2_AGENT_MANAGEMENT": "DISABLED",
        "S3_DATA_EVENTS": "DISABLED",  # the other protection plans stay off on a detector we create
    }


def test_adopts_an_existing_detector_and_records_its_prior_state(
    guardduty: Any, responses: Responses
) -> None:
    detector_id = existing_detector(guardduty)

    handler_module.handler(event("Create", PROPERTIES), None)

    assert responses.last["status"] == "SUCCESS"
    assert guardduty.list_detectors()["DetectorIds"] == [detector_id]  # no second detector
    found_id, ownership, prior = handler_module.decode(responses.last["physical_id"])
    assert (found_id, ownership) == (detector_id, "adopted")
    assert prior == {
        "DETECTOR": "ENABLED",
        "EKS_AUDIT_LOGS": "DISABLED",
        "RUNTIME_MONITORING": "DISABLED",
        "RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT": "DISABLED",
        "RUNTIME_MONITORING.ECS_FARGATE_AGENT_MANAGEMENT": "DISABLED",
        "RUNTIME_MONITORING.EC2_AGENT_MANAGEMENT": "ENABLED",
    }
    assert len(responses.last["physical_id"]) < 1024  # CloudFormation's limit for a physical id
    assert features_of(guardduty, detector_id)["RUNTIME_MONITORING.ECS_FARGATE_AGENT_MANAGEMENT"] == "ENABLED"


def test_a_repeated_create_in_the_same_stack_still_owns_the_detector(
    guardduty: Any, responses: Responses
) -> None:
    handler_module.handler(event("Create", PROPERTIES), None)
    first = responses.last["physical_id"]

    handler_module.handler(event("Create", PROPERTIES), None)

    assert responses.last["status"] == "SUCCESS"
    assert responses.last["physical_id"] == first
    assert len(guardduty.list_detectors()["DetectorIds"]) == 1


def test_a_detector_created_by_another_stack_is_adopted_not_owned(
    guardduty: Any, responses: Responses
) -> None:
    existing_detector(guardduty, tags={"CreatedByStack": OTHER_STACK_ID})

    handler_module.handler(event("Create", PROPERTIES), None)

    assert handler_module.decode(responses.last["physical_id"])[1] == "adopted"


def test_update_sets_the_new_features_and_keeps_the_recorded_state(
    guardduty: Any, responses: Responses
) -> None:
    detector_id = existing_detector(guardduty)
    handler_module.handler(event("Create", PROPERTIES), None)
    physical_id = responses.last["physical_id"]
    changed = GuardDutyFeatures(ecs_fargate_agent_management=False).to_api()

    handler_module.handler(event("Update", {**PROPERTIES, "Features": changed}, physical_id), None)

    assert responses.last["status"] == "SUCCESS"
    assert responses.last["physical_id"] == physical_id  # a new id would make CloudFormation delete the old
    assert (
        features_of(guardduty, detector_id)["RUNTIME_MONITORING.ECS_FARGATE_AGENT_MANAGEMENT"] == "DISABLED"
    )


def test_stack_delete_deletes_a_detector_this_stack_created(guardduty: Any, responses: Responses) -> None:
    handler_module.handler(event("Create", PROPERTIES), None)
    physical_id = responses.last["physical_id"]

    with stack_status("DELETE_IN_PROGRESS"):
        handler_module.handler(event("Delete", PROPERTIES, physical_id), None)

    assert responses.last["status"] == "SUCCESS"
    assert guardduty.list_detectors()["DetectorIds"] == []


def test_stack_delete_puts_back_an_adopted_detector_and_keeps_it(
    guardduty: Any, responses: Responses
) -> None:
    detector_id = existing_detector(guardduty)
    before = features_of(guardduty, detector_id)
    handler_module.handler(event("Create", PROPERTIES), None)
    physical_id = responses.last["physical_id"]

    with stack_status("DELETE_IN_PROGRESS"):
        handler_module.handler(event("Delete", PROPERTIES, physical_id), None)

    assert responses.last["status"] == "SUCCESS"
    assert guardduty.list_detectors()["DetectorIds"] == [detector_id]
    restored = features_of(guardduty, detector_id)
    assert {key: restored[key] for key in before if key != "S3_DATA_EVENTS"} == {
        key: status for key, status in before.items() if key != "S3_DATA_EVENTS"
    }


def test_rollback_of_the_first_create_deletes_only_what_it_created(
    guardduty: Any, responses: Responses
) -> None:
    handler_module.handler(event("Create", PROPERTIES), None)
    physical_id = responses.last["physical_id"]

    with stack_status("ROLLBACK_IN_PROGRESS"):
        handler_module.handler(event("Delete", PROPERTIES, physical_id), None)

    assert guardduty.list_detectors()["DetectorIds"] == []


@pytest.mark.parametrize("status", ["UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None])
@pytest.mark.parametrize("adopt", [False, True], ids=["created", "adopted"])
def test_delete_outside_a_teardown_changes_nothing(
    guardduty: Any, responses: Responses, status: str | None, adopt: bool
) -> None:
    # An update that replaces the resource also sends Delete; None: the status cannot be read.
    if adopt:
        existing_detector(guardduty)
    handler_module.handler(event("Create", PROPERTIES), None)
    physical_id = responses.last["physical_id"]
    (detector_id,) = guardduty.list_detectors()["DetectorIds"]
    during_stack_life = features_of(guardduty, detector_id)

    with stack_status(status):
        handler_module.handler(event("Delete", PROPERTIES, physical_id), None)

    assert responses.last["status"] == "SUCCESS"
    assert guardduty.list_detectors()["DetectorIds"] == [detector_id]
    assert features_of(guardduty, detector_id) == during_stack_life


def test_a_detector_already_gone_is_not_an_error_on_delete(guardduty: Any, responses: Responses) -> None:
    handler_module.handler(event("Create", PROPERTIES), None)
    physical_id = responses.last["physical_id"]
    guardduty.delete_detector(DetectorId=guardduty.list_detectors()["DetectorIds"][0])

    with stack_status("DELETE_IN_PROGRESS"):
        handler_module.handler(event("Delete", PROPERTIES, physical_id), None)

    assert responses.last["status"] == "SUCCESS"


def test_with_features_unmanaged_the_detector_is_only_observed(guardduty: Any, responses: Responses) -> None:
    detector_id = existing_detector(guardduty)
    before = features_of(guardduty, detector_id)
    properties = {**PROPERTIES, "ManageFeatures": "false"}

    handler_module.handler(event("Create", properties), None)
    with stack_status("DELETE_IN_PROGRESS"):
        handler_module.handler(event("Delete", properties, responses.last["physical_id"]), None)

    assert [call["status"] for call in responses.calls] == ["SUCCESS", "SUCCESS"]
    assert responses.calls[0]["data"] == {"DetectorId": detector_id, "Ownership": "observed"}
    assert features_of(guardduty, detector_id) == before
    assert guardduty.list_detectors()["DetectorIds"] == [detector_id]


def test_fails_when_features_are_unmanaged_and_there_is_no_detector(
    guardduty: Any, responses: Responses
) -> None:
    handler_module.handler(event("Create", {**PROPERTIES, "ManageFeatures": "false"}), None)

    assert responses.last["status"] == "FAILED"
    assert "no GuardDuty detector" in responses.last["reason"]
    assert guardduty.list_detectors()["DetectorIds"] == []


def test_fails_clearly_in_a_member_account_that_may_not_change_features(responses: Responses) -> None:
    guardduty = boto3.client(
        "guardduty", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b"
    )
    with Stubber(guardduty) as stubber:
        stubber.add_response("list_detectors", {"DetectorIds": ["d-member"]})
        stubber.add_response(
            "get_detector",
            {"ServiceRole": "role", "Status": "ENABLED", "Features": BEFORE},
            {"DetectorId": "d-member"},
        )
        stubber.add_client_error(
            "update_detector",
            "BadRequestException",
            "The request is rejected because a member account cannot change the features.",
            http_status_code=400,
        )
        stubber.add_response(
            "get_administrator_account",
            {
                "Administrator": {
                    "AccountId": "111122223333",
                    "InvitationId": "i",
                    "RelationshipStatus": "Enabled",
                    "InvitedAt": "2026-01-01T00:00:00Z",
                }
            },
            {"DetectorId": "d-member"},
        )
        with mock.patch.object(handler_module, "client", return_value=guardduty):
            handler_module.handler(event("Create", PROPERTIES), None)
        stubber.assert_no_pending_responses()

    assert responses.last["status"] == "FAILED"
    assert responses.last["physical_id"] == "guardduty-detector/none"  # the rollback's Delete does nothing
    reason = responses.last["reason"]
    assert "administrator account 111122223333" in reason
    assert "guardduty.manage_features: false" in reason
    assert handler_module.decode(responses.last["physical_id"]) == ("", "none", {})


def test_state_round_trips_through_the_physical_id() -> None:
    prior = {
        "DETECTOR": "DISABLED",
        "EKS_AUDIT_LOGS": "ENABLED",
        "RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT": "DISABLED",
    }

    assert handler_module.decode(handler_module.encode("abc123", "adopted", prior)) == (
        "abc123",
        "adopted",
        prior,
    )
    assert handler_module.features_from_state(prior) == [
        {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"},
        {
            "Name": "RUNTIME_MONITORING",
            "AdditionalConfiguration": [{"Name": "EKS_ADDON_MANAGEMENT", "Status": "DISABLED"}],
        },
    ]


def test_creates_without_the_other_plans_where_the_region_does_not_offer_them() -> None:
    guardduty = mock.Mock()
    guardduty.create_detector.side_effect = [
        client_error(
            "BadRequestException", "The request is rejected because RDS_LOGIN_EVENTS is not available."
        ),
        {"DetectorId": "d-new"},
    ]

    assert handler_module.create(guardduty, event("Create", PROPERTIES)) == "d-new"
    first, second = (call.kwargs["Features"] for call in guardduty.create_detector.call_args_list)
    assert {"Name": "RDS_LOGIN_EVENTS", "Status": "DISABLED"} in first
    assert second == WANTED


def test_destroy_never_deletes_a_detector_another_stack_created(guardduty: Any, responses: Responses) -> None:
    theirs = existing_detector(guardduty, tags={"CreatedByStack": OTHER_STACK_ID})
    handler_module.handler(event("Create", PROPERTIES), None)

    for status in ("DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
        with stack_status(status):
            handler_module.handler(event("Delete", PROPERTIES, responses.calls[0]["physical_id"]), None)

    assert guardduty.list_detectors()["DetectorIds"] == [theirs]
