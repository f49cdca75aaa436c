"""What both web front ends take (`FrontEndProps`) and how they get their image (`grant_image_pull`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager

from .._shared.nag import acknowledge


@dataclass(frozen=True, kw_only=True)
class FrontEndProps:
    """The settings both front ends share: the image, its port and health check, its environment.

    App Runner and ECS Express Mode both run x86_64 only: give the tag of a linux/amd64 (or
    multi-arch) image.
    """

    repository: ecr.IRepository
    tag: str
    port: int = 8080
    # Answered by the application without touching the data stores, so health checks never
    # wake an auto-paused database.
    health_check_path: str = "/healthz"
    environment: Mapping[str, str] = field(default_factory=dict)
    # Environment variable name to a secret, read by the service's role at start: the value never
    # appears in the template or the service's settings.
    secrets: Mapping[str, secretsmanager.ISecret] = field(default_factory=dict)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY


def grant_image_pull(role: iam.Role, repository: ecr.IRepository) -> None:
    """CDK's pull grant on `repository` to the role that pulls the image, and its one wildcard."""
    repository.grant_pull(role)
    acknowledge(
        role.node.find_child("DefaultPolicy"),
        {
            "AwsSolutions-IAM5[Resource::*]": "ecr:GetAuthorizationToken has no resource-level "
            "permissions; the pull actions themselves are granted on the one repository.",
        },
    )
