"""Validators written by others, run over every synthesized template.

- cfn-lint checks each template against CloudFormation's own resource schemas and rules.
- cdk-nag's AwsSolutions pack runs as a CDK validation plugin during the session's synthesis.
- Every cdk-nag acknowledgment must name a rule, sit on one resource, and give a reason.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import aws_cdk as cdk
import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.conftest import Synthesized

# W3005 flags a DependsOn that an intrinsic reference already implies; CDK itself emits those
# (for example on custom resources and their policies), so it is noise in synthesized templates.
CFN_LINT_IGNORED = ["W3005"]
ACK_ID = re.compile(r"AwsSolutions-[A-Za-z]+\d+(\[.+\])?")


@pytest.fixture(params=["sandbox", "production"])
def stage(request: pytest.FixtureRequest) -> Synthesized:
    """Each stage's whole app: what production changes must pass the validators too."""
    return request.getfixturevalue(request.param)


def _lint(template: Path, region: str) -> list[str]:
    """cfn-lint's findings for one template, linted for the region it deploys to."""
    matches = lint_file(template, config=ManualArgs(regions=[region], ignore_checks=CFN_LINT_IGNORED))
    return [str(match) for match in matches]


@pytest.fixture(scope="module")
def cfn_lint_findings(sandbox: Synthesized, production: Synthesized) -> dict[str, list[str]]:
    """Every template of both stages linted once, two at a time.

    cfn-lint is the slowest check of the suite and pure Python; by the time this module runs,
    mypy (which `make test` starts beside pytest) is done, so a second process halves the wait.
    """
    jobs = {
        f"{name}: {stack_id}": (stage.outdir / stack.template_file, stack.region)
        for name, stage in (("sandbox", sandbox), ("production", production))
        for stack_id, stack in stage.stacks.items()
    }
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {key: pool.submit(_lint, *job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("stage_name", ["sandbox", "production"])
def test_every_stack_passes_cfn_lint(stage_name: str, cfn_lint_findings: dict[str, list[str]]) -> None:
    findings = [
        f"{key}: {finding}"
        for key, found in cfn_lint_findings.items()
        if key.startswith(f"{stage_name}: ")
        for finding in found
    ]
    assert [key for key in cfn_lint_findings if key.startswith(f"{stage_name}: ")], "no template was linted"
    assert findings == [], "\n".join(findings)


def test_every_stack_has_no_unacknowledged_cdk_nag_finding(stage: Synthesized) -> None:
    report = stage.validation_report()
    violations = [
        f"{violation['ruleName']} on {resource['constructPath']}: {violation['description']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingResources"]
    ]
    assert violations == [], "\n".join(violations)
    assert stage.error is None, str(stage.error)


def test_cdk_nag_actually_ran_over_the_stacks(sandbox: Synthesized) -> None:
    # A report with no plugin runs would make the test above pass vacuously.
    assert (sandbox.outdir / "policy-validation-report.json").exists()
    manifest = json.loads((sandbox.outdir / "manifest.json").read_text())
    assert {artifact for artifact in manifest["artifacts"] if artifact in sandbox.stacks} == set(
        sandbox.stacks
    )


def acknowledgments(sandbox: Synthesized) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every acknowledgment in the app."""
    found = []
    for construct in sandbox.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                # Recorded as {"<source>::<rule id>": reason}, the source being who reports it.
                # aws-cdk-lib records its own acknowledgments of CloudFormation-Validate rules
                # (for example F3002 on flow logs); only the project's cdk-nag ones are ours.
                for key, reason in entry.data.items():
                    rule_id = re.sub(r"^(Annotation|AwsSolutions)::", "", key)
                    if rule_id.startswith("AwsSolutions-"):
                        found.append((construct.node.path, rule_id, reason))
    return found


def test_every_acknowledgment_names_a_rule_sits_on_one_resource_and_gives_a_reason(
    sandbox: Synthesized,
) -> None:
    for path, rule_id, reason in acknowledgments(sandbox):
        construct = sandbox.app.node.find_child(path.split("/")[0])
        for part in path.split("/")[1:]:
            construct = construct.node.find_child(part)
        assert not isinstance(construct, (cdk.Stack, cdk.App)), f"{rule_id} is acknowledged on all of {path}"
        assert ACK_ID.fullmatch(rule_id), f"{path}: {rule_id!r} is not a well-formed rule id"
        assert len(reason.split()) >= 8, f"{path}: the reason for {rule_id} is too thin: {reason!r}"
