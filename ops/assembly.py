"""The stacks one synthesis wrote, read from the cloud assembly's manifest (`cdk.out/manifest.json`).

The assembly is what `app.py` decided for the stage: which stacks exist, their CloudFormation
names, regions and dependencies, and their templates. Reading it keeps the journey's commands in
step with `app.py` without restating its decisions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.aws import JourneyError

# Stacks deployed only on request: App Runner is closed to new customers (since 2026-04-30), so a
# new account's deploy of it fails.
ON_REQUEST = ("AppRunner",)
# Stacks that exist only for another one, in another region, and that the other depends on: the CLI
# widens `cdk destroy X` only to stacks depending on X, so destroying X names these too.
COMPANIONS: dict[str, tuple[str, ...]] = {"Registry": ("RegistryReplica",)}


@dataclass(frozen=True)
class StackInfo:
    """One stack of the assembly, as the CLI and CloudFormation know it."""

    id: str  # the construct id the CLI selects by (`Network`)
    stack_name: str  # the CloudFormation stack name (may carry the stage)
    region: str
    account: str | None  # None when synthesized without credentials
    dependencies: tuple[str, ...]
    template_file: Path
    tags: dict[str, str]

    def template(self) -> dict[str, Any]:
        return dict(json.loads(self.template_file.read_text(encoding="utf-8")))


def read(outdir: Path) -> list[StackInfo]:
    """Every stack of the assembly in `outdir`, dependencies before their dependants."""
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        raise JourneyError(f"no synthesized app in {outdir}/: run `make synth` first")
    artifacts: dict[str, Any] = json.loads(manifest_file.read_text(encoding="utf-8")).get("artifacts", {})
    stacks: dict[str, StackInfo] = {}
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties", {})
        environment = str(artifact.get("environment", "aws://unknown-account/unknown-region"))
        account, region = environment.removeprefix("aws://").split("/", 1)
        stacks[artifact_id] = StackInfo(
            id=str(artifact.get("displayName", artifact_id)),
            stack_name=str(properties.get("stackName", artifact_id)),
            region=region,
            account=None if account.startswith("unknown") else account,
            dependencies=tuple(d for d in artifact.get("dependencies", ()) if d in artifacts),
            template_file=outdir / str(properties["templateFile"]),
            tags={str(k): str(v) for k, v in properties.get("tags", {}).items()},
        )
    for info in stacks.values():
        object.__setattr__(
            info,
            "dependencies",
            tuple(stacks[d].id for d in info.dependencies if d in stacks),
        )
    return in_dependency_order(stacks.values())


def synthesized_stage(stacks: Iterable[StackInfo]) -> str | None:
    """The `stage` tag the app put on the stacks' resources, or None if none carries one."""
    for info in stacks:
        for resource in info.template().get("Resources", {}).values():
            tags = resource.get("Properties", {}).get("Tags")
            if isinstance(tags, list):
                for tag in tags:
                    if (
                        isinstance(tag, dict)
                        and tag.get("Key") == "stage"
                        and isinstance(tag.get("Value"), str)
                    ):
                        return str(tag["Value"])
    return None


def require_stage(stacks: list[StackInfo], stage: str) -> list[StackInfo]:
    """Refuse an assembly synthesized for another stage (a cdk.out left by an earlier synth)."""
    found = synthesized_stage(stacks)
    if found is not None and found != stage:
        raise JourneyError(
            f"cdk.out holds stage {found!r}, not {stage!r}: run `make synth STAGE={stage}` first"
        )
    return stacks


def in_dependency_order(stacks: Iterable[StackInfo]) -> list[StackInfo]:
    pending = {info.id: info for info in stacks}
    ordered: list[StackInfo] = []
    while pending:
        ready = [info for info in pending.values() if not set(info.dependencies) & set(pending)]
        if not ready:  # a cycle cannot synthesize; keep the rest in manifest order
            ready = list(pending.values())
        for info in ready:
            ordered.append(info)
            del pending[info.id]
    return ordered


def deploy_selection(stacks: Iterable[StackInfo], *, with_app_runner: bool) -> list[str]:
    """The stack ids `make deploy-all` names: all but the on-request ones unless asked."""
    return [s.id for s in stacks if with_app_runner or s.id not in ON_REQUEST]


def destroy_selection(stacks: Iterable[StackInfo], named: str | None = None) -> list[str]:
    """The stack ids a destroy names: one stack and its companions, or every stack of the stage."""
    known = [s.id for s in stacks]
    if named is None:
        return known
    if named not in known:
        raise JourneyError(f"STACK must be one of the stage's stacks ({', '.join(known)}), got {named!r}")
    return [named, *(c for c in COMPANIONS.get(named, ()) if c in known)]
