"""Small readers of synthesized Terraform JSON, for assertions."""

from __future__ import annotations

import json
import re
from typing import Any



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
    return jsonencoded(expression)


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


def jsonencoded(expression: str) -> Any:
    """Decode a ``${jsonencode(...)}`` value whose body may hold any Terraform expression
    (references, function calls): each becomes a "${...}" string."""
    body = expression.removeprefix("${jsonencode(").removesuffix(")}")
    return json.loads(_quote_expressions(body))


def _quote_expressions(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == '"':
            end = _string_end(body, i)
            literal = body[i:end]
            rest = body[end:]
            out.append(literal + (":" if rest.startswith(" = ") else ""))
            i = end + (3 if rest.startswith(" = ") else 0)
            if rest.startswith(" = "):
                out.append(" ")
            continue
        if char.isalpha():
            end = _expression_end(body, i)
            expression = body[i:end]
            out.append(expression if expression in ("true", "false", "null") else json.dumps("${" + expression + "}"))
            i = end
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    i = start + 1
    while text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _expression_end(text: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _string_end(text, i)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return i
            depth -= 1
        elif char == "," and depth == 0:
            return i
        i += 1
    return i
