"""`make verify` for GuardDuty: the detector on, its container features as configured, agents' coverage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from ops.report import Result, failed, passed, skipped, warned
from ops.verify import DeployedStack, checks_for


def _statuses(features: list[dict[str, Any]]) -> dict[str, str]:
    """Feature names (`RUNTIME_MONITORING/EKS_ADDON_MANAGEMENT` for an additional one) to status."""
    found: dict[str, str] = {}
    for feature in features:
        found[feature["Name"]] = feature.get("Status", "")
        for extra in feature.get("AdditionalConfiguration", []):
            found[f"{feature['Name']}/{extra['Name']}"] = extra.get("Status", "")
    return found


@checks_for("GuardDuty")
def detector(stack: DeployedStack) -> Iterator[Result]:
    detector_id = stack.outputs.get("DetectorId", "")
    guardduty = stack.client("guardduty")
    found = guardduty.get_detector(DetectorId=detector_id)
    name = stack.name(f"detector {detector_id}")
    if found.get("Status") != "ENABLED":
        yield failed(name, f"status {found.get('Status')}", "redeploy GuardDuty")
        return
    actual = _statuses(found.get("Features", []))
    configured = getattr(stack.config, "guardduty", None)
    expected = _statuses(configured.features.to_api()) if configured is not None else {}
    # GetDetector may leave out an additional configuration that was never turned on: that is DISABLED.
    wrong = {
        key: (value, actual.get(key, "DISABLED"))
        for key, value in expected.items()
        if actual.get(key, "DISABLED") != value
    }
    on = ", ".join(sorted(key for key, value in actual.items() if value == "ENABLED")) or "no feature"
    if wrong:
        detail = "; ".join(f"{key} is {got}, configured {want}" for key, (want, got) in sorted(wrong.items()))
        yield failed(name, detail, "redeploy GuardDuty (a delegated administrator may have changed them)")
    else:
        yield passed(name, f"enabled: {on}")
    coverage: Counter[str] = Counter()
    for page in guardduty.get_paginator("list_coverage").paginate(DetectorId=detector_id):
        coverage.update(r.get("CoverageStatus", "UNKNOWN") for r in page["Resources"])
    name = stack.name("runtime monitoring coverage")
    if not coverage:
        yield skipped(name, "no EKS cluster or ECS task covered yet")
    elif coverage.get("UNHEALTHY"):
        yield warned(
            name,
            ", ".join(f"{count} {status.lower()}" for status, count in sorted(coverage.items())),
            "aws guardduty list-coverage --detector-id ... shows each issue (often the agent's VPC endpoint)",
        )
    else:
        yield passed(name, f"{coverage['HEALTHY']} resource(s) healthy")
