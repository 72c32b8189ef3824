"""Typed, validated configuration of the platform (see ``platform.PlatformConfig``)."""

from .loader import CONFIG_ENV_VAR, ConfigError, ConfigProblem, load_config, parse_config
from .platform import PlatformConfig

__all__ = ["CONFIG_ENV_VAR", "ConfigError", "ConfigProblem", "PlatformConfig", "load_config", "parse_config"]
