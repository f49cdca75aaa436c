"""Custom resource handler: the region's one GuardDuty detector, created or adopted, container features on.

An account has at most one detector per region, and creating a second fails
(https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateDetector.html), so the
handler never assumes it starts from nothing:

- Create lists the detectors. None: it creates one with the requested features, tagged with the
  stack's id, and records `created`. One: it adopts it, reads its current state of the features
  this resource manages (GetDetector), records that state, then sets the requested features
  (UpdateDetector). A detector tagged with this stack's own id (a replacement of this resource,
  or a Create repeated after a failed rollback) is still `created`.
- Update sets the requested features again on the recorded detector.
- Delete acts only while the stack is DELETE_IN_PROGRESS or ROLLBACK_IN_PROGRESS (CloudFormation
  also sends Delete when an update replaces this resource, and then GuardDuty must stay on): a
  `created` detector is deleted; an `adopted` one gets back the feature state it had before;
  nothing else is touched. A detector this resource did not create is never deleted.

Where the prior state lives: in the physical id, `guardduty-detector/<id>/<ownership>[/<state>]`.
CloudFormation hands back only the physical id and the properties on Update and Delete; the id
is written once, by CloudFormation itself, and needs no extra resource (an SSM parameter would
be one more thing to create, protect and delete) and no write to a detector that is not ours
(a tag on an adopted detector would change someone else's resource). The state of five features
fits in well under CloudFormation's 1 KB limit for physical ids.

With `ManageFeatures` off the handler changes nothing: it finds the detector, reports its id and
records `observed` (for a member account whose features the Organization's delegated
administrator manages). When UpdateDetector is refused (AccessDenied or BadRequest, as in such a
member account) the answer is FAILED with a reason that names the administrator account and
what to do; the refused call changed nothing, so no deploy is left half done.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import boto3
import cfn_response
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

PREFIX = "guardduty-detector"
# Marks a detector this resource created; its value is the stack's id (ARN).
OWNER_TAG = "CreatedByStack"
REFUSED = {"AccessDeniedException", "BadRequestException"}


def client(service: Literal["guardduty"]) -> Any:
    return boto3.client(service)


def handler(event: dict[str, Any], context: Any) -> None:
    request = event["RequestType"]
    try:
        if request == "Create":
            physical_id, data, reason = on_create(event)
        elif request == "Update":
            physical_id, data, reason = on_update(event)
        else:
            physical_id, data, reason = on_delete(event)
    except Refused as refused:
        cfn_response.respond(event, context, "FAILED", reason=str(refused), physical_id=_failed_id(event))
        return
    except Exception as error:
        logger.exception("%s failed", request)
        cfn_response.respond(
            event,
            context,
            "FAILED",
            reason=f"{request} failed: {_describe(error)}",
            physical_id=_failed_id(event),
        )
        return
    cfn_response.respond(event, context, "SUCCESS", reason=reason, data=data, physical_id=physical_id)


class Refused(Exception):
    """GuardDuty refused to change the detector; the message says what to do."""


def _failed_id(event: dict[str, Any]) -> str:
    # A failed Create reports an id that records nothing, so the rollback's Delete touches nothing.
    return str(event.get("PhysicalResourceId") or f"{PREFIX}/none")


def _wanted(event: dict[str, Any]) -> list[dict[str, Any]]:
    return list(event["ResourceProperties"]["Features"])


def _manage(event: dict[str, Any]) -> bool:
    return str(event["ResourceProperties"].get("ManageFeatures", "true")).lower() == "true"


# --- the recorded state -----------------------------------------------------------------------


def encode(detector_id: str, ownership: str, prior: Mapping[str, str] | None = None) -> str:
    """The physical id: `guardduty-detector/<id>/<ownership>[/<KEY=STATUS;...>]`."""
    parts = [PREFIX, detector_id, ownership]
    if prior is not None:
        parts.append(";".join(f"{key}={status}" for key, status in sorted(prior.items())))
    return "/".join(parts)


def decode(physical_id: str) -> tuple[str, str, dict[str, str]]:
    """(detector id, ownership, prior state) from a physical id; ('', 'none', {}) when it is not one."""
    parts = physical_id.split("/")
    if len(parts) < 3 or parts[0] != PREFIX:
        return "", "none", {}
    prior = dict(item.split("=", 1) for item in parts[3].split(";") if item) if len(parts) > 3 else {}
    return parts[1], parts[2], prior


def feature_state(detector: Mapping[str, Any], managed: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The current status of each managed feature and additional configuration that the detector reports.

    Keys are `NAME` and `NAME.ADDITIONAL`; `DETECTOR` is the detector's own status (a suspended
    detector is enabled by the adopt and suspended again by the restore). A feature the detector
    does not report (not offered in the region) is left out and so never restored.
    """
    state = {"DETECTOR": str(detector.get("Status", "ENABLED"))}
    reported = {feature["Name"]: feature for feature in detector.get("Features", [])}
    for wanted in managed:
        feature = reported.get(wanted["Name"])
        if feature is None:
            continue
        state[feature["Name"]] = feature["Status"]
        extras = {extra["Name"]: extra["Status"] for extra in feature.get("AdditionalConfiguration", [])}
        for extra in wanted.get("AdditionalConfiguration", []):
            if extra["Name"] in extras:
                state[f"{feature['Name']}.{extra['Name']}"] = extras[extra["Name"]]
    return state


