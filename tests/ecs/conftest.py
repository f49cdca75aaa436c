"""Fixtures of the EcsFargate tests: the stack synthesized once per stage, beside stand-ins.

The stand-ins (a VPC stack and a repository stack with a fake pull-through cache) keep these
tests independent of the Registry stack's internals; `test_wiring.py` covers the real one.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

import app as app_module  # noqa: F401  (puts the bundled Node first on PATH before jsii starts)
from stacks.config import AppConfig, load_config
from stacks.ecs_fargate_stack import EcsFargateStack
from tests.ecs.stand_ins import FakePullThroughCache, build_app


@dataclass
class EcsSynth:
    stack: EcsFargateStack
    cache: FakePullThroughCache
    template: Template
    outdir: Path
    error: Exception | None

    def nag_violations(self) -> list[str]:
        report_file = self.outdir / "policy-validation-report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else {"pluginReports": []}
        return [
            f"{violation['ruleName']} on {resource.get('constructPath')}"
            for plugin in report["pluginReports"]
            for violation in plugin["violations"]
            for resource in violation["violatingResources"]
            if str(resource.get("constructPath", "")).startswith("EcsFargate/")
        ]


def synthesize(config: AppConfig) -> Iterator[EcsSynth]:
    with tempfile.TemporaryDirectory(prefix="cdk-ecs-") as outdir:
        app, stack, cache = build_app(config, outdir=outdir, nag=True)
        error: Exception | None = None
        try:
            app.synth()
        except RuntimeError as failure:  # cdk-nag findings fail synth after templates are written
            error = failure
        path = Path(outdir) / stack.template_file
        yield EcsSynth(
            stack=stack,
            cache=cache,
            template=Template.from_json(json.loads(path.read_text())),
            outdir=Path(outdir),
            error=error,
        )


@pytest.fixture(scope="session")
def ecs_sandbox() -> Iterator[EcsSynth]:
    yield from synthesize(load_config(stage="sandbox"))


@pytest.fixture(scope="session")
def ecs_production() -> Iterator[EcsSynth]:
    yield from synthesize(load_config(stage="production"))
