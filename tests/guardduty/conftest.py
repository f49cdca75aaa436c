"""Fixtures of the GuardDuty handler tests."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import cfn_response
import pytest

from tests.guardduty.aws import Responses


@pytest.fixture
def responses() -> Iterator[Responses]:
    """What the handler answers CloudFormation, captured instead of PUT."""
    captured = Responses()
    with mock.patch.object(cfn_response, "respond", captured):
        yield captured
