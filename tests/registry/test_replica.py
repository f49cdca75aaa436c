"""The RegistryReplica stack: replica creation templates in the destination region, wired in app.py."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Template

import app as app_module
from stacks.config import AppConfig, load_config
from stacks.registry_replica_stack import RegistryReplicaStack
from stacks.registry_stack import RegistryStack
from stacks.stage import StageSettings
from tests.conftest import Synthesized
from tests.helpers import intrinsics, logical_id
from tests.registry.conftest import CDK_CONTEXT, repository_arn
from tests.registry.test_registry_stack import EXPECTED_LIFECYCLE

DESTINATION = "ap-northeast-3"


def registry_only(config: AppConfig, **registry_changes: object) -> AppConfig:
    """`config` with only Network and the Registry stacks (fast), the registry section changed."""
    return dataclasses.replace(
        config,
        registry=dataclasses.replace(config.registry, **registry_changes),  # type: ignore[arg-type]
        ecs=dataclasses.replace(config.ecs, enabled=False),
        eks=dataclasses.replace(config.eks, enabled=False),
    )


def compose(config: AppConfig, environ: dict[str, str] | None = None) -> dict[str, cdk.Stack]:
    app = cdk.App(context=CDK_CONTEXT)
    return app_module.compose(app, config, app_module.resolve_environment(config, environ or {}))


@pytest.fixture(scope="module")
def synthesized(sandbox: Synthesized) -> tuple[cdk.App, dict[str, cdk.Stack], Path]:
    """The session's sandbox app (no credentials, cdk-nag plugged in), which has the replica stack.

    Its cfn-lint and cdk-nag results are checked with every other stack's in tests/test_validators.py.
    """
    return sandbox.app, sandbox.stacks, sandbox.outdir


@pytest.fixture(scope="module")
def replica(synthesized: tuple[cdk.App, dict[str, cdk.Stack], Path]) -> RegistryReplicaStack:
    stack = synthesized[1]["RegistryReplica"]
    assert isinstance(stack, RegistryReplicaStack)
    return stack


@pytest.fixture(scope="module")
def template(
    synthesized: tuple[cdk.App, dict[str, cdk.Stack], Path], replica: RegistryReplicaStack
) -> Template:
    return Template.from_json(json.loads((synthesized[2] / replica.template_file).read_text()))


def get_att_arn(stack: cdk.Stack, construct: object) -> dict:
    return {"Fn::GetAtt": [logical_id(construct), "Arn"]}


# --- where it goes ----------------------------------------------------------------------------


def test_replica_stack_goes_to_the_destination_region_in_the_unresolved_account(
    synthesized: tuple[cdk.App, dict[str, cdk.Stack], Path],
) -> None:
    manifest = json.loads((synthesized[2] / "manifest.json").read_text())
    assert manifest["artifacts"]["RegistryReplica"]["environment"] == f"aws://unknown-account/{DESTINATION}"
    assert manifest["artifacts"]["Registry"]["environment"] == "aws://unknown-account/ap-northeast-1"


def test_replica_stack_follows_the_credentials_account_but_keeps_the_destination_region() -> None:
    config = registry_only(load_config(stage="sandbox"))
    stacks = compose(config, {"CDK_DEFAULT_ACCOUNT": "111122223333", "CDK_DEFAULT_REGION": "eu-west-1"})
    assert (stacks["RegistryReplica"].account, stacks["RegistryReplica"].region) == (
        "111122223333",
        DESTINATION,
    )
    assert (stacks["Registry"].account, stacks["Registry"].region) == ("111122223333", "eu-west-1")


def test_registry_depends_on_the_replica_stack(
    synthesized: tuple[cdk.App, dict[str, cdk.Stack], Path], replica: RegistryReplicaStack
) -> None:
    # Deployed before the replication configuration exists; destroyed after the Registry's cleanup.
    assert replica in synthesized[1]["Registry"].dependencies
    manifest = json.loads((synthesized[2] / "manifest.json").read_text())
    assert "RegistryReplica" in manifest["artifacts"]["Registry"]["dependencies"]
    assert "Registry" not in manifest["artifacts"]["RegistryReplica"].get("dependencies", [])


def test_no_value_crosses_the_region_boundary(
    synthesized: tuple[cdk.App, dict[str, cdk.Stack], Path], template: Template
) -> None:
    registry = json.loads((synthesized[2] / synthesized[1]["Registry"].template_file).read_text())
    # Neither an export nor a stack output read across the regions.
    assert not intrinsics(registry) & {"Fn::ImportValue", "Fn::GetStackOutput"}
    assert all("Export" not in output for output in template.to_json().get("Outputs", {}).values())


# --- what it holds ----------------------------------------------------------------------------


def test_replicas_get_an_immutable_kms_template_with_this_stacks_key_and_role(
    replica: RegistryReplicaStack, template: Template
) -> None:
    lifecycle = Capture()
    template.resource_count_is("AWS::ECR::RepositoryCreationTemplate", 1)
    template.has_resource_properties(
        "AWS::ECR::RepositoryCreationTemplate",
        {
            "Prefix": "app",
            "AppliedFor": ["REPLICATION"],
            "EncryptionConfiguration": {
                "EncryptionType": "KMS",
                "KmsKey": get_att_arn(replica, replica.key.node.default_child),
            },
            "ImageTagMutability": "IMMUTABLE",
            "CustomRoleArn": get_att_arn(replica, replica.templates.role.node.default_child),
            "LifecyclePolicy": lifecycle,
        },
    )
    assert json.loads(lifecycle.as_string()) == EXPECTED_LIFECYCLE


def test_replica_key_rotates_and_goes_with_the_sandbox(
    replica: RegistryReplicaStack, template: Template
) -> None:
    key = template.to_json()["Resources"][logical_id(replica.key.node.default_child)]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["PendingWindowInDays"] == 7
    assert key["DeletionPolicy"] == "Delete"


def test_replica_role_is_trusted_by_ecr_and_scoped_to_the_prefix_and_key(
    replica: RegistryReplicaStack, template: Template
) -> None:
    role = template.to_json()["Resources"][logical_id(replica.templates.role.node.default_child)]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}}
    ]
    policy = template.to_json()["Resources"][
        logical_id(replica.templates.role.node.find_child("DefaultPolicy").node.default_child)
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"],
            "Effect": "Allow",
            "Resource": repository_arn("app/*"),
        },
        {
            "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"],
            "Effect": "Allow",
            "Resource": get_att_arn(replica, replica.key.node.default_child),
        },
    ]


def test_registry_cleanup_deletes_exactly_the_replicated_namespaces(
    synthesized: tuple[cdk.App, dict[str, cdk.Stack], Path], template: Template
) -> None:
    registry = synthesized[1]["Registry"]
    assert isinstance(registry, RegistryStack)
    resources = json.loads((synthesized[2] / registry.template_file).read_text())["Resources"]
    targets = resources[logical_id(registry.cleanup.resource.node.default_child)]["Properties"]["Targets"]
    # A template prefix names a namespace (`app` covers `app/...`); the cleanup uses the
    # replication filter itself (`app/`).
    replica_prefixes = sorted(
        f"{t['Properties']['Prefix']}/"
        for t in template.find_resources("AWS::ECR::RepositoryCreationTemplate").values()
    )
    assert sorted(t["Prefix"] for t in targets if t["Region"] == DESTINATION) == replica_prefixes


def test_replica_key_logical_id_is_pinned(replica: RegistryReplicaStack) -> None:
    # Renaming it replaces the key that every replica is encrypted with.
    assert logical_id(replica.key.node.default_child) == "RepositoryKey0F9BF672"


def test_production_retains_the_replica_key(production: Synthesized) -> None:
    replica = production.stacks["RegistryReplica"]
    assert isinstance(replica, RegistryReplicaStack)
    resources = production.template_json("RegistryReplica")["Resources"]
    assert resources[logical_id(replica.key)]["DeletionPolicy"] == "Retain"


# --- when it exists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"replication": {"enabled": False}},
        {"replication": {"repository_prefixes": ("app",)}},
        {"enabled": False},
    ],
    ids=["replication-disabled", "no-namespace-prefix", "registry-disabled"],
)
def test_sandbox_has_no_replica_stack_without_replicated_namespaces(changes: dict) -> None:
    config = load_config(stage="sandbox")
    replication = dataclasses.replace(config.registry.replication, **changes.pop("replication", {}))
    stacks = compose(registry_only(config, replication=replication, **changes))
    assert "RegistryReplica" not in stacks


def test_fails_when_no_prefix_names_a_namespace() -> None:
    config = load_config(stage="sandbox").registry
    config = dataclasses.replace(
        config, replication=dataclasses.replace(config.replication, repository_prefixes=("app",))
    )
    with pytest.raises(ValueError, match=r"repository_prefixes must include a prefix ending in '/'"):
        RegistryReplicaStack(
            cdk.App(),
            "RegistryReplica",
            config=config,
            settings=StageSettings(
                cdk.RemovalPolicy.DESTROY, log_retention_days=7, deletion_protection=False
            ),
        )


# --- validators -------------------------------------------------------------------------------


def test_replica_stack_acknowledges_only_its_prefix_wildcard(
    synthesized: tuple[cdk.App, dict[str, cdk.Stack], Path],
) -> None:
    found = [
        (construct.node.path, key)
        for construct in synthesized[0].node.find_all()
        if construct.node.path.startswith("RegistryReplica/")
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for key in entry.data
        if "AwsSolutions-" in key
    ]
    assert [
        (path, key.split("::", 1)[-1] if key.startswith(("Annotation::", "AwsSolutions::")) else key)
        for path, key in found
    ] == [
        (
            "RegistryReplica/CreationTemplates/Role/DefaultPolicy/Resource",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/app/*]",
        )
    ]
