"""cfn-lint and cdk-nag (AwsSolutions) over the Registry stack, sandbox and production settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from tests.registry.conftest import CDK_CONTEXT, make_registry

# Complete ARNs of existing secrets (Secrets Manager appends six random characters to a name).
SECRETS = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:ecr-pullthroughcache/"

FULL = {
    "findings": {"email": "security@example.com"},
    "pull_through_cache": {
        "upstreams": ["ecr-public", "quay", "k8s", "docker-hub", "github-container-registry"],
        "credentials": {
            "docker-hub": f"{SECRETS}docker-hub-AbC123",
            "github-container-registry": f"{SECRETS}ghcr-AbC123",
        },
    },
}


@pytest.fixture(scope="module", params=["destroy", "retain"], ids=["sandbox", "production"])
def synthesized(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[cdk.App, Path]:
    outdir = tmp_path_factory.mktemp("registry-")
    app = cdk.App(context={**CDK_CONTEXT, "@aws-cdk/core:validationReportJson": True}, outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    make_registry(FULL, removal_policy=request.param, app=app)
    try:
        app.synth()
    except RuntimeError as failure:  # jsii raises RuntimeError("ValidationFailed: ...")
        pytest.fail(str(failure)[:4000])
    return app, outdir


def test_cfn_lint_finds_nothing(synthesized: tuple[cdk.App, Path]) -> None:
    _, outdir = synthesized
    matches = lint_file(
        outdir / "Registry.template.json",
        config=ManualArgs(regions=["ap-northeast-1"], ignore_checks=["W3005"]),
    )
    assert [str(m) for m in matches] == []


def test_cdk_nag_finds_nothing_unacknowledged(synthesized: tuple[cdk.App, Path]) -> None:
    _, outdir = synthesized
    report = outdir / "policy-validation-report.json"
    assert report.exists(), "cdk-nag did not run"
    violations = [
        v for plugin in json.loads(report.read_text())["pluginReports"] for v in plugin["violations"]
    ]
    assert violations == []


def test_every_acknowledgment_is_a_granular_iam5_on_one_policy(synthesized: tuple[cdk.App, Path]) -> None:
    app, _ = synthesized
    found = [
        (construct.node.path, key, reason)
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for key, reason in entry.data.items()
        if "AwsSolutions-" in key
    ]
    # Besides: the findings rule's dead-letter queue, which cdk-nag's SQS3 does not recognize as one.
    dead_letters = [f for f in found if f[0] == "Registry/Findings/DeadLetters"]
    assert [key.rsplit("::", 1)[-1] for _, key, _ in dead_letters] == ["AwsSolutions-SQS3"]
    found = [f for f in found if f not in dead_letters]
    # One per wildcard: 5 cache template prefixes (the replicas' template is in RegistryReplica);
    # in the sandbox also the cleanup's log streams, its two regions' listings, its 6 prefixes
    # and the destination region's keys (RetireGrant through ECR only).
    sandbox = any("CreatedRepositoryCleanup" in path for path, _, _ in found)
    assert len(found) == (5 + 1 + 2 + 6 + 1 if sandbox else 5)
    paths = {path for path, _, _ in found}
    assert paths <= {
        "Registry/CreationTemplates/Role/DefaultPolicy/Resource",
        "Registry/CreatedRepositoryCleanup/Role/DefaultPolicy/Resource",
    }
    for _, key, reason in found:
        assert re.fullmatch(r"(Annotation::|AwsSolutions::)?AwsSolutions-IAM5\[Resource::[^\]]+\]", key), key
        assert len(reason.split()) >= 8
