"""Validators written by others, run over every synthesized template.

- cfn-lint checks each template against CloudFormation's own resource schemas and rules.
- cdk-nag's AwsSolutions pack runs as a CDK validation plugin during the session's synthesis.
- Every cdk-nag acknowledgment must name a rule, sit on one resource, and give a reason.
"""

from __future__ import annotations

import json
import re

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


def test_every_stack_passes_cfn_lint(stage: Synthesized) -> None:
    findings: list[str] = []
    for stack_id, stack in stage.stacks.items():
        # Each template is linted for the region it deploys to (resource availability differs).
        matches = lint_file(
            stage.outdir / stack.template_file,
            config=ManualArgs(regions=[stack.region], ignore_checks=CFN_LINT_IGNORED),
        )
        findings += [f"{stack_id}: {match}" for match in matches]
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
