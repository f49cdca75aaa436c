"""Configuration of the Registry stack: ECR scanning, pull-through cache, templates, replication."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from constructs_lib._shared.notifications import EMAIL_PATTERN
from constructs_lib.ecr import CREDENTIAL_SECRET_PREFIX, SEVERITIES, UPSTREAMS
from constructs_lib.ecr.scanning import SCAN_FILTER_PATTERN
from stacks.config.common import REGION_PATTERN
from stacks.config.loader import fail, setting

# A private repository name (CreateRepository), and a replication prefix (PREFIX_MATCH filter).
REPOSITORY_NAME = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
REPLICATION_PREFIX = r"(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*"
SECRET_NAME = r"ecr-pullthroughcache/[A-Za-z0-9/_+=.@-]+"
# The complete ARN: Secrets Manager appends a hyphen and six random characters to the name.
SECRET_ARN = r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:" + SECRET_NAME + r"-[A-Za-z0-9]{6}"
SECRET_ARN_EXAMPLE = "arn:aws:secretsmanager:<region>:<account>:secret:ecr-pullthroughcache/<name>-AbCdEf"


@dataclass(frozen=True)
class ScanningConfig:
    """Enhanced scanning rules; filters are repository names with `*` wildcards."""

    # Scanned on push and rescanned whenever Inspector learns of a new vulnerability. Inspector
    # bills every rescan: list only the repositories you deploy from.
    continuous_filters: tuple[str, ...] = setting(
        ("app/*",), pattern=SCAN_FILTER_PATTERN, example="app/*", max_items=100, max_length=255
    )
    # Scanned once, on push (cached upstream images included).
    scan_on_push_filters: tuple[str, ...] = setting(
        ("*",), pattern=SCAN_FILTER_PATTERN, example="team-*/web", max_items=100, max_length=255
    )
    # false: destroying the stack returns the registry to basic scanning (CloudFormation disables
    # Inspector for the account). true: the stack delete leaves scanning as it is; required in a
    # member account of an AWS Organization, which may not deactivate Inspector (the delete fails).
    retain_on_delete: bool = False


@dataclass(frozen=True)
class FindingsConfig:
    """Where Inspector findings on ECR images go."""

    minimum_severity: str = setting("HIGH", choices=SEVERITIES)
    # Subscribed to the findings topic (AWS sends a confirmation mail first); none by default.
    email: str | None = setting(None, pattern=EMAIL_PATTERN, example="you@example.com")


@dataclass(frozen=True)
class PullThroughCacheConfig:
    """Upstream registries cached in the private registry."""

    upstreams: tuple[str, ...] = setting(("ecr-public", "quay", "k8s"), choices=tuple(UPSTREAMS))
    # Upstream -> complete ARN of an existing Secrets Manager secret `ecr-pullthroughcache/...`
    # holding {"username": ..., "accessToken": ...}; required for docker-hub and
    # github-container-registry. The stack never creates it, so no credential enters a template.
    # A name alone would become a partial ARN (no random suffix) in the cache rule, and nothing
    # documents that ECR resolves one; the ARN is one `aws secretsmanager describe-secret` away.
    credentials: Mapping[str, str] = field(default_factory=dict)

    def check(self, path: str) -> None:
        for upstream, secret_arn in self.credentials.items():
            if upstream not in self.upstreams:
                fail(f"{path}.credentials", f"must name upstreams listed in {path}.upstreams", upstream)
            if re.fullmatch(SECRET_NAME, secret_arn):
                fail(
                    f"{path}.credentials.{upstream}",
                    "must be the secret's complete ARN, such as "
                    f"{SECRET_ARN_EXAMPLE} (aws secretsmanager describe-secret --secret-id {secret_arn} "
                    "--query ARN), not its name",
                    secret_arn,
                )
            if not re.fullmatch(SECRET_ARN, secret_arn):
                fail(
                    f"{path}.credentials.{upstream}",
                    f"must be the complete ARN of a secret named {CREDENTIAL_SECRET_PREFIX}..., such as "
                    f"{SECRET_ARN_EXAMPLE}",
                    secret_arn,
                )
        for upstream in self.upstreams:
            if UPSTREAMS[upstream].needs_credentials and upstream not in self.credentials:
                fail(
                    f"{path}.credentials.{upstream}",
                    f"must name a {CREDENTIAL_SECRET_PREFIX}... secret by its complete ARN",
                    None,
                )
        if len(set(self.upstreams)) != len(self.upstreams):
            fail(f"{path}.upstreams", "must not repeat an upstream", list(self.upstreams))


@dataclass(frozen=True)
class LifecycleConfig:
    """Lifecycle of the application repository and of repositories made from creation templates."""

    untagged_expiry_days: int = setting(7, minimum=1, maximum=365)
    keep_last_images: int = setting(30, minimum=1, maximum=1000)


@dataclass(frozen=True)
class ReplicationConfig:
    """Cross-region replication of the private registry (same account)."""

    enabled: bool = True
    destination_region: str = setting("ap-northeast-3", pattern=REGION_PATTERN)
    # Plain string prefixes of repository names: `app/` matches `app/web`.
    repository_prefixes: tuple[str, ...] = setting(
        ("app/",), pattern=REPLICATION_PREFIX, example="app/", max_items=100, min_length=2, max_length=256
    )

    @property
    def template_prefixes(self) -> tuple[str, ...]:
        """Creation-template prefixes of the replicas: the `repository_prefixes` that end in `/`.

        A template prefix names a namespace (`app` covers `app/...`); a replication prefix
        without the slash (`app` also matches `apple`) has no template that covers it exactly.
        """
        return tuple(prefix.rstrip("/") for prefix in self.repository_prefixes if prefix.endswith("/"))

    def check(self, path: str) -> None:
        if self.enabled and not self.repository_prefixes:
            fail(f"{path}.repository_prefixes", "must list a prefix when replication is enabled", [])
        if len(set(self.repository_prefixes)) != len(self.repository_prefixes):
            fail(f"{path}.repository_prefixes", "must not repeat a prefix", list(self.repository_prefixes))


@dataclass(frozen=True)
class RegistryConfig:
    """ECR's registry-wide features (one owner per account and region)."""

    enabled: bool = True
    # The repository the EcsFargate stack's image build pushes into (CreateRepository: 2 to 256
    # characters).
    application_repository: str = setting("app/web", pattern=REPOSITORY_NAME, min_length=2, max_length=256)
    scanning: ScanningConfig = field(default_factory=ScanningConfig)
    findings: FindingsConfig = field(default_factory=FindingsConfig)
    pull_through_cache: PullThroughCacheConfig = field(default_factory=PullThroughCacheConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    replication: ReplicationConfig = field(default_factory=ReplicationConfig)
