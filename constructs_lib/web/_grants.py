"""Helpers of the web front ends: resources that live in another stack (secret, repository), and the
environment both services hand their container."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

Pair = TypeVar("Pair")


def grant_secret_read(role: iam.IRole, secret: secretsmanager.ISecret) -> None:
    """What `secret.grant_read(role)` grants, in the role's policy alone.

    With a customer-managed key, CDK's grant also writes the role into the key's policy (its
    `ViaServicePrincipal` names no account), so the secret's stack would come to depend on the
    role's: a cycle, and the data stores could no longer outlive a front end. The key's default
    policy already lets the account's IAM policies decide, so the role's policy is enough.
    """
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            resources=[secret.secret_arn],
        )
    )
    if secret.encryption_key is not None:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[secret.encryption_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"secretsmanager.{cdk.Stack.of(role).region}.{cdk.Aws.URL_SUFFIX}"
                    }
                },
            )
        )


def image_uri(repository: ecr.IRepository, tag: str) -> str:
    """`<account>.dkr.ecr.<region>.<suffix>/<name>:<tag>`, built from the repository's environment and name.

    The same value as `repository.repository_uri_for_tag(tag)`, without splitting the repository's
    ARN: across stacks that would be an Fn::Split over another stack's output.
    """
    return (
        f"{repository.env.account}.dkr.ecr.{repository.env.region}.{cdk.Aws.URL_SUFFIX}"
        f"/{repository.repository_name}:{tag}"
    )


def name_value_pairs(values: Mapping[str, str], pair: Callable[..., Pair]) -> list[Pair] | None:
    """`pair(name=..., value=...)` for each entry of `values`, or None (property left out) for none."""
    return [pair(name=name, value=value) for name, value in values.items()] or None


def secret_arns(secrets: Mapping[str, secretsmanager.ISecret]) -> dict[str, Any]:
    """Each environment variable's secret by ARN: the service reads the value with its role at start,
    so the value never appears in the template or the service's settings."""
    return {name: secret.secret_arn for name, secret in secrets.items()}
