"""The README's configuration example is a valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from modules.config import parse_config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_configuration_example_is_valid():
    section = README.read_text().split("## Configuration", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    config = parse_config(yaml.safe_load(example))
    assert config.eks.public_access_cidrs == ["203.0.113.0/24"]
    assert config.vpc.flow_logs.retention_days == 365
