"""The configuration's root: stage-wide settings and one section per stack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from stacks.config.common import LOG_RETENTION_CHOICES, REGION_PATTERN, REMOVAL_POLICIES, check_tags
from stacks.config.ecs import EcsConfig
from stacks.config.ecs_anywhere import EcsAnywhereConfig
from stacks.config.eks import EksConfig
from stacks.config.guardduty import GuardDutyConfig
from stacks.config.loader import ConfigError, build, fail, setting
from stacks.config.network import NetworkConfig
from stacks.config.registry import RegistryConfig
from stacks.config.web import WebConfig

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@dataclass(frozen=True)
class AppConfig:
    """Everything `app.py` needs to decide which stacks exist and how they are set."""

    stage: str = setting("sandbox", pattern=r"[a-z][a-z0-9-]{0,19}", example="staging")
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
    # The only accounts `make preflight`, `deploy-all`, `verify` and `destroy-all` act on for this
    # stage (12 digits each); empty: any. Keeps a production file away from a sandbox account.
    accounts: tuple[str, ...] = setting((), pattern=r"\d{12}", example="111122223333", max_items=50)
    # One field per section, as in every section with subsections: the loader reads the tree from
    # these type hints, so the lists look alike by design.
    network: NetworkConfig = field(default_factory=NetworkConfig)
    registry: RegistryConfig = field(default_factory=RegistryConfig)
    ecs: EcsConfig = field(default_factory=EcsConfig)
    eks: EksConfig = field(default_factory=EksConfig)
    ecs_anywhere: EcsAnywhereConfig = field(default_factory=EcsAnywhereConfig)
    guardduty: GuardDutyConfig = field(default_factory=GuardDutyConfig)
    web: WebConfig = field(default_factory=WebConfig)

    def check(self, path: str) -> None:
        if self.deletion_protection and self.removal_policy == "destroy":
            # CloudFormation cannot delete a protected load balancer or database: destroy would fail.
            fail(
                "deletion_protection",
                "must be false when removal_policy is destroy (protected resources stop cdk destroy)",
                True,
            )
        # `stage` is tagged on every stack by app.py.
        check_tags(self.tags, "tags", reserved=("stage",))


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
    data = read_yaml(file)
    if stage is not None and isinstance(data, dict) and data.get("stage", stage) != stage:
        # The stage names every stack: a copied file that kept another stage's name would
        # deploy over that stage's stacks.
        raise ConfigError(f"stage in {file} must be {stage!r} (the stage asked for), got {data['stage']!r}")
    if stage is not None and isinstance(data, dict):
        data = {"stage": stage, **data}
    return build(AppConfig, data)


def read_yaml(file: Path) -> object:
    """Parse `file`, refusing what YAML itself lets through: a key given twice in one mapping.

    PyYAML keeps the last of two equal keys, so a second `eks:` block would silently replace
    the first one (and, say, switch a disabled stack back on).
    """
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{file} must be UTF-8 text, got byte {error.object[error.start]:#04x} at offset {error.start}"
        ) from None
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
        if document is not None:
            _refuse_duplicate_keys(document, file, "")
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{file} is not valid YAML{where}: {getattr(error, 'problem', error)}") from None


def _refuse_duplicate_keys(node: yaml.Node, file: Path, path: str) -> None:
    if isinstance(node, yaml.MappingNode):
        lines: dict[object, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            key_path = f"{path}.{key}" if path else str(key)
            line = key_node.start_mark.line + 1
            if key in lines:
                raise ConfigError(
                    f"{key_path} is given twice in {file} (lines {lines[key]} and {line}), keep one"
                )
            lines[key] = line
            _refuse_duplicate_keys(value_node, file, key_path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(item, file, f"{path}[{i}]")
