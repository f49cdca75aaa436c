"""Pull-through cache rules (ECR Public, Quay, registry.k8s.io, Docker Hub, GHCR), for the ECR talk part.

A pull-through cache rule maps a prefix of the private registry onto an upstream registry: the
first pull of `<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<image>` creates the repository
and copies the image in; later pulls are served from the private registry, and ECR checks the
upstream for a newer image behind the tag at most once every 24 hours.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

# ECR only offers secrets whose name starts with this to a rule, and its service-linked role
# reads only those: https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-secret.html
CREDENTIAL_SECRET_PREFIX = "ecr-pullthroughcache/"

# The pull actions of `ecr.Repository.grant_pull`; ECR adds two more for pull-through cache.
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
# The first pull of an image imports it (BatchImportUpstreamImage) into a repository that the same
# pull creates (CreateRepository): https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html
CACHE_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")

_DOCKER_HUB_HOSTS = ("docker.io", "registry-1.docker.io", "index.docker.io")


@dataclass(frozen=True)
class Upstream:
    """An upstream registry that ECR can cache, as the CreatePullThroughCacheRule API names it."""

    # The `UpstreamRegistry` value of the rule.
    name: str
    # The `UpstreamRegistryUrl` of the rule (API reference, CreatePullThroughCacheRule).
    registry_url: str
    # Registry hosts that image references use for this upstream.
    hosts: tuple[str, ...]
    # Our private registry prefix for it (2 to 30 characters).
    default_prefix: str
    # Docker Hub and GHCR refuse anonymous rules: they need a Secrets Manager secret.
    needs_credentials: bool


# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreatePullThroughCacheRule.html
UPSTREAMS: Mapping[str, Upstream] = {
    u.name: u
    for u in (
        Upstream("ecr-public", "public.ecr.aws", ("public.ecr.aws",), "ecr-public", False),
        Upstream("quay", "quay.io", ("quay.io",), "quay", False),
        Upstream("k8s", "registry.k8s.io", ("registry.k8s.io",), "k8s", False),
        Upstream("docker-hub", "registry-1.docker.io", _DOCKER_HUB_HOSTS, "docker-hub", True),
        Upstream("github-container-registry", "ghcr.io", ("ghcr.io",), "github", True),
    )
}
DEFAULT_UPSTREAMS = ("ecr-public", "quay", "k8s")


class PullThroughCache(Construct):
    """One pull-through cache rule per upstream, and the helpers that consumers pull through.

    By default it caches the three upstreams that need no credentials (ECR Public, Quay and
    registry.k8s.io) under the prefixes `ecr-public/`, `quay/` and `k8s/`. Docker Hub and GitHub
    Container Registry are added by listing them in `upstreams` and passing, in `credentials`, a
    Secrets Manager secret whose name starts with `ecr-pullthroughcache/` and that holds
    `{"username": ..., "accessToken": ...}`. This construct never creates a secret: it only
    references one, so no credential ever appears in a template.

    Every property of `AWS::ECR::PullThroughCacheRule` is create-only and the prefix is its
    identifier: changing an upstream's URL under the same prefix replaces the rule, and
    CloudFormation's create-before-delete then fails on the duplicate prefix. Change the
    prefix too (or remove the upstream, deploy, and add it again).

    Consumers use `image_uri(...)` for the private URI of an upstream image and
    `grant_pull(role, ...)` for the right to pull it (and to fill the cache on a first pull).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        upstreams: Sequence[str] = DEFAULT_UPSTREAMS,
        credentials: Mapping[str, secretsmanager.ISecret] | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        credentials = dict(credentials or {})
        prefixes = dict(prefixes or {})
        for name in [*upstreams, *credentials, *prefixes]:
            if name not in UPSTREAMS:
                known = ", ".join(UPSTREAMS)
                raise ValueError(f"upstreams must be among {known}, got {name!r}")
        if len(set(upstreams)) != len(upstreams):
            raise ValueError(f"upstreams must not repeat an upstream, got {list(upstreams)}")
        for name in list(credentials) + list(prefixes):
            if name not in upstreams:
                raise ValueError(
                    f"credentials and prefixes must name upstreams in use ({list(upstreams)}), got {name!r}"
                )

        self.prefixes: dict[str, str] = {}
        self.rules: dict[str, ecr.CfnPullThroughCacheRule] = {}
        for name in upstreams:
            upstream = UPSTREAMS[name]
            prefix = prefixes.get(name, upstream.default_prefix)
            _check_prefix(prefix)
            if prefix in self.prefixes.values():
                raise ValueError(f"prefixes must differ between upstreams, got {prefix!r} twice")
            secret = credentials.get(name)
            if upstream.needs_credentials and secret is None:
                raise ValueError(
                    f"credentials must hold a {CREDENTIAL_SECRET_PREFIX}... secret for {name!r}, got none"
                )
            if secret is not None:
                _check_secret_name(secret)
            self.rules[name] = ecr.CfnPullThroughCacheRule(
                self,
                _rule_id(name),
                ecr_repository_prefix=prefix,
                upstream_registry=upstream.name,
                upstream_registry_url=upstream.registry_url,
                credential_arn=secret.secret_full_arn if secret is not None else None,
            )
            self.prefixes[name] = prefix

    def image_uri(self, upstream_image: str) -> str:
        """The private registry URI that pulls `upstream_image` through the cache.

        `public.ecr.aws/nginx/nginx:stable` becomes
        `<account>.dkr.ecr.<region>.<url suffix>/ecr-public/nginx/nginx:stable`, built from
        pseudo-parameters so that a consumer stack in the same environment resolves it itself
        (no cross-stack export). Docker Hub official images (`nginx:1`, `docker.io/nginx:1`)
        live under `library/`. Raises ValueError for an image whose upstream has no rule here.
        """
        name, path = self._resolve(upstream_image)
        return (
            f"{cdk.Aws.ACCOUNT_ID}.dkr.ecr.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/{self.prefixes[name]}/{path}"
        )

    def prefix_uri(self, upstream: str) -> str:
        """`<account>.dkr.ecr.<region>.<url suffix>/<prefix>/` of this construct's stack, for `upstream`."""
        stack = cdk.Stack.of(self)
        return f"{stack.account}.dkr.ecr.{stack.region}.{stack.url_suffix}/{self.prefixes[upstream]}/"

    def repository_arn_pattern(self, upstream_image: str) -> str:
        """The ARN pattern of every cached repository of `upstream_image`'s upstream."""
        name, _ = self._resolve(upstream_image)
        prefix = self.prefixes[name]
        return f"arn:{cdk.Aws.PARTITION}:ecr:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:repository/{prefix}/*"

    def grant_pull(self, grantee: iam.IGrantable, upstream_image: str) -> iam.Grant:
        """Let `grantee` pull `upstream_image` through the cache, first pull included.

        Grants the pull actions plus `ecr:BatchImportUpstreamImage` and `ecr:CreateRepository`
        on every repository under the upstream's prefix (the cached repository does not exist
        until the first pull, so it cannot be named more narrowly), and
        `ecr:GetAuthorizationToken`, which has no resource-level permissions.

        No KMS permission is needed even though cached repositories are encrypted with a
        customer managed key: ECR decrypts through the grant it creates on the key for the
        repository, not with the puller's credentials
        (https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html).

        When the grantee lives in another stack, that stack is made to depend on this one, so
        the rules exist before anything tries to pull through them. The two wildcards are
        acknowledged for cdk-nag on the grantee's default policy, with their reasons.
        """
        repositories = self.repository_arn_pattern(upstream_image)
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[*PULL_ACTIONS, *CACHE_ACTIONS],
            resource_arns=[repositories],
        )
        token = iam.Grant.add_to_principal(
            grantee=grantee, actions=["ecr:GetAuthorizationToken"], resource_arns=["*"]
        )
        if isinstance(grantee, Construct):
            consumer = cdk.Stack.of(grantee)
            owner = cdk.Stack.of(self)
            if consumer is not owner:
                consumer.add_stack_dependency(owner, "pulls images through the cache rules")
        self._acknowledge_pull(grantee, upstream_image)
        return grant.combine(token)

    def _acknowledge_pull(self, grantee: iam.IGrantable, upstream_image: str) -> None:
        principal = grantee.grant_principal
        policy = principal.node.try_find_child("DefaultPolicy") if isinstance(principal, Construct) else None
        if policy is None:
            return
        name, _ = self._resolve(upstream_image)
        # As cdk-nag writes the pattern of `repository_arn_pattern` in a finding's id.
        repositories = (
            f"arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/{self.prefixes[name]}/*"
        )
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="ecr:GetAuthorizationToken has no resource-level permissions; it is required to "
                "pull from any private ECR repository.",
            ),
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{repositories}]",
                reason="Pull-through cache: ECR creates the cached repository on the first pull, so the "
                "pull, BatchImportUpstreamImage and CreateRepository grant covers the cache's prefix, not "
                "one name (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html).",
            ),
        )

    def _resolve(self, upstream_image: str) -> tuple[str, str]:
        """(upstream name, repository path with its tag or digest) of an image reference."""
        first, slash, rest = upstream_image.partition("/")
        # Docker's rule: the first component is a registry host only if it looks like one.
        if slash and ("." in first or ":" in first or first == "localhost"):
            host, path = first, rest
        else:
            host, path = "docker.io", upstream_image
        match = _REFERENCE.fullmatch(path)
        if match is None:
            raise ValueError(
                f"upstream_image must be an image reference such as nginx:1, got {upstream_image!r}"
            )
        name = next((u.name for u in UPSTREAMS.values() if host in u.hosts), None)
        if name is None or name not in self.prefixes:
            raise ValueError(
                f"upstream_image must come from an upstream with a cache rule ({', '.join(self.prefixes)}),"
                f" got {upstream_image!r}"
            )
        if name == "docker-hub" and "/" not in match.group("repository"):
            path = f"library/{path}"
        return name, path


