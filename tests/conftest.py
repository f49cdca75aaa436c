"""Shared fixtures: the whole app synthesized once per test session, with cdk-nag plugged in.

Synthesizing every stack costs seconds, so the session fixture does it once and the tests read
templates from its output directory. CDK's built-in CloudFormation validation is off here for
speed; `test_offline_synth.py` runs the real entry point with it on, as `make synth` does.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

import app as app_module  # also puts the bundled Node first on PATH before jsii starts
from stacks.config import AppConfig, load_config
from tests.helpers import mocked_aws

ROOT = Path(__file__).resolve().parents[1]
CDK_CONTEXT: dict[str, object] = json.loads((ROOT / "cdk.json").read_text())["context"]


@dataclass
class Synthesized:
    """The result of one synthesis of the app: stacks by id, templates, validation outcome."""

    app: cdk.App
    stacks: dict[str, cdk.Stack]
    outdir: Path
    error: Exception | None
    _templates: dict[str, Template] = field(default_factory=dict)

    def template_json(self, stack_id: str) -> dict:
        stack = self.stacks[stack_id]
        return json.loads((self.outdir / stack.template_file).read_text())

    def template(self, stack_id: str) -> Template:
        if stack_id not in self._templates:
            self._templates[stack_id] = Template.from_json(self.template_json(stack_id))
        return self._templates[stack_id]

    def validation_report(self) -> dict:
        report = self.outdir / "policy-validation-report.json"
        return json.loads(report.read_text()) if report.exists() else {"pluginReports": []}


def synthesize(config: AppConfig, *, outdir: Path, environ: dict[str, str] | None = None) -> Synthesized:
    """Compose and synthesize the app for `config` with cdk-nag's AwsSolutions pack plugged in.

    A validation failure does not stop the fixture: templates are written before the plugins
    run, so template tests still run and the validator tests report the findings.
    """
    context = {**CDK_CONTEXT, "@aws-cdk/core:validationReportJson": True}
    app = cdk.App(context=context, outdir=str(outdir), builtin_cloud_formation_validation=False)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stacks = app_module.compose(app, config, app_module.resolve_environment(config, environ or {}))
    error: Exception | None = None
    try:
        app.synth()
    except RuntimeError as failure:  # jsii raises RuntimeError("ValidationFailed: ...")
        error = failure
    return Synthesized(app=app, stacks=stacks, outdir=outdir, error=error)


@pytest.fixture(scope="session")
def sandbox_config() -> AppConfig:
    return load_config(stage="sandbox")


@pytest.fixture(scope="session")
def sandbox(sandbox_config: AppConfig) -> Iterator[Synthesized]:
    """Every stack of the default (sandbox) configuration, synthesized once."""
    with tempfile.TemporaryDirectory(prefix="cdk-sandbox-") as outdir:
        yield synthesize(sandbox_config, outdir=Path(outdir))


@pytest.fixture(scope="session")
def production() -> Iterator[Synthesized]:
    """Every stack of the production configuration, synthesized once (for the validators)."""
    with tempfile.TemporaryDirectory(prefix="cdk-production-") as outdir:
        yield synthesize(load_config(stage="production"), outdir=Path(outdir))


@pytest.fixture(scope="session")
def synth_with(tmp_path_factory: pytest.TempPathFactory) -> Callable[[AppConfig], Synthesized]:
    """Synthesize another configuration (tests keep these small: disable what they do not need)."""

    def _synth(config: AppConfig) -> Synthesized:
        return synthesize(config, outdir=tmp_path_factory.mktemp("cdk-"))

    return _synth


_moto_accounts = itertools.count(100_000_000_001)


@pytest.fixture(scope="module")
def moto_session(request: pytest.FixtureRequest) -> Iterator[str]:
    """moto for a whole test module, in the module's `REGION` (starting moto costs seconds)."""
    region = str(request.module.REGION)
    with mocked_aws(region):
        yield region


@pytest.fixture
def moto_account(moto_session: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An AWS account of this test's own under moto, which keeps each account's state apart."""
    account = str(next(_moto_accounts))
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
    return account
