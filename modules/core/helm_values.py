"""Helm values rendered from data with a YAML library, the same bytes for the same data."""

from __future__ import annotations

from typing import Any

import yaml


class _ValuesDumper(yaml.SafeDumper):
    """No anchors (a shared list is written out each time) and multi-line strings as
    literal blocks, so embedded documents (TOML user data) read as they are."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ValuesDumper.add_representer(str, _string)


def render_values(values: dict[str, Any]) -> str:
    return yaml.dump(values, Dumper=_ValuesDumper, sort_keys=False, default_flow_style=False, width=1000)


class TerraformValue(str):
    """A value of the chart that a Terraform expression gives at apply time (a variable).

    Rendered as ``${jsonencode(<expression>)}`` in place of the YAML value: Terraform
    interpolates it in the values string, and JSON is YAML, so Helm reads the list, number
    or boolean the expression has. Everything else stays literal YAML."""

    def __new__(cls, expression: str) -> "TerraformValue":
        value = super().__new__(cls, "${jsonencode(" + expression + ")}")
        value.expression = expression
        return value


def _terraform_value(dumper: yaml.SafeDumper, value: TerraformValue) -> yaml.ScalarNode:
    # Plain style: quoting it would make Helm read a string instead of the value.
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="")


_ValuesDumper.add_representer(TerraformValue, _terraform_value)
