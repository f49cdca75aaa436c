"""The configuration's root: stage-wide settings and one section per stack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from stacks.config.common import LOG_RETENTION_CHOICES, REGION_PATTERN, REMOVAL_POLICIES
from stacks.config.ecs import EcsConfig
from stacks.config.eks import EksConfig
from stacks.config.loader import ConfigError, build, setting
from stacks.config.network import NetworkConfig
from stacks.config.registry import RegistryConfig
from stacks.config.web import WebConfig

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@dataclass(frozen=True)
class AppConfig:
    """Everything `app.py` needs to decide which stacks exist and how they are set."""

    stage: str = setting("sandbox", pattern=r"[a-z][a-z0-9-]{0,19}")
    # Used when the CDK CLI has no credentials (plain `cdk synth`); with credentials the
    # CLI's own region wins, so that a deploy goes where the user's profile points.
    region: str = setting("ap-northeast-1", pattern=REGION_PATTERN)
    # What happens to stateful resources (keys, repositories, log groups) on `cdk destroy`:
    # `destroy` in the sandbox so nothing is left behind, `retain` in production.
    removal_policy: str = setting("destroy", choices=tuple(REMOVAL_POLICIES))
    log_retention_days: int = setting(7, choices=LOG_RETENTION_CHOICES)
    # Deletion protection on resources that have it (load balancers, databases).
    deletion_protection: bool = False
    tags: Mapping[str, str] = field(default_factory=lambda: {"project": "containers-update"})
    network: NetworkConfig = field(default_factory=NetworkConfig)
    registry: RegistryConfig = field(default_factory=RegistryConfig)
    ecs: EcsConfig = field(default_factory=EcsConfig)
    eks: EksConfig = field(default_factory=EksConfig)
    web: WebConfig = field(default_factory=WebConfig)


def load_config(*, stage: str | None = None, path: str | None = None) -> AppConfig:
    """Read `config/<stage>.yaml` (default `sandbox`) or the file at `path`, and validate it."""
    if stage is not None and path is not None:
        raise ConfigError(
            f"give either -c stage or -c config, not both (got stage={stage!r}, config={path!r})"
        )
    if path is None:
        stage = stage or "sandbox"
        candidate = CONFIG_DIR / f"{stage}.yaml"
        if not candidate.is_file():
            known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
            raise ConfigError(f"stage must name a file in config/ ({known}), got {stage!r}")
        file = candidate
    else:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"config must be the path of a YAML file, got {path!r} (no such file)")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{file} is not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    return build(AppConfig, data)
