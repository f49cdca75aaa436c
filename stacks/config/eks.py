"""Configuration of the Eks stack: IPv6 cluster, Bottlerocket, Karpenter, dual-stack ingress."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EksConfig:
    """The IPv6 EKS cluster and what runs on it."""

    enabled: bool = True