def features_from_state(state: Mapping[str, str]) -> list[dict[str, Any]]:
    """UpdateDetector `Features` that put back `state` (see `feature_state`)."""
    features: dict[str, dict[str, Any]] = {}
    for key, status in state.items():
        if key == "DETECTOR":
            continue
        name, _, extra = key.partition(".")
        feature = features.setdefault(name, {"Name": name})
        if extra:
            feature.setdefault("AdditionalConfiguration", []).append({"Name": extra, "Status": status})
        else:
            feature["Status"] = status
    return [features[name] for name in sorted(features)]


# --- requests ---------------------------------------------------------------------------------


def on_create(event: dict[str, Any]) -> tuple[str, dict[str, str], str]:
    guardduty = client("guardduty")
    detectors = guardduty.list_detectors()["DetectorIds"]
    if not detectors:
        if not _manage(event):
            raise Refused(
                "no GuardDuty detector in this account and region, and ManageFeatures is off: enable "
                "GuardDuty (or let the Organization's administrator do so) first, or turn ManageFeatures on"
            )
        detector_id = create(guardduty, event)
        logger.info("created detector %s", detector_id)
        return (
            _result(detector_id, "created"),
            _data(detector_id, "created"),
            f"created detector {detector_id}",
        )

    detector_id = detectors[0]
    detector = guardduty.get_detector(DetectorId=detector_id)
    if detector.get("Tags", {}).get(OWNER_TAG) == event["StackId"]:
        apply(guardduty, detector_id, _wanted(event))
        return (
            _result(detector_id, "created"),
            _data(detector_id, "created"),
            f"detector {detector_id} was created by this stack: features set",
        )
    if not _manage(event):
        return (
            _result(detector_id, "observed"),
            _data(detector_id, "observed"),
            f"found detector {detector_id}; features left as they are (ManageFeatures off)",
        )
    prior = feature_state(detector, _wanted(event))
    logger.info("adopting detector %s; state before: %s", detector_id, prior)
    apply(guardduty, detector_id, _wanted(event))
    return (
        encode(detector_id, "adopted", prior),
        _data(detector_id, "adopted"),
        f"adopted detector {detector_id}: features set; the delete puts back {prior}",
    )


def create(guardduty: Any, event: dict[str, Any]) -> str:
    """CreateDetector with the wanted features and the other protection plans off.

    A plan the region does not offer makes CreateDetector fail with BadRequest; then the detector
    is created with the wanted features alone (the region cannot run the others anyway).
    """
    off = [
        {"Name": name, "Status": "DISABLED"}
        for name in event["ResourceProperties"].get("DisabledOnCreate", [])
    ]
    tags = {OWNER_TAG: event["StackId"]}
    try:
        return str(
            guardduty.create_detector(Enable=True, Features=_wanted(event) + off, Tags=tags)["DetectorId"]
        )
    except ClientError as error:
        if not off or _code(error) != "BadRequestException":
            raise
        logger.warning("CreateDetector refused the other plans (%s); creating without them", _describe(error))
    return str(guardduty.create_detector(Enable=True, Features=_wanted(event), Tags=tags)["DetectorId"])


