"""Configuration of EKS on Fargate in the Eks stack: profiles, Fluent Bit logging, Container Insights."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from constructs_lib.eks.fargate import (
    DNS_1123_LABEL,
    MAX_LABELS_PER_SELECTOR,
    MAX_SELECTORS_PER_PROFILE,
)
from stacks.config.loader import fail, setting

# A Kubernetes label key (optional DNS prefix and `/`) and value, as the API server accepts them.
LABEL_KEY_PATTERN = r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LABEL_VALUE_PATTERN = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
IMAGE_PATTERN = r"[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})"
ADDON_VERSION_PATTERN = r"v\d+\.\d+\.\d+-eksbuild\.\d+"


@dataclass(frozen=True)
class FargateSelectorConfig:
    """Pods in `namespace` (and, if given, carrying every one of `labels`) run on Fargate."""

    namespace: str = setting("fargate-apps", pattern=DNS_1123_LABEL)
    labels: Mapping[str, str] = field(default_factory=dict)

    def check(self, path: str) -> None:
        if len(self.labels) > MAX_LABELS_PER_SELECTOR:
            fail(
                f"{path}.labels",
                f"may list at most {MAX_LABELS_PER_SELECTOR} labels per selector (EKS quota)",
                dict(self.labels),
            )
        for key, value in self.labels.items():
            if not re.fullmatch(LABEL_KEY_PATTERN, key):
                fail(f"{path}.labels", "keys must be Kubernetes label keys", key)
            if not re.fullmatch(LABEL_VALUE_PATTERN, value):
                fail(f"{path}.labels.{key}", "must be a Kubernetes label value", value)


@dataclass(frozen=True)
class FargateConfig:
    """EKS on Fargate beside the EC2 nodes: its profiles, its logs, its Container Insights."""

    enabled: bool = True
    # The workload profile's selectors (EKS allows up to 5 per profile). The sample runs in the
    # first selector's namespace, which therefore has no labels while the sample is on.
    workload_selectors: tuple[FargateSelectorConfig, ...] = (FargateSelectorConfig(),)
    # A Deployment writing JSON log lines (one Fargate pod: 0.25 vCPU, 0.5 GB).
    sample_app: bool = True
    # The ADOT collector for the Fargate pods' CPU and memory (one Fargate pod: 0.25 vCPU, 1 GB).
    container_insights: bool = True
    # How long Fargate's Fluent Bit caches pod metadata (EKS's default when unset: 30 minutes).
    metadata_cache_ttl: str = setting("300s", pattern=r"[1-9][0-9]*(s|m|h)")

    def check(self, path: str) -> None:
        count = len(self.workload_selectors)
        if not 1 <= count <= MAX_SELECTORS_PER_PROFILE:
            fail(
                f"{path}.workload_selectors",
                f"must list 1 to {MAX_SELECTORS_PER_PROFILE} selectors (EKS quota per profile)",
                count,
            )
        if self.sample_app and self.workload_selectors[0].labels:
            fail(
                f"{path}.workload_selectors[0].labels",
                "must be empty while sample_app is on (the sample's pods carry no such labels)",
                dict(self.workload_selectors[0].labels),
            )


@dataclass(frozen=True)
class ContainerInsightsConfig:
    """Container Insights for the EC2 nodes (Karpenter's and the system group)."""

    # The amazon-cloudwatch-observability add-on: CloudWatch agent and Fluent Bit DaemonSets on
    # every node, metrics billed per observation and every container log ingested.
    ec2_nodes: bool = False
    # None: the version EKS picks for the cluster's Kubernetes version at creation (3.1.0 or
    # later is needed for Pod Identity).
    addon_version: str | None = setting(None, pattern=ADDON_VERSION_PATTERN, example="v4.1.0-eksbuild.1")
