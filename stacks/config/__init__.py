"""The project's configuration: one YAML file per stage, parsed once into frozen typed objects."""

from stacks.config.loader import ConfigError
from stacks.config.schema import AppConfig, load_config

__all__ = ["AppConfig", "ConfigError", "load_config"]
