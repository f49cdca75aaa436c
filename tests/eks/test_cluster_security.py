"""Our own checks of every EKS cluster in every template, in place of cdk-nag's EKS rules.

cdk-nag's EKS1 (public endpoint) and EKS2 (control-plane logging) look at the old `aws_eks`
module's custom resource, so they never fire on `aws_eks_v2`'s native `AWS::EKS::Cluster`.
These tests hold the same line for every synthesized configuration, and go further on secrets.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.eks.conftest import EksSynth
from tests.helpers import logical_id

REQUIRED_LOGS = {"api", "audit", "authenticator"}


def _clusters(synth: EksSynth) -> list[dict[str, Any]]:
    clusters = [
        resource["Properties"]
        for stack_id in synth.result.stacks
        for resource in synth.result.template_json(stack_id)["Resources"].values()
        if resource["Type"] == "AWS::EKS::Cluster"
    ]
    assert clusters, "no EKS cluster was synthesized"
    return clusters


@pytest.fixture(params=["eks_sandbox", "eks_variant", "eks_production"])
def synth(request: pytest.FixtureRequest) -> EksSynth:
    return request.getfixturevalue(request.param)


def test_every_cluster_logs_api_audit_and_authenticator(synth: EksSynth) -> None:
    for cluster in _clusters(synth):
        enabled = {entry["Type"] for entry in cluster["Logging"]["ClusterLogging"]["EnabledTypes"]}
        assert enabled >= REQUIRED_LOGS


def test_every_cluster_encrypts_secrets_with_a_customer_managed_key(synth: EksSynth) -> None:
    for cluster in _clusters(synth):
        [config] = cluster["EncryptionConfig"]
        assert config["Resources"] == ["secrets"]
        assert "Fn::GetAtt" in config["Provider"]["KeyArn"]  # a key of this stack, not an AWS managed alias


def test_every_public_endpoint_has_an_explicit_allow_list(synth: EksSynth) -> None:
    for cluster in _clusters(synth):
        vpc = cluster["ResourcesVpcConfig"]
        assert vpc["EndpointPrivateAccess"] is True
        if vpc["EndpointPublicAccess"]:
            assert vpc.get("PublicAccessCidrs"), "a public endpoint must name its CIDR allow-list"
        else:
            assert "PublicAccessCidrs" not in vpc


def test_every_cluster_gives_no_hidden_admin_to_its_creator(synth: EksSynth) -> None:
    for cluster in _clusters(synth):
        assert cluster["AccessConfig"] == {
            "AuthenticationMode": "API",
            "BootstrapClusterCreatorAdminPermissions": False,
        }


def test_eks_stack_has_no_unacknowledged_cdk_nag_finding(synth: EksSynth) -> None:
    report = synth.result.validation_report()
    mine = [
        f"{violation['ruleName']} on {resource['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingResources"]
        if resource["constructPath"].startswith("Eks/")
        and not resource["constructPath"].startswith("Eks/Karpenter/")
    ]
    assert mine == [], "\n".join(mine)


def test_variant_eks_template_passes_cfn_lint(eks_variant: EksSynth) -> None:
    # The stages' templates are linted with the whole app's in tests/test_validators.py.
    from cfnlint.api import ManualArgs, lint_file

    stack = eks_variant.result.stacks["Eks"]
    matches = lint_file(
        eks_variant.result.outdir / stack.template_file,
        config=ManualArgs(regions=["ap-northeast-1"], ignore_checks=["W3005"]),
    )
    assert [str(match) for match in matches] == []


def test_every_control_plane_log_group_is_encrypted_with_the_stacks_rotating_key(synth: EksSynth) -> None:
    stack, resources = synth.stack, synth.json["Resources"]
    group = resources[logical_id(stack.cluster.log_group)]
    key_id = logical_id(stack.logs_key.key)
    assert (
        key_id == "LogsKey195F8DFC"
    )  # pinned: a renamed key would be replaced, and the audit log unreadable
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = resources[key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    # The key outlives the group: created before it (the reference), deleted with it or kept with it.
    assert key["DeletionPolicy"] == group["DeletionPolicy"]
    [logs] = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "CloudWatchLogsForThisStacksGroups"
    ]
    assert logs["Principal"] == {
        "Service": {"Fn::Join": ["", [f"logs.{stack.region}.", {"Ref": "AWS::URLSuffix"}]]}
    }
    admitted = [
        "".join(part if isinstance(part, str) else "<account>" for part in arn["Fn::Join"][1])
        for arn in logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    ]
    name = group["Properties"]["LogGroupName"]
    assert admitted == [
        f"arn:aws:logs:{stack.region}:<account>:log-group:{stack.stack_name}-*",
        f"arn:aws:logs:{stack.region}:<account>:log-group:{name}",
    ]
