"""Configuration of the Registry stack: ECR scanning, pull-through cache, templates, replication."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegistryConfig:
    """ECR's registry-wide features (one owner per account and region)."""

    enabled: bool = True