def on_update(event: dict[str, Any]) -> tuple[str, dict[str, str], str]:
    detector_id, ownership, _ = decode(event["PhysicalResourceId"])
    if ownership in ("none", "observed") and _manage(event):
        # Nothing was recorded before (a failed create, or features were not ours to manage):
        # adopt now; CloudFormation's Delete of the old id then does nothing.
        return on_create(event)
    if ownership in ("none", "observed") or not _manage(event):
        return event["PhysicalResourceId"], _data(detector_id, ownership), "features left as they are"
    guardduty = client("guardduty")
    apply(guardduty, detector_id, _wanted(event))
    return (
        event["PhysicalResourceId"],
        _data(detector_id, ownership),
        f"features set on detector {detector_id}",
    )


def on_delete(event: dict[str, Any]) -> tuple[str, dict[str, str], str]:
    detector_id, ownership, prior = decode(event["PhysicalResourceId"])
    physical_id = event["PhysicalResourceId"]
    if ownership not in ("created", "adopted"):
        return physical_id, {}, f"nothing to undo for {physical_id}"
    if not cfn_response.stack_is_being_torn_down(event):
        return physical_id, {}, f"stack is not being deleted: detector {detector_id} left as it is"
    guardduty = client("guardduty")
    if detector_id not in guardduty.list_detectors()["DetectorIds"]:
        return physical_id, {}, f"detector {detector_id} is already gone"
    if ownership == "created":
        guardduty.delete_detector(DetectorId=detector_id)
        logger.info("deleted detector %s", detector_id)
        return physical_id, {}, f"deleted detector {detector_id}, which this stack created"
    apply(
        guardduty,
        detector_id,
        features_from_state(prior),
        enable=prior.get("DETECTOR", "ENABLED") == "ENABLED",
    )
    logger.info("restored detector %s to %s", detector_id, prior)
    return physical_id, {}, f"put back the features detector {detector_id} had before: {prior}"


def apply(guardduty: Any, detector_id: str, features: list[dict[str, Any]], *, enable: bool = True) -> None:
    """UpdateDetector in one call: all features change, or (refused) none does."""
    try:
        guardduty.update_detector(DetectorId=detector_id, Enable=enable, Features=features)
    except ClientError as error:
        if _code(error) not in REFUSED:
            raise
        raise Refused(_refusal(guardduty, detector_id, error)) from error


def _refusal(guardduty: Any, detector_id: str, error: ClientError) -> str:
    administrator = ""
    try:
        found = guardduty.get_administrator_account(DetectorId=detector_id).get("Administrator") or {}
        administrator = str(found.get("AccountId") or "")
    except (ClientError, BotoCoreError):
        logger.exception("could not read the administrator account of detector %s", detector_id)
    where = (
        f"GuardDuty in this account is managed by the administrator account {administrator}"
        if administrator
        else "GuardDuty refused to change the detector's features"
    )
    return (
        f"{where} ({_code(error)}: {error.response.get('Error', {}).get('Message', '')}); nothing was "
        "changed. Ask the administrator to enable EKS audit log monitoring and Runtime Monitoring with "
        "automated agents for this account, or deploy with the detector's features left alone "
        "(ManageFeatures off: guardduty.manage_features: false in this project's configuration)"
    )


def _result(detector_id: str, ownership: str) -> str:
    return encode(detector_id, ownership)


def _data(detector_id: str, ownership: str) -> dict[str, str]:
    return {"DetectorId": detector_id, "Ownership": ownership}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "ClientError"))


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"{_code(error)}: {error.response.get('Error', {}).get('Message', '')}"
    return f"{type(error).__name__}: {error}"
