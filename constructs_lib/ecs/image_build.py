"""A CodeBuild project on a Graviton (arm64) build image that builds a multi-arch container image.

Slide 9 of the talk: running on Graviton means arm64 images. The project builds natively on
arm64 and, when asked, also for linux/amd64, then pushes a manifest list so one tag runs on both.
Cross-building needs no QEMU when the Dockerfile cross-compiles in a `--platform=$BUILDPLATFORM`
stage (as the sample app's does). buildx's docker-container driver (one-shot multi-platform
builds) would pull moby/buildkit from Docker Hub at every build, so this runs one plain
`docker build --platform` per platform on the build image's own daemon, pushes each, and joins
them in the registry with `docker buildx imagetools create`. Unlike `docker manifest create`,
which refuses sources that are themselves image indexes (what a push from the containerd image
store, Docker 29's default, gives once attestations are attached), imagetools reads and writes
the registry directly and merges indexes, so it works on both image stores. The CodeBuild image
used here ships the buildx plugin (aws/aws-codebuild-docker-images, al/aarch64/standard/3.0/
Dockerfile: DOCKER_BUILDX_VERSION, checked by `docker buildx version` in pre_build).
https://docs.docker.com/reference/cli/docker/buildx/imagetools/create/
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from .._shared.log_key import log_group_arn
from .._shared.nag import acknowledge, nag_text
from .._shared.resources import log_group, rotating_key

SAMPLE_APP_DIR = Path(__file__).resolve().parent / "sample_app"
PLATFORMS = ("linux/arm64", "linux/amd64")


@dataclass(frozen=True)
class MultiArchImageBuildProps:
    """Settings of a `MultiArchImageBuild`."""

    # The repository the image goes to. Tags are never reused (each build pushes
    # `<tag>-arm64`, `<tag>-amd64` and `<tag>`), so it works with immutable tags.
    repository: ecr.IRepository
    # A folder with a Dockerfile; uploaded as a CDK asset and used as the build's source.
    source_dir: Path = SAMPLE_APP_DIR
    # Also build linux/amd64 and push a manifest list under the plain tag. False: arm64 only.
    multi_arch: bool = True
    timeout: cdk.Duration = field(default_factory=lambda: cdk.Duration.minutes(20))
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    # Encrypts build artifacts and logs in S3; None creates a key with rotation on.
    encryption_key: kms.IKey | None = None
    # Encrypts the build's CloudWatch log group; its key policy must admit CloudWatch Logs for
    # the group. None: CloudWatch Logs' own encryption.
    log_encryption_key: kms.IKey | None = None
    # The build log group (and a created key) go with the stack unless told otherwise.
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY


class MultiArchImageBuild(Construct):
    """An arm64 CodeBuild project (privileged, for the Docker daemon) that pushes to `repository`.

    It is started by hand (`start_build_command`): a build at every deploy would add minutes to
    each `cdk deploy`, and nothing in the stack waits for the image.
    Each build tags `build-<CodeBuild build number>` unless IMAGE_TAG is overridden.

    Attributes: `project`, `log_group`, `start_build_command`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: MultiArchImageBuildProps) -> None:
        super().__init__(scope, construct_id)
        if not (props.source_dir / "Dockerfile").is_file():
            raise ValueError(f"source_dir must be a folder with a Dockerfile, got {str(props.source_dir)!r}")
        stack = cdk.Stack.of(self)
        repository = props.repository

        source = s3_assets.Asset(self, "Source", path=str(props.source_dir))
        # The build's own key and log group, laid out as FargateCluster's: different resources.
        key = props.encryption_key or rotating_key(
            self,
            "Key",
            description="Encrypts the image build's artifacts and logs",
            removal_policy=props.removal_policy,
        )
        self.log_group = log_group(
            self,
            "Logs",
            retention=props.log_retention,
            removal_policy=props.removal_policy,
            encryption_key=props.log_encryption_key,
        )
        platforms = PLATFORMS if props.multi_arch else PLATFORMS[:1]

        self.project = codebuild.Project(
            self,
            "Resource",
            description=f"Builds {' and '.join(platforms)} images on Graviton and pushes them to ECR",
            source=codebuild.Source.s3(bucket=source.bucket, path=source.s3_object_key),
            environment=codebuild.BuildEnvironment(
                # https://docs.aws.amazon.com/codebuild/latest/userguide/ec2-compute-images.html
                build_image=codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
                compute_type=codebuild.ComputeType.SMALL,
                # The Docker daemon in the build container needs privileged mode:
                # https://docs.aws.amazon.com/codebuild/latest/userguide/sample-docker.html
                privileged=True,
            ),
            environment_variables={
                # Built from the repository's environment and name rather than `repository_uri`
                # (which splits the ARN): the same value, and no Fn::Split over a cross-stack output.
                "REPOSITORY_URI": codebuild.BuildEnvironmentVariable(
                    value=f"{repository.env.account}.dkr.ecr.{repository.env.region}.{cdk.Aws.URL_SUFFIX}"
                    f"/{repository.repository_name}"
                ),
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=""),
            },
            build_spec=codebuild.BuildSpec.from_object(_build_spec(platforms)),
            encryption_key=key,
            timeout=props.timeout,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group)
            ),
        )
        props.repository.grant_pull_push(self.project)
        self._acknowledge()

        self.start_build_command = (
            f"aws codebuild start-build --region {stack.region} --project-name {self.project.project_name}"
        )

    def _acknowledge(self) -> None:
        """cdk-nag's IAM5 findings on the build role: CDK's grants, each as narrow as its service allows."""
        stack, project = cdk.Stack.of(self), self.project
        assert project.role is not None  # codebuild.Project always creates its role
        codebuild_logs = nag_text(stack, log_group_arn(self, f"/aws/codebuild/{project.project_name}:*"))
        report_groups = nag_text(
            stack,
            stack.format_arn(
                service="codebuild", resource="report-group", resource_name=f"{project.project_name}-*"
            ),
        )
        asset_read = (
            "CDK's read grant on the build's source asset: scoped to the asset's bucket and its one "
            "object key."
        )
        key_use = (
            "CDK's encrypt/decrypt grant on the build's own KMS key (one key ARN), used for its "
            "artifacts and logs."
        )
        acknowledge(
            project.role.node.find_child("DefaultPolicy"),
            {
                "AwsSolutions-IAM5[Resource::*]": "ecr:GetAuthorizationToken has no resource-level "
                "permissions; docker login to the application repository needs it.",
                **{
                    f"AwsSolutions-IAM5[Action::s3:{action}]": asset_read
                    for action in ("GetBucket*", "GetObject*", "List*")
                },
                **{
                    f"AwsSolutions-IAM5[Action::kms:{action}]": key_use
                    for action in ("GenerateDataKey*", "ReEncrypt*")
                },
                f"AwsSolutions-IAM5[Resource::{codebuild_logs}]": "CodeBuild's default log group of this "
                "one project (CDK grants it even when logs go to the project's own group); streams are "
                "named per build.",
                f"AwsSolutions-IAM5[Resource::{report_groups}]": "CodeBuild test report groups of this one "
                "project, named <project>-<report> by CodeBuild.",
            },
        )


