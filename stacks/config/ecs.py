"""Configuration of the EcsFargate stack: Graviton service, arm64 builds, Windows on Fargate."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EcsConfig:
    """ECS on Fargate."""

    enabled: bool = True
