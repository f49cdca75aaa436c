"""After destroy-all: anything still tagged for this project and stage, in every region the stage used.

The Resource Groups Tagging API lists tagged resources of most services. A leftover is never silent:
each is printed with its ARN; in a stage that retains stateful resources on purpose
(`removal_policy: retain`) they are expected, and the exit code stays 0.
"""

from __future__ import annotations

from collections.abc import Iterable

from ops.aws import Account
from ops.report import Result, failed, passed, warned
from stacks.config import AppConfig


def leftovers(account: Account, config: AppConfig, regions: Iterable[str]) -> list[Result]:
    filters = [{"Key": key, "Values": [value]} for key, value in sorted(config.tags.items())]
    filters.append({"Key": "stage", "Values": [config.stage]})
    tags = ", ".join(f"{f['Key']}={f['Values'][0]}" for f in filters)
    results: list[Result] = []
    for region in sorted(set(regions)):
        tagging = account.client("resourcegroupstaggingapi", region)
        arns: list[str] = []
        for page in tagging.get_paginator("get_resources").paginate(TagFilters=filters):
            arns += [r["ResourceARN"] for r in page["ResourceTagMappingList"]]
        name = f"tagged {tags} in {region}"
        if not arns:
            results.append(passed(name, "nothing left"))
        elif config.removal_policy == "retain":
            results.append(warned(name, f"{len(arns)} kept by removal_policy retain: " + ", ".join(arns)))
        else:
            results.append(
                failed(
                    name,
                    f"{len(arns)} left: " + ", ".join(arns),
                    "delete them (one deleted minutes ago may still be listed: run it again to confirm)",
                )
            )
    return results
