"""Small readers of synthesized Terraform JSON, for assertions."""

from __future__ import annotations

import json
import re
from typing import Any

# A bare Terraform reference inside an HCL object, e.g. [aws_kms_key.x.arn]
_BARE_REFERENCE = re.compile(
    r"(?<!\$\{)(?:(?<=[\[{(])|(?<=[\[{,(:] ))"  # after a bracket or separator, not in ${}
    r"(?:data\.)?[a-z][a-z0-9_]*(?:\.[A-Za-z0-9_*]+|\[(?:\d+|\*)\])+"
)


def resource(stack: dict[str, Any], resource_type: str, name: str) -> dict[str, Any]:
    try:
        return stack["resource"][resource_type][name]
    except KeyError:
        have = sorted(stack.get("resource", {}).get(resource_type, {}))
        raise AssertionError(f"no {resource_type}.{name}; have {have}") from None


def resources(stack: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return stack.get("resource", {}).get(resource_type, {})


def data(stack: dict[str, Any], data_type: str, name: str) -> dict[str, Any]:
    return stack["data"][data_type][name]


def ref(resource_type: str, name: str, attribute: str) -> str:
    return f"${{{resource_type}.{name}.{attribute}}}"


def policy_of(expression: str) -> dict:
    """Decode a ``${jsonencode({...})}`` policy into a dict; references become "${...}" strings."""
    body = expression.removeprefix("${jsonencode(").removesuffix(")}")
    body = re.sub(r'"([^"]+)" = ', r'"\1": ', body)
    body = _BARE_REFERENCE.sub(lambda m: f'"${{{m.group(0)}}}"', body)
    return json.loads(body)
