"""Typed, validated configuration of the platform (see ``platform.PlatformConfig``), and
the facts tables it validates against (instance types, GPU shapes, pool names, zone
exclusions, the EKS support calendar, the published HyperPod schema).

Loads without cdktf, so the scripts import facts from here instead of copying them. A
library: each module of this package is a public unit; import it directly
(``from modules.config.karpenter import GPU_POOL``).
"""

from .loader import CONFIG_ENV_VAR, ConfigError, ConfigProblem, load_config, parse_config
from .platform import PlatformConfig

__all__ = ["CONFIG_ENV_VAR", "ConfigError", "ConfigProblem", "PlatformConfig", "load_config", "parse_config"]
