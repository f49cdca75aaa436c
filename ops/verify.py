"""`make verify [STACK=...]`: read-only evidence, after a deploy, that each stack's feature is live.

Each stack contributes its own checks through `@checks_for("<stack id>")`; a stack added later
plugs in by registering checks under its id. The checks read stack outputs, the stack's resource
list (CloudFormation's physical ids) and tags, never the project's constructs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from ops import probe
from ops.assembly import StackInfo
from ops.aws import Account, error_code
from ops.report import Check, Result, failed, passed, skipped
from stacks.config import AppConfig


@dataclass
class DeployedStack:
    """What one deployed stack offers its checks: outputs, resources by type, clients in its region."""

    account: Account
    info: StackInfo
    config: AppConfig
    outputs: dict[str, str]
    resources: list[dict[str, Any]]
    prober: probe.Prober = probe.fetch
    _cache: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.account.client(service, self.info.region)

    def physical_ids(self, resource_type: str) -> list[str]:
        return [
            str(r["PhysicalResourceId"])
            for r in self.resources
            if r["ResourceType"] == resource_type and r.get("PhysicalResourceId")
        ]

    def name(self, what: str) -> str:
        return f"{self.info.id}: {what}"


StackCheck = Callable[[DeployedStack], Iterator[Result]]
CHECKS: dict[str, list[StackCheck]] = {}


def checks_for(stack_id: str) -> Callable[[StackCheck], StackCheck]:
    """Register a check for the stack with this construct id; it runs only where that stack exists."""

    def register(check: StackCheck) -> StackCheck:
        CHECKS.setdefault(stack_id, []).append(check)
        return check

    return register


@dataclass
class Verify:
    account: Account
    config: AppConfig
    stacks: list[StackInfo]
    prober: probe.Prober = probe.fetch

    def checks(self) -> list[Check]:
        return [lambda info=info: self.verify_stack(info) for info in self.stacks]  # type: ignore[misc]

    def verify_stack(self, info: StackInfo) -> Iterator[Result]:
        cloudformation = self.account.client("cloudformation", info.region)
        name = f"{info.id}: stack {info.stack_name} in {info.region}"
        try:
            stack = cloudformation.describe_stacks(StackName=info.stack_name)["Stacks"][0]
        except botocore.exceptions.ClientError as error:
            if "does not exist" in str(error):
                yield skipped(name, "not deployed")
            else:
                yield failed(
                    name, f"cannot read it ({error_code(error)})", "check cloudformation:DescribeStacks"
                )
            return
        status = stack["StackStatus"]
        if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"):
            yield failed(name, status, "see the stack's events; redeploy or destroy it")
            return
        yield passed(name, status)
        resources: list[dict[str, Any]] = []
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=info.stack_name):
            resources += page["StackResourceSummaries"]
        deployed = DeployedStack(
            account=self.account,
            info=info,
            config=self.config,
            outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            resources=resources,
            prober=self.prober,
        )
        for check in CHECKS.get(info.id, []):
            try:
                yield from check(deployed)
            except botocore.exceptions.ClientError as error:
                yield failed(
                    deployed.name(check.__name__.replace("_", " ")),
                    f"cannot read it ({error_code(error)})",
                    "check the permissions of your credentials",
                )


def reachable(
    stack: DeployedStack, output: str, label: str, *, ipv6: bool = True, scheme: str = "http"
) -> Iterator[Result]:
    """The URL in `output` answers over IPv4 and, for dual-stack endpoints, over IPv6 too."""
    url = stack.outputs.get(output)
    if not url:
        yield skipped(stack.name(label), f"no {output} output")
        return
    if "://" not in url:
        url = f"{scheme}://{url}"
    families = [(socket.AF_INET, "IPv4"), (socket.AF_INET6, "IPv6")] if ipv6 else [(socket.AF_INET, "IPv4")]
    for family, version in families:
        name = stack.name(f"{label} over {version}")
        try:
            outcome = stack.prober(url, family)
        except OSError as error:
            yield failed(name, f"{url}: {error}", "wait a minute for DNS and targets; check the listener")
            continue
        if outcome.startswith("HTTP 5"):
            yield failed(name, f"{url}: {outcome}", "no healthy targets yet: check the service's tasks")
        else:
            yield passed(name, f"{url}: {outcome}")


def by_id(stacks: list[StackInfo], wanted: str | None) -> list[StackInfo]:
    if wanted is None:
        return stacks
    return [s for s in stacks if s.id == wanted]


# The stacks' own checks register themselves on import (after the names above exist).
from ops import checks  # noqa: E402, F401
