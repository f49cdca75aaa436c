"""Stand-ins for the Registry stack's objects, so the EcsFargate stack is tested on its own."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from cdk_nag import AwsSolutionsChecks

from constructs_lib.network import DualStackVpc
from stacks.config import AppConfig
from stacks.ecs_fargate_stack import EcsFargateStack
from stacks.stage import StageSettings

ROOT = Path(__file__).resolve().parents[2]
CDK_CONTEXT: dict[str, object] = json.loads((ROOT / "cdk.json").read_text())["context"]
CACHE_PREFIX = "ecr-public"


class FakePullThroughCache:
    """The two methods of `constructs_lib.ecr.PullThroughCache` that the stack uses, for ECR Public."""

    def __init__(self) -> None:
        self.granted: list[tuple[iam.IGrantable, str]] = []

    def image_uri(self, upstream_image: str) -> str:
        path = upstream_image.removeprefix("public.ecr.aws/")
        return f"{cdk.Aws.ACCOUNT_ID}.dkr.ecr.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/{CACHE_PREFIX}/{path}"

    def grant_pull(self, grantee: iam.IGrantable, upstream_image: str) -> iam.Grant:
        self.granted.append((grantee, upstream_image))
        repositories = (
            f"arn:{cdk.Aws.PARTITION}:ecr:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:repository/{CACHE_PREFIX}/*"
        )
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchImportUpstreamImage",
                "ecr:CreateRepository",
            ],
            resource_arns=[repositories],
        )
        token = iam.Grant.add_to_principal(
            grantee=grantee, actions=["ecr:GetAuthorizationToken"], resource_arns=["*"]
        )
        # Like the real cache, which owns the reasons for its two wildcards.
        principal = grantee.grant_principal
        assert isinstance(principal, iam.Role)
        policy = principal.node.find_child("DefaultPolicy")
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]", reason="GetAuthorizationToken (stand-in)"
            ),
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:"
                f"repository/{CACHE_PREFIX}/*]",
                reason="The cache's prefix (stand-in)",
            ),
        )
        return grant.combine(token)


def build_app(
    config: AppConfig, *, outdir: str | None = None, nag: bool = False
) -> tuple[cdk.App, EcsFargateStack, FakePullThroughCache]:
    """An app with a VPC stack, a repository stack and the EcsFargate stack (not yet synthesized).

    With `nag`, cdk-nag's AwsSolutions pack runs at synth and writes policy-validation-report.json.
    """
    context = {**CDK_CONTEXT, "@aws-cdk/core:validationReportJson": True} if nag else dict(CDK_CONTEXT)
    app = cdk.App(context=context, outdir=outdir)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    env = cdk.Environment(region=config.region)
    network = cdk.Stack(app, "Network", env=env)
    vpc = DualStackVpc(network, "Vpc").vpc
    registry = cdk.Stack(app, "Registry", env=env)
    repository = ecr.Repository(
        registry,
        "AppRepository",
        encryption=ecr.RepositoryEncryption.KMS,
        encryption_key=kms.Key(registry, "Key", enable_key_rotation=True),
        image_tag_mutability=ecr.TagMutability.IMMUTABLE,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        empty_on_delete=False,
    )
    cache = FakePullThroughCache()
    stack = EcsFargateStack(
        app,
        "EcsFargate",
        env=env,
        vpc=vpc,
        pull_through_cache=cache,
        app_repository=repository,
        config=config.ecs,
        settings=StageSettings.of(config),
    )
    return app, stack, cache
