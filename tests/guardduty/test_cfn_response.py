"""The unit's CloudFormation protocol module: physical ids, reason length, retried PUT, the teardown guard."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import cfn_response
import pytest

from tests.guardduty.aws import event, stack_status


class Response:
    status = 200

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *args: Any) -> None:
        return None


def sent(urlopen: mock.Mock) -> dict[str, Any]:
    request = urlopen.call_args.args[0]
    assert request.get_method() == "PUT"
    return dict(json.loads(request.data))


def test_create_gets_a_physical_id_from_the_request_and_the_reason_is_cut() -> None:
    with mock.patch.object(cfn_response.urllib.request, "urlopen", return_value=Response()) as urlopen:
        cfn_response.respond(event("Create", {}), None, "FAILED", reason="x" * 5000)

    body = sent(urlopen)
    assert body["PhysicalResourceId"] == "Resource-req-1"
    assert len(body["Reason"]) == cfn_response.MAX_REASON


def test_update_keeps_the_physical_id_unless_the_handler_gives_one() -> None:
    with mock.patch.object(cfn_response.urllib.request, "urlopen", return_value=Response()) as urlopen:
        cfn_response.respond(event("Update", {}, "old-id"), None, "SUCCESS")
        assert sent(urlopen)["PhysicalResourceId"] == "old-id"
        cfn_response.respond(
            event("Update", {}, "old-id"), None, "SUCCESS", physical_id="new-id", data={"A": "b"}
        )
        assert sent(urlopen)["PhysicalResourceId"] == "new-id"
        assert sent(urlopen)["Data"] == {"A": "b"}


def test_the_put_is_retried_then_gives_up() -> None:
    slept: list[float] = []
    failing = mock.Mock(side_effect=[OSError("reset"), Response()])
    with mock.patch.object(cfn_response.urllib.request, "urlopen", failing):
        cfn_response.respond(event("Create", {}), None, "SUCCESS", sleep=slept.append)
    assert failing.call_count == 2 and slept == [2.0]

    always = mock.Mock(side_effect=OSError("reset"))
    with mock.patch.object(cfn_response.urllib.request, "urlopen", always), pytest.raises(OSError):
        cfn_response.respond(event("Create", {}), None, "SUCCESS", sleep=slept.append)
    assert always.call_count == cfn_response.PUT_TRIES


@pytest.mark.parametrize(
    ("status", "torn_down"),
    [
        ("DELETE_IN_PROGRESS", True),
        ("ROLLBACK_IN_PROGRESS", True),
        ("UPDATE_COMPLETE", False),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", False),
        ("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", False),
        (None, False),  # unreadable: never delete on a guess
    ],
)
def test_only_a_delete_or_rollback_counts_as_teardown(status: str | None, torn_down: bool) -> None:
    with stack_status(status):
        assert cfn_response.stack_is_being_torn_down(event("Delete", {}, "id")) is torn_down


def test_out_of_time_keeps_a_margin() -> None:
    context = mock.Mock(get_remaining_time_in_millis=mock.Mock(return_value=29_000))
    assert cfn_response.out_of_time(context)
    assert not cfn_response.out_of_time(context, margin_ms=10_000)
    assert not cfn_response.out_of_time(None)
