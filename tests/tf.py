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


# Longest values the references resolve to: partition (aws-iso-b), account ID, DNS suffix
# (amazonaws.com.cn), and any ARN of this stack's resources.
RESOLVED_LENGTH = {".partition}": 9, ".account_id}": 12, ".dns_suffix}": 16}
ARN_LENGTH = 128


def size_when_applied(policy_expression: str) -> int:
    """Characters IAM counts (whitespace excluded) once the references are resolved."""
    text = json.dumps(policy_of(policy_expression), separators=(",", ":"))

    def resolved(match: re.Match) -> str:
        reference = match.group(0)
        return "x" * next((n for end, n in RESOLVED_LENGTH.items() if reference.endswith(end)), ARN_LENGTH)

    return len(re.sub(r"\$\{[^}]+\}", resolved, text))
