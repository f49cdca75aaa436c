"""cfn-lint and cdk-nag (AwsSolutions) over the Karpenter construct's resources in the test stack."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from .conftest import Built, app_context, build

KARPENTER_PATH = "KarpenterTest/Karpenter/"


def test_template_passes_cfn_lint(built: Built, tmp_path: Path) -> None:
    template = tmp_path / "KarpenterTest.template.json"
    template.write_text(json.dumps(built.template.to_json()))
    matches = lint_file(template, config=ManualArgs(regions=["ap-northeast-1"], ignore_checks=["W3005"]))
    assert [str(m) for m in matches] == []


def test_construct_has_no_unacknowledged_cdk_nag_finding(tmp_path: Path) -> None:
    context = {**app_context(), "@aws-cdk/core:validationReportJson": True}
    app = cdk.App(context=context, outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        build(app=app)  # synthesizes the app, with the plugin, to read the template
    except RuntimeError as failure:  # the cluster's own (CDK-internal) findings fail validation
        assert "ValidationFailed" in str(failure)
    report = json.loads((tmp_path / "policy-validation-report.json").read_text())
    paths = [
        (violation["ruleName"], resource["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingResources"]
    ]
    # The cluster's CDK-made kubectl provider has findings of its own: proof that cdk-nag looked.
    assert any(path.startswith("KarpenterTest/Cluster/") for _, path in paths)
    assert [f"{rule} {path}" for rule, path in paths if path.startswith(KARPENTER_PATH)] == []
