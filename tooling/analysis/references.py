"""Find the ``${...}`` expressions of a Terraform JSON document and what they reference."""

from __future__ import annotations

import re
from typing import Any, Iterator

# Names that are not declared objects: built-in namespaces and iteration symbols.
BUILT_IN_ROOTS = frozenset({"count", "each", "self", "path", "terraform", "null", "true", "false"})
_TRAVERSAL = re.compile(r"(?<![\w.\"])([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*|\[[^\]]*\])+)")
_FOR_BINDING = re.compile(r"\bfor\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b")
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')


def expressions(value: Any) -> Iterator[str]:
    """Every top-level ``${...}`` expression in a JSON value, without the delimiters."""
    if isinstance(value, dict):
        for item in value.values():
            yield from expressions(item)
    elif isinstance(value, list):
        for item in value:
            yield from expressions(item)
    elif isinstance(value, str):
        yield from _interpolations(value)


def _interpolations(text: str) -> Iterator[str]:
    start = text.find("${")
    while start != -1:
        depth, index = 0, start + 2
        while index < len(text):
            char = text[index]
            if char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    break
                depth -= 1
            index += 1
        yield text[start + 2 : index]
        start = text.find("${", index)


def references_in(expression: str) -> set[str]:
    """Addresses an expression refers to: ``aws_vpc.x``, ``data.aws_y.z``, ``var.v``,
    ``local.l``, ``module.m`` (attributes dropped), excluding built-ins and ``for`` symbols."""
    bound = {name for match in _FOR_BINDING.finditer(expression) for name in match.groups() if name}
    found = set()
    # Template strings inside an expression may hold their own ${...}: look into those too.
    code = _STRING_LITERAL.sub(lambda m: " ".join(f"({inner})" for inner in _interpolations(m.group(0))), expression)
    for match in _TRAVERSAL.finditer(code):
        root, rest = match.group(1), match.group(2)
        if root in BUILT_IN_ROOTS or root in bound or code[match.end():].lstrip().startswith("("):
            continue
        parts = [p for p in re.split(r"\.|\[[^\]]*\]", rest) if p]
        if root == "data" and len(parts) >= 2:
            found.add(f"data.{parts[0]}.{parts[1]}")
        elif root in {"var", "local", "module"} and parts:
            found.add(f"{root}.{parts[0]}")
        elif "_" in root and parts:
            found.add(f"{root}.{parts[0]}")
    return found


def declared_addresses(document: dict[str, Any]) -> set[str]:
    """Every object a reference may name in this document."""
    declared = set()
    for resource_type, blocks in document.get("resource", {}).items():
        declared.update(f"{resource_type}.{name}" for name in blocks)
    for data_type, blocks in document.get("data", {}).items():
        declared.update(f"data.{data_type}.{name}" for name in blocks)
    declared.update(f"var.{name}" for name in document.get("variable", {}))
    declared.update(f"local.{name}" for name in document.get("locals", {}))
    declared.update(f"module.{name}" for name in document.get("module", {}))
    return declared
