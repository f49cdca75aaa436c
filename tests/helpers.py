"""Small helpers shared by the tests."""

from __future__ import annotations

import dataclasses

from stacks.config import AppConfig

FEATURE_SECTIONS = ("registry", "ecs", "eks", "guardduty", "ecs_anywhere", "web")


def only_network(config: AppConfig) -> AppConfig:
    """The same configuration with every feature stack switched off: only Network remains."""
    changes = {name: dataclasses.replace(getattr(config, name), enabled=False) for name in FEATURE_SECTIONS}
    return dataclasses.replace(config, **changes)
