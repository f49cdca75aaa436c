"""What consumers (the ECS and EKS stacks) get from the cache: image URIs and pull grants."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_lib.ecr import PullThroughCache
from stacks.registry_stack import RegistryStack
from tests.helpers import intrinsics, logical_id
from tests.registry.conftest import CDK_CONTEXT, ENV, make_registry, repository_arn

# Complete ARNs of existing secrets (Secrets Manager appends six random characters to a name).
SECRETS = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:ecr-pullthroughcache/"

ACCOUNT_REGION = [
    {"Ref": "AWS::AccountId"},
    ".dkr.ecr.",
    {"Ref": "AWS::Region"},
    ".",
    {"Ref": "AWS::URLSuffix"},
]


@pytest.fixture(scope="module")
def apps() -> tuple[RegistryStack, cdk.Stack, iam.Role]:
    """The Registry stack and a consumer stack in the same app, with a role granted a pull."""
    app = cdk.App(context=CDK_CONTEXT)
    registry = make_registry(
        {
            "pull_through_cache": {
                "upstreams": ["ecr-public", "quay", "k8s", "docker-hub"],
                "credentials": {"docker-hub": f"{SECRETS}docker-hub-AbC123"},
            }
        },
        app=app,
    )
    consumer = cdk.Stack(app, "Consumer", env=ENV)
    role = iam.Role(consumer, "ExecutionRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    registry.pull_through_cache.grant_pull(role, "public.ecr.aws/nginx/nginx:stable")
    return registry, consumer, role


def uri(stack: cdk.Stack, cache: PullThroughCache, image: str) -> object:
    return stack.resolve(cache.image_uri(image))


@pytest.mark.parametrize(
    ("image", "path"),
    [
        ("public.ecr.aws/nginx/nginx:stable", "/ecr-public/nginx/nginx:stable"),
        ("quay.io/prometheus/node-exporter:v1.8.2", "/quay/prometheus/node-exporter:v1.8.2"),
        ("registry.k8s.io/pause:3.10", "/k8s/pause:3.10"),
        ("nginx:1", "/docker-hub/library/nginx:1"),
        ("docker.io/nginx:1", "/docker-hub/library/nginx:1"),
        ("docker.io/library/nginx:1", "/docker-hub/library/nginx:1"),
        ("bitnami/redis:7.4", "/docker-hub/bitnami/redis:7.4"),
        (
            "public.ecr.aws/docker/library/busybox@sha256:" + "a" * 64,
            "/ecr-public/docker/library/busybox@sha256:" + "a" * 64,
        ),
    ],
)
def test_image_uri_maps_upstream_images_under_their_prefix(
    apps: tuple[RegistryStack, cdk.Stack, iam.Role], image: str, path: str
) -> None:
    registry, consumer, _ = apps
    # Resolved in the consumer stack: its own pseudo-parameters, no cross-stack export.
    assert uri(consumer, registry.pull_through_cache, image) == {"Fn::Join": ["", [*ACCOUNT_REGION, path]]}


@pytest.mark.parametrize(
    "image",
    ["ghcr.io/org/app:1", "mcr.microsoft.com/dotnet/runtime:8.0", "Nginx:1", "public.ecr.aws/", ""],
)
def test_image_uri_refuses_images_without_a_rule(
    apps: tuple[RegistryStack, cdk.Stack, iam.Role], image: str
) -> None:
    registry, _, _ = apps
    with pytest.raises(ValueError, match=r"^upstream_image must .*got") as error:
        registry.pull_through_cache.image_uri(image)
    assert "\n" not in str(error.value)


def test_grant_pull_allows_the_cache_and_pull_actions_on_the_prefix_only(
    apps: tuple[RegistryStack, cdk.Stack, iam.Role],
) -> None:
    _, consumer, role = apps
    policy = Template.from_stack(consumer).to_json()["Resources"][
        logical_id(role.node.find_child("DefaultPolicy"))
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:BatchImportUpstreamImage",
                "ecr:CreateRepository",
                "ecr:GetDownloadUrlForLayer",
            ],
            "Effect": "Allow",
            "Resource": repository_arn("ecr-public/*"),
        },
        {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"},
    ]


def test_grant_pull_makes_the_consumer_deploy_after_the_registry(
    apps: tuple[RegistryStack, cdk.Stack, iam.Role],
) -> None:
    registry, consumer, _ = apps
    assert registry in consumer.dependencies
    # ... without any cross-stack reference.
    assert not intrinsics(Template.from_stack(consumer).to_json()) & {"Fn::ImportValue", "Fn::GetStackOutput"}


def test_grant_pull_refuses_an_image_without_a_rule(apps: tuple[RegistryStack, cdk.Stack, iam.Role]) -> None:
    registry, _, role = apps
    with pytest.raises(ValueError, match="upstream_image must come from an upstream with a cache rule"):
        registry.pull_through_cache.grant_pull(role, "ghcr.io/org/app:1")


def test_docker_hub_grant_names_the_docker_hub_prefix(
    apps: tuple[RegistryStack, cdk.Stack, iam.Role],
) -> None:
    registry, consumer, _ = apps
    assert consumer.resolve(registry.pull_through_cache.repository_arn_pattern("redis:7"))["Fn::Join"][1][
        -1
    ] == (":repository/docker-hub/*")