# repository[:tag][@digest], with the repository name grammar of the OCI distribution spec.
_REFERENCE = re.compile(
    r"(?P<repository>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Fa-f0-9]{32,})?"
)


def _check_prefix(prefix: str) -> None:
    # CreatePullThroughCacheRule: 2 to 30 characters of a repository-name-like string.
    pattern = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"
    if not (2 <= len(prefix) <= 30 and re.fullmatch(pattern, prefix)):
        raise ValueError(
            f"prefixes must be 2 to 30 lowercase characters of a repository name, got {prefix!r}"
        )


def _check_secret_name(secret: secretsmanager.ISecret) -> None:
    name = secret.secret_name
    if not cdk.Token.is_unresolved(name) and not name.startswith(CREDENTIAL_SECRET_PREFIX):
        raise ValueError(f"credentials must be secrets named {CREDENTIAL_SECRET_PREFIX}..., got {name!r}")
    # A secret imported by name has only a partial ARN (no random suffix), which would go into
    # the rule's CredentialArn; nothing documents that ECR resolves one.
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreatePullThroughCacheRule.html
    if secret.secret_full_arn is None:
        raise ValueError(
            "credentials must be secrets with a complete ARN (Secret.from_secret_complete_arn or a "
            f"Secret of this app), got a partial ARN for {name!r}"
        )


def _rule_id(upstream: str) -> str:
    """`github-container-registry` -> `GithubContainerRegistry`."""
    return "".join(part.capitalize() for part in upstream.split("-"))
