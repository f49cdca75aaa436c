"""The Registry stack's template, feature by feature (default sandbox settings unless stated)."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Capture, Match, Template

from constructs_lib.ecr import CleanupTarget, CreatedRepositoryCleanup, EnhancedScanning
from stacks.config import load_config
from stacks.registry_stack import RegistryStack
from tests.helpers import logical_id
from tests.registry.conftest import make_registry, repository_arn

# Complete ARNs of existing secrets (Secrets Manager appends six random characters to a name).
SECRETS = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:ecr-pullthroughcache/"


@pytest.fixture(scope="module")
def stack() -> RegistryStack:
    return make_registry()


@pytest.fixture(scope="module")
def template(stack: RegistryStack) -> Template:
    return Template.from_stack(stack)


# Every setting the tests change from the default, in one stack synthesized once: the tests of
# different settings read the parts of the template their setting decides.
VARIANT = {
    "scanning": {
        "continuous_filters": ["app/*", "team-*/api"],
        "scan_on_push_filters": [],
        "retain_on_delete": True,
    },
    "findings": {"minimum_severity": "MEDIUM", "email": "security@example.com"},
    "pull_through_cache": {
        "upstreams": ["ecr-public", "docker-hub", "github-container-registry"],
        "credentials": {
            "docker-hub": f"{SECRETS}docker-hub-AbC123",
            "github-container-registry": f"{SECRETS}ghcr-AbC123",
        },
    },
    "replication": {"enabled": False},
}


@pytest.fixture(scope="module")
def variant() -> RegistryStack:
    """VARIANT with the production removal policy (retain)."""
    return make_registry(VARIANT, removal_policy="retain")


@pytest.fixture(scope="module")
def variant_template(variant: RegistryStack) -> Template:
    return Template.from_stack(variant)


def ref_arn(stack: cdk.Stack, key: kms.Key) -> dict:
    return {"Fn::GetAtt": [logical_id(key.node.default_child), "Arn"]}


# --- 1. enhanced scanning --------------------------------------------------------------------


def test_scanning_is_enhanced_with_continuous_rule_for_app_and_on_push_for_the_rest(
    template: Template,
) -> None:
    template.resource_count_is("AWS::ECR::RegistryScanningConfiguration", 1)
    template.has_resource_properties(
        "AWS::ECR::RegistryScanningConfiguration",
        {
            "ScanType": "ENHANCED",
            "Rules": [
                {
                    "ScanFrequency": "CONTINUOUS_SCAN",
                    "RepositoryFilters": [{"Filter": "app/*", "FilterType": "WILDCARD"}],
                },
                {
                    "ScanFrequency": "SCAN_ON_PUSH",
                    "RepositoryFilters": [{"Filter": "*", "FilterType": "WILDCARD"}],
                },
            ],
        },
    )


def test_scanning_filters_come_from_configuration(variant_template: Template) -> None:
    variant_template.has_resource_properties(
        "AWS::ECR::RegistryScanningConfiguration",
        {
            "Rules": [
                {
                    "ScanFrequency": "CONTINUOUS_SCAN",
                    "RepositoryFilters": [
                        {"Filter": "app/*", "FilterType": "WILDCARD"},
                        {"Filter": "team-*/api", "FilterType": "WILDCARD"},
                    ],
                }
            ]
        },
    )


# --- 2. findings reach people ----------------------------------------------------------------


def test_inspector_findings_on_ecr_images_at_high_or_above_go_to_the_topic(
    stack: RegistryStack, template: Template
) -> None:
    target = Capture()
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.inspector2"],
                "detail-type": ["Inspector2 Finding"],
                "detail": {
                    "severity": ["HIGH", "CRITICAL"],
                    "status": ["ACTIVE"],
                    "resources": {"type": ["AWS_ECR_CONTAINER_IMAGE"]},
                },
            },
            "State": "ENABLED",
            "Targets": [{"Arn": target, "Id": Match.any_value()}],
        },
    )
    assert target.as_object() == {"Ref": logical_id(stack.findings.topic.node.default_child)}


def test_findings_topic_is_encrypted_with_a_rotated_key_that_eventbridge_may_use(
    stack: RegistryStack, template: Template
) -> None:
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": ref_arn(stack, stack.findings.key)}
    )
    key = template.to_json()["Resources"][logical_id(stack.findings.key.node.default_child)]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Resource": "*",
    } in key["Properties"]["KeyPolicy"]["Statement"]
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sns:Publish",
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        Match.object_like(
                            {
                                "Action": "sns:Publish",
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                            }
                        ),
                    ]
                )
            }
        },
    )


def test_no_email_subscription_unless_configured(template: Template) -> None:
    template.resource_count_is("AWS::SNS::Subscription", 0)


def test_configured_email_and_severity_reach_the_template(variant_template: Template) -> None:
    variant_template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "security@example.com"}
    )
    variant_template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {"detail": Match.object_like({"severity": ["MEDIUM", "HIGH", "CRITICAL"]})}
            )
        },
    )


# --- 3. pull-through cache rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "upstream", "url"),
    [
        ("ecr-public", "ecr-public", "public.ecr.aws"),
        ("quay", "quay", "quay.io"),
        ("k8s", "k8s", "registry.k8s.io"),
    ],
)
def test_anonymous_upstreams_are_cached_without_credentials(
    template: Template, prefix: str, upstream: str, url: str
) -> None:
    template.has_resource_properties(
        "AWS::ECR::PullThroughCacheRule",
        {
            "EcrRepositoryPrefix": prefix,
            "UpstreamRegistry": upstream,
            "UpstreamRegistryUrl": url,
            "CredentialArn": Match.absent(),
        },
    )


def test_only_the_three_anonymous_upstreams_by_default(template: Template) -> None:
    template.resource_count_is("AWS::ECR::PullThroughCacheRule", 3)
    template.resource_count_is("AWS::SecretsManager::Secret", 0)


def test_docker_hub_and_ghcr_use_the_given_secrets_and_no_secret_is_created(
    variant_template: Template,
) -> None:
    template = variant_template
    template.resource_count_is("AWS::SecretsManager::Secret", 0)
    for prefix, upstream, url, name in [
        ("docker-hub", "docker-hub", "registry-1.docker.io", "ecr-pullthroughcache/docker-hub"),
        ("github", "github-container-registry", "ghcr.io", "ecr-pullthroughcache/ghcr"),
    ]:
        template.has_resource_properties(
            "AWS::ECR::PullThroughCacheRule",
            {
                "EcrRepositoryPrefix": prefix,
                "UpstreamRegistry": upstream,
                "UpstreamRegistryUrl": url,
                "CredentialArn": f"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:{name}-AbC123",
            },
        )


# --- 4. creation templates --------------------------------------------------------------------

EXPECTED_LIFECYCLE = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Expire untagged images 7 days after push",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": "Keep only the 30 newest images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
            "action": {"type": "expire"},
        },
    ]
}


@pytest.mark.parametrize("prefix", ["ecr-public", "quay", "k8s"])
def test_cached_repositories_get_kms_lifecycle_mutable_tags_and_the_custom_role(
    stack: RegistryStack, template: Template, prefix: str
) -> None:
    lifecycle = Capture()
    template.has_resource_properties(
        "AWS::ECR::RepositoryCreationTemplate",
        {
            "Prefix": prefix,
            "AppliedFor": ["PULL_THROUGH_CACHE"],
            "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": ref_arn(stack, stack.key)},
            "ImageTagMutability": "MUTABLE",
            "CustomRoleArn": {"Fn::GetAtt": [logical_id(stack.templates.role.node.default_child), "Arn"]},
            "LifecyclePolicy": lifecycle,
        },
    )
    assert json.loads(lifecycle.as_string()) == EXPECTED_LIFECYCLE


def test_source_region_has_no_replication_template(template: Template) -> None:
    # Replicas are created in the destination registry, whose own templates shape them
    # (the RegistryReplica stack); a REPLICATION template here would never apply.
    templates = template.find_resources("AWS::ECR::RepositoryCreationTemplate")
    assert [t["Properties"]["AppliedFor"] for t in templates.values()] == [["PULL_THROUGH_CACHE"]] * 3


def test_template_key_rotates(stack: RegistryStack, template: Template) -> None:
    key = template.to_json()["Resources"][logical_id(stack.key.node.default_child)]
    assert key["Properties"]["EnableKeyRotation"] is True


def test_template_role_is_trusted_by_ecr_with_only_the_documented_actions(
    stack: RegistryStack, template: Template
) -> None:
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "ecr.amazonaws.com"},
                    }
                ],
                "Version": "2012-10-17",
            }
        },
    )
    policy = template.to_json()["Resources"][
        logical_id(stack.templates.role.node.find_child("DefaultPolicy").node.default_child)
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"],
            "Effect": "Allow",
            "Resource": [repository_arn(f"{p}/*") for p in ("ecr-public", "k8s", "quay")],
        },
        {
            "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"],
            "Effect": "Allow",
            "Resource": ref_arn(stack, stack.key),
        },
    ]


# --- 5. replication ---------------------------------------------------------------------------


def test_replication_goes_to_osaka_for_the_app_prefix(template: Template) -> None:
    template.resource_count_is("AWS::ECR::ReplicationConfiguration", 1)
    template.has_resource_properties(
        "AWS::ECR::ReplicationConfiguration",
        {
            "ReplicationConfiguration": {
                "Rules": [
                    {
                        "Destinations": [
                            {"Region": "ap-northeast-3", "RegistryId": {"Ref": "AWS::AccountId"}}
                        ],
                        "RepositoryFilters": [{"Filter": "app/", "FilterType": "PREFIX_MATCH"}],
                    }
                ]
            }
        },
    )


def test_replication_can_be_switched_off(variant_template: Template) -> None:
    variant_template.resource_count_is("AWS::ECR::ReplicationConfiguration", 0)
    # One creation template per cached upstream (three in VARIANT), none for a replication prefix.
    variant_template.resource_count_is("AWS::ECR::RepositoryCreationTemplate", 3)


# --- 6. application repository ----------------------------------------------------------------


def test_app_repository_is_kms_encrypted_immutable_with_lifecycle(
    stack: RegistryStack, template: Template
) -> None:
    lifecycle = Capture()
    template.has_resource_properties(
        "AWS::ECR::Repository",
        {
            "RepositoryName": "app/web",
            "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": ref_arn(stack, stack.key)},
            "ImageTagMutability": "IMMUTABLE",
            "LifecyclePolicy": {"LifecyclePolicyText": lifecycle},
        },
    )
    rules = json.loads(lifecycle.as_string())["rules"]
    assert [
        (r["selection"]["tagStatus"], r["selection"]["countType"], r["selection"]["countNumber"])
        for r in rules
    ] == [
        ("untagged", "sinceImagePushed", 7),
        ("any", "imageCountMoreThan", 30),
    ]


def test_sandbox_destroys_the_app_repository_with_its_images(
    stack: RegistryStack, template: Template
) -> None:
    resource = template.to_json()["Resources"][logical_id(stack.app_repository.node.default_child)]
    assert resource["DeletionPolicy"] == "Delete"
    assert resource["Properties"]["EmptyOnDelete"] is True


def test_production_retains_the_app_repository_and_keys(
    variant: RegistryStack, variant_template: Template
) -> None:
    stack = variant
    resources = variant_template.to_json()["Resources"]
    repository = resources[logical_id(stack.app_repository.node.default_child)]
    assert repository["DeletionPolicy"] == "Retain"
    assert "EmptyOnDelete" not in repository["Properties"]
    for key in (stack.key, stack.findings.key):
        assert resources[logical_id(key.node.default_child)]["DeletionPolicy"] == "Retain"
    assert not any(r["Type"] == "Custom::CreatedRepositoryCleanup" for r in resources.values())


def test_stateful_logical_ids_are_pinned(stack: RegistryStack) -> None:
    # Renaming any of these replaces a key or a repository (and loses its images).
    assert logical_id(stack.key.node.default_child) == "RepositoryKey0F9BF672"
    assert logical_id(stack.app_repository.node.default_child) == "AppRepositoryB584A693"
    assert logical_id(stack.findings.key.node.default_child) == "FindingsKeyC72F54EF"


# --- teardown ---------------------------------------------------------------------------------


def test_sandbox_deletes_cached_and_replicated_repositories_before_rules_and_key(
    stack: RegistryStack, template: Template
) -> None:
    resources = template.to_json()["Resources"]
    cleanup = resources[logical_id(stack.cleanup.resource.node.default_child)]
    assert cleanup["Type"] == "Custom::CreatedRepositoryCleanup"
    assert cleanup["Properties"]["Targets"] == [
        {"Region": "ap-northeast-1", "Prefix": "ecr-public/"},
        {"Region": "ap-northeast-1", "Prefix": "quay/"},
        {"Region": "ap-northeast-1", "Prefix": "k8s/"},
        {"Region": "ap-northeast-3", "Prefix": "app/"},
    ]
    # DependsOn: CloudFormation deletes the cleanup before what it depends on.
    depends_on = set(cleanup["DependsOn"])
    for construct in [*stack.pull_through_cache.rules.values(), stack.key.node.default_child]:
        assert logical_id(construct) in depends_on
    assert stack.replication is not None
    assert logical_id(stack.replication.configuration) in depends_on


def test_cleanup_role_lists_deletes_under_the_prefixes_retires_grants_and_reads_its_stack(
    stack: RegistryStack, template: Template
) -> None:
    role = stack.cleanup.function.role
    assert role is not None
    policy = template.to_json()["Resources"][
        logical_id(role.node.find_child("DefaultPolicy").node.default_child)
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements[0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statements[1:] == [
        {
            "Action": "ecr:DescribeRepositories",
            "Effect": "Allow",
            "Resource": [repository_arn("*", "ap-northeast-1"), repository_arn("*", "ap-northeast-3")],
        },
        {
            "Action": "ecr:DeleteRepository",
            "Effect": "Allow",
            "Resource": [
                repository_arn("ecr-public/*", "ap-northeast-1"),
                repository_arn("k8s/*", "ap-northeast-1"),
                repository_arn("quay/*", "ap-northeast-1"),
                repository_arn("app/*", "ap-northeast-3"),
            ],
        },
        # Deleting a KMS-encrypted repository needs kms:RetireGrant (ECR encryption-at-rest,
        # "Required IAM permissions"): on this stack's key for the caches ...
        {"Action": "kms:RetireGrant", "Effect": "Allow", "Resource": ref_arn(stack, stack.key)},
        # ... and, for the replicas, on keys of the destination region used through ECR only.
        {
            "Action": "kms:RetireGrant",
            "Condition": {"StringEquals": {"kms:ViaService": "ecr.ap-northeast-3.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":kms:ap-northeast-3:",
                        {"Ref": "AWS::AccountId"},
                        ":key/*",
                    ],
                ]
            },
        },
        # Its own stack only: it deletes only while that stack is DELETE_IN_PROGRESS.
        {"Action": "cloudformation:DescribeStacks", "Effect": "Allow", "Resource": {"Ref": "AWS::StackId"}},
    ]


def test_cleanup_answers_within_minutes_even_if_its_function_dies(
    stack: RegistryStack, template: Template
) -> None:
    resources = template.to_json()["Resources"]
    cleanup = resources[logical_id(stack.cleanup.resource.node.default_child)]
    function = resources[logical_id(stack.cleanup.function.node.default_child)]
    # CloudFormation gives up after ServiceTimeout (seconds) instead of an hour; the function's
    # own timeout is shorter, so a run that ends normally always answers first.
    assert cleanup["Properties"]["ServiceTimeout"] == "420"
    assert function["Properties"]["Timeout"] == 300
    assert int(cleanup["Properties"]["ServiceTimeout"]) > function["Properties"]["Timeout"]
    # A dead run is not retried behind CloudFormation's back.
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": logical_id(stack.cleanup.function.node.default_child)},
            "MaximumRetryAttempts": 0,
        },
    )


def test_a_cleanup_key_in_another_region_is_refused() -> None:
    app = cdk.App()
    scope = cdk.Stack(app, "S", env=cdk.Environment(account="123456789012", region="ap-northeast-1"))
    key = kms.Key(scope, "Key")
    with pytest.raises(
        ValueError, match=r"^encryption_key must be in the stack's region .*'ap-northeast-3'$"
    ):
        CreatedRepositoryCleanup(
            scope, "Cleanup", targets=[CleanupTarget("app/", region="ap-northeast-3", encryption_key=key)]
        )


# --- scanning teardown ------------------------------------------------------------------------


def test_sandbox_destroy_deletes_the_scanning_configuration_back_to_basic(
    stack: RegistryStack, template: Template
) -> None:
    resource = template.to_json()["Resources"][logical_id(stack.scanning.configuration)]
    assert resource["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize("removal_policy", ["destroy", "retain"])
def test_retain_on_delete_keeps_scanning_and_never_calls_inspector_disable(
    removal_policy: str, variant: RegistryStack, variant_template: Template
) -> None:
    # Independent of the stage's removal policy: an Organization member account may not
    # deactivate Inspector, so deleting the resource would fail the stack delete.
    if removal_policy == "retain":
        stack, template = variant, variant_template
    else:
        stack = make_registry({"scanning": {"retain_on_delete": True}}, removal_policy=removal_policy)
        template = Template.from_stack(stack)
    resource = template.to_json()["Resources"][logical_id(stack.scanning.configuration)]
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_production_yaml_retains_the_scanning_configuration_and_sandbox_does_not() -> None:
    assert load_config(stage="production").registry.scanning.retain_on_delete is True
    assert load_config(stage="sandbox").registry.scanning.retain_on_delete is False


def test_scanning_removal_policy_must_be_destroy_or_retain() -> None:
    scope = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match=r"^removal_policy must be DESTROY or RETAIN, got "):
        EnhancedScanning(scope, "Scanning", removal_policy=cdk.RemovalPolicy.SNAPSHOT)


def test_a_full_secret_arn_is_used_as_given(variant_template: Template) -> None:
    arn = f"{SECRETS}docker-hub-AbC123"
    variant_template.has_resource_properties(
        "AWS::ECR::PullThroughCacheRule", {"EcrRepositoryPrefix": "docker-hub", "CredentialArn": arn}
    )
