"""Each stack's `make verify` checks, one module per feature; importing the package registers them."""

from ops.checks import anywhere, ecs, eks, guardduty, network, registry, web

__all__ = ["anywhere", "ecs", "eks", "guardduty", "network", "registry", "web"]
