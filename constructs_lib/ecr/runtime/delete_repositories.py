"""Custom resource handler: when its stack is deleted, delete the repositories ECR created under prefixes.

Pull-through cache and replication create repositories that are not CloudFormation resources.
In a sandbox they must go with the stack: a cached repository left behind stays encrypted with
the stack's KMS key (deleted with the stack), and a later deploy would pull through it and fail.

Create and Update do nothing. Delete first asks CloudFormation for the stack's own status and
deletes only when it is DELETE_IN_PROGRESS or ROLLBACK_IN_PROGRESS (`cfn_response`):
CloudFormation also sends Delete when an update replaces or removes this resource (a renamed
construct, a changed removal policy), and then the caches are live and must stay; an unreadable
status deletes nothing. A rollback deletes: this resource depends on the cache rules, so it exists
only once they do, and what they cached is ours. When torn down, it lists the repositories of
every target's region and force-deletes (ECR deletes the images) those under the target's prefix.

Every repository and every target is tried, whatever fails before it. If anything is left
(a deletion refused, a listing failed, time ran out), the handler answers FAILED, with a
one-line reason naming what is left and the full errors in its log. The stack then stops in
DELETE_FAILED with the KMS keys and cache rules still in place, which is the truth: the leftover
repositories are still readable and still billed. Fix the cause and run the delete again (the
handler retries only what is left), or delete the stack with `--deletion-mode
FORCE_DELETE_STACK` to accept the leftovers. Answering SUCCESS instead would let CloudFormation
schedule the key for deletion and leave repositories that nothing can decrypt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
import cfn_response
from botocore.exceptions import BotoCoreError, ClientError
from cleanup_report import error_code

logger = logging.getLogger()
logger.setLevel(logging.INFO)


@dataclass
class Outcome:
    """What a cleanup did: deleted repository names, and what is left with the error for each."""

    deleted: list[str] = field(default_factory=list)
    left: dict[str, str] = field(default_factory=dict)

    def merge(self, other: Outcome) -> None:
        self.deleted += other.deleted
        self.left.update(other.left)


def client(service: Literal["cloudformation", "ecr"], region: str) -> Any:
    return boto3.client(service, region_name=region)


def handler(event: dict[str, Any], context: Any) -> None:
    status, reason = "SUCCESS", ""
    try:
        if event["RequestType"] == "Delete":
            status, reason = on_delete(event, context)
    except Exception as error:
        logger.exception("cleanup failed before it could report what is left")
        status, reason = "FAILED", f"cleanup failed: {error}"
    cfn_response.respond(event, context, status, reason=reason)


def on_delete(event: dict[str, Any], context: Any) -> tuple[str, str]:
    region = event["StackId"].split(":")[3]
    if not cfn_response.stack_is_being_torn_down(event, client("cloudformation", region)):
        return "SUCCESS", "stack is not being deleted or rolled back: no repository deleted"

    outcome = Outcome()
    for target in event["ResourceProperties"].get("Targets", []):
        outcome.merge(
            delete_repositories(
                target["Region"], target["Prefix"], out_of_time=lambda: cfn_response.out_of_time(context)
            )
        )
    logger.info("deleted %d repositories: %s", len(outcome.deleted), outcome.deleted)
    if not outcome.left:
        return "SUCCESS", f"deleted {len(outcome.deleted)} repositories"
    for name, problem in outcome.left.items():
        logger.error("left in place: %s (%s)", name, problem)
    stream = getattr(context, "log_stream_name", "")
    left = ", ".join(f"{name} ({problem})" for name, problem in outcome.left.items())
    return "FAILED", (
        f"deleted {len(outcome.deleted)} repositories, {len(outcome.left)} left (log stream {stream}): {left}"
    )


def delete_repositories(
    region: str, prefix: str, *, ecr: Any = None, out_of_time: Callable[[], bool] = lambda: False
) -> Outcome:
    """Force-delete every repository of `region` whose name starts with `prefix`; try them all.

    `prefix` is a plain string prefix, as in a replication filter (`app/` matches `app/web`;
    `app` also matches `apple`). A failure (an error, or no time left to start) is recorded in
    `Outcome.left` under `<region>:<name>` (or `<region>:<prefix>*` when the listing itself fails)
    and the next repository is tried. A repository already gone counts as deleted.
    """
    if len(prefix) < 2:
        # An empty prefix would match every repository of the region.
        raise ValueError(f"prefix must have at least 2 characters, got {prefix!r}")
    ecr = ecr or client("ecr", region)
    outcome = Outcome()
    try:
        names = list(_names_under(ecr, prefix))
    except (ClientError, BotoCoreError) as error:
        outcome.left[f"{region}:{prefix}*"] = f"listing failed: {error_code(error)}"
        return outcome
    for name in names:
        if out_of_time():
            outcome.left[f"{region}:{name}"] = "not attempted: out of time"
            continue
        try:
            ecr.delete_repository(repositoryName=name, force=True)
        except ecr.exceptions.RepositoryNotFoundException:
            pass
        except (ClientError, BotoCoreError) as error:
            outcome.left[f"{region}:{name}"] = error_code(error)
            continue
        outcome.deleted.append(f"{region}:{name}")
    return outcome


def _names_under(ecr: Any, prefix: str) -> Iterable[str]:
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repository in page["repositories"]:
            if repository["repositoryName"].startswith(prefix):
                yield repository["repositoryName"]