def _build_spec(platforms: tuple[str, ...]) -> dict:
    """Build and push one image per platform, then (for several) a manifest list over them."""
    arches = [platform.split("/")[1] for platform in platforms]
    build = []
    for platform, arch in zip(platforms, arches, strict=True):
        build += [
            f'docker build --platform {platform} --tag "$REPOSITORY_URI:$TAG-{arch}" .',
            f'docker push "$REPOSITORY_URI:$TAG-{arch}"',
        ]
    if len(platforms) > 1:
        # One index over the per-platform images, written straight to the registry (no local store).
        build += [
            'docker buildx imagetools create --tag "$REPOSITORY_URI:$TAG" '
            + " ".join(f'"$REPOSITORY_URI:$TAG-{arch}"' for arch in arches),
        ]
    else:
        build += [
            'docker tag "$REPOSITORY_URI:$TAG-arm64" "$REPOSITORY_URI:$TAG"',
            'docker push "$REPOSITORY_URI:$TAG"',
        ]
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "pre_build": {
                "commands": [
                    'TAG="${IMAGE_TAG:-build-$CODEBUILD_BUILD_NUMBER}"',
                    "docker version",
                    "docker buildx version",
                    'aws ecr get-login-password --region "$AWS_REGION"'
                    ' | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"',
                ]
            },
            "build": {"commands": build},
            "post_build": {
                "commands": [
                    'if [ "$CODEBUILD_BUILD_SUCCEEDING" = 1 ]; then echo "pushed $REPOSITORY_URI:$TAG"; fi',
                ]
            },
        },
    }
