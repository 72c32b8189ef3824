"""Terraform JSON to HCL native syntax, for reviewers who read ``.tf`` files.

The JSON document is the source of truth (it is what ``terraform`` runs); the HCL is
rendered from it, so the two say the same. Which keys are nested blocks comes from the
provider schemas (``blocks.py``). Long expressions (IAM policies under ``jsonencode``,
the HyperPod instance groups) are broken over lines, one item a line, so a reviewer reads
a policy statement by statement; ``terraform fmt`` aligns the result.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .blocks import BlockPaths

# Blocks of every resource whatever its type: Terraform's meta-arguments.
META_BLOCKS = frozenset({("lifecycle",), ("lifecycle", "precondition"), ("lifecycle", "postcondition")})
_WHOLE_INTERPOLATION = re.compile(r"^\$\{(?P<body>.*)\}$", re.DOTALL)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Expressions longer than this are broken over lines.
LINE_LENGTH = 100


# --- values ---------------------------------------------------------------------------


def expression(value: Any, heredoc: bool = True) -> str:
    """A JSON value of a Terraform document as an HCL expression (multi-line strings as
    heredocs where one may stand)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return _string(value, heredoc)
    if isinstance(value, list):
        items = [expression(item) for item in value]
        if len(items) == 1 and items[0].startswith("<<"):
            # A heredoc's closing marker stands alone on its line: nothing may follow it.
            return "[\n" + items[0] + "\n]"
        return "[" + ", ".join(expression(item, heredoc=False) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{\n" + "".join(f"{json.dumps(k)} = {expression(v, heredoc=False)}\n" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def _string(text: str, heredoc: bool = True) -> str:
    whole = _WHOLE_INTERPOLATION.match(text)
    if whole and _interpolation_end(text, 0) == len(text) - 1:
        # "${expr}" alone is the expression's own value (not converted to a string).
        body = whole.group("body")
        return body if len(body) <= LINE_LENGTH or "\n" in body else broken(body)
    return _quoted(text, heredoc)


def broken(expression: str) -> str:
    """A one-line HCL expression over lines: after each opening bracket, brace or
    parenthesis that holds a comma at its own level, and after each such comma. Strings
    (and the templates inside them) are kept whole."""
    out: list[str] = []
    stack: list[bool] = []  # per open bracket: does it break its items over lines?
    index = 0
    while index < len(expression):
        char = expression[index]
        if char == '"':
            end = _quoted_end(expression, index)
            out.append(expression[index:end])
            index = end
            continue
        if char in "([{":
            splits = _has_top_level_comma(expression, index)
            stack.append(splits)
            out.append(char + ("\n" + "  " * sum(stack) if splits else ""))
        elif char in ")]}":
            splits = stack.pop() if stack else False
            out.append(("\n" + "  " * sum(stack) if splits else "") + char)
        elif char == "," and stack and stack[-1]:
            out.append(",\n" + "  " * sum(stack))
            index += 1
            while index < len(expression) and expression[index] == " ":
                index += 1
            continue
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _has_top_level_comma(expression: str, start: int) -> bool:
    depth = 0
    index = start
    while index < len(expression):
        char = expression[index]
        if char == '"':
            index = _quoted_end(expression, index)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return False
        elif char == "," and depth == 1:
            return True
        index += 1
    return False


def _quoted(text: str, heredoc: bool) -> str:
    if heredoc and text.endswith("\n") and "\nEOT\n" not in f"\n{text}":
        return "<<EOT\n" + text + "EOT"
    return '"' + _escape_template(text) + '"'


def _escape_template(text: str) -> str:
    """Escape the literal parts of a template; interpolations pass through untouched."""
    out: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("$${", index) or text.startswith("%%{", index):
            out.append(text[index : index + 3])
            index += 3
            continue
        if text.startswith("${", index) or text.startswith("%{", index):
            end = _interpolation_end(text, index)
            out.append(text[index : end + 1])
            index = end + 1
            continue
        char = text[index]
        out.append({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char, char))
        index += 1
    return "".join(out)


def _interpolation_end(text: str, start: int) -> int:
    """Index of the ``}`` closing the interpolation that starts at ``start``."""
    depth = 0
    index = start + 2
    while index < len(text):
        char = text[index]
        if char == '"':
            index = _quoted_end(text, index)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    raise ValueError(f"unterminated interpolation in {text!r}")


def _quoted_end(text: str, start: int) -> int:
    index = start + 1
    while index < len(text) and text[index] != '"':
        if text[index] == "\\":
            index += 2
            continue
        if text.startswith("${", index):
            index = _interpolation_end(text, index) + 1
            continue
        index += 1
    return index + 1


# --- blocks ---------------------------------------------------------------------------


def _label(text: str) -> str:
    return json.dumps(text)


def _body(body: dict[str, Any], blocks: frozenset[tuple[str, ...]], prefix: tuple[str, ...] = ()) -> str:
    lines: list[str] = []
    nested: list[str] = []
    for key, value in body.items():
        if key == "//":
            continue  # cdktf's construct metadata: not part of the configuration
        path = (*prefix, key)
        if path in blocks or path in META_BLOCKS:
            for item in value if isinstance(value, list) else [value]:
                nested.append(f"{key} {{\n{_body(item, blocks, path)}}}\n")
        elif key == "depends_on":
            one_line = ", ".join(value)
            listed = one_line if len(one_line) <= LINE_LENGTH else "\n" + ",\n".join(value) + "\n"
            lines.append(f"{key} = [{listed}]\n")
        else:
            name = key if _IDENTIFIER.match(key) else json.dumps(key)
            lines.append(f"{name} = {expression(value)}\n")
    return "".join(lines) + "".join(nested)


def render(document: dict[str, Any], blocks: BlockPaths | None = None) -> dict[str, str]:
    """The document as HCL files: versions.tf, variables.tf, main.tf, outputs.tf (and
    moved.tf for the moves of an upgrade)."""
    blocks = blocks or {}
    files = {"versions.tf": [], "variables.tf": [], "main.tf": [], "outputs.tf": [], "moved.tf": []}
    settings = document.get("terraform", {})
    if settings:
        files["versions.tf"].append(_terraform_block(settings))
    for provider, bodies in document.get("provider", {}).items():
        for body in bodies if isinstance(bodies, list) else [bodies]:
            paths = blocks.get(("provider", provider), frozenset())
            files["versions.tf"].append(f"provider {_label(provider)} {{\n{_body(body, paths)}}}\n")
    for name, body in document.get("variable", {}).items():
        files["variables.tf"].append(f"variable {_label(name)} {{\n{_variable(body)}}}\n")
    if document.get("locals"):
        files["main.tf"].append("locals {\n" + _body(document["locals"], frozenset()) + "}\n")
    for section in ("data", "resource"):
        for resource_type, named in document.get(section, {}).items():
            for name, body in named.items():
                paths = blocks.get((section, resource_type), frozenset())
                files["main.tf"].append(
                    f"{section} {_label(resource_type)} {_label(name)} {{\n{_body(body, paths)}}}\n"
                )
    for name, body in document.get("module", {}).items():
        files["main.tf"].append(f"module {_label(name)} {{\n{_body(body, frozenset())}}}\n")
    for name, body in document.get("output", {}).items():
        files["outputs.tf"].append(f"output {_label(name)} {{\n{_body(body, frozenset())}}}\n")
    for move in document.get("moved", []):
        files["moved.tf"].append(f"moved {{\nfrom = {move['from']}\nto = {move['to']}\n}}\n")
    return {name: "\n".join(parts) for name, parts in files.items() if parts}


def _variable(body: dict[str, Any]) -> str:
    lines = []
    for key, value in body.items():
        if key == "type":
            lines.append(f"type = {value}\n")  # a type constraint is written bare
        elif key == "validation":
            for rule in value:
                lines.append(f"validation {{\n{_body(rule, frozenset())}}}\n")
        else:
            lines.append(f"{key} = {expression(value)}\n")
    return "".join(lines)


def _terraform_block(settings: dict[str, Any]) -> str:
    parts = []
    for key, value in settings.items():
        if key == "required_providers":
            providers = "".join(f"{name} = {expression(spec)}\n" for name, spec in value.items())
            parts.append(f"required_providers {{\n{providers}}}\n")
        elif key == "backend":
            for backend, config in value.items():
                parts.append(f"backend {_label(backend)} {{\n{_body(config, frozenset())}}}\n")
        else:
            parts.append(f"{key} = {expression(value)}\n")
    return "terraform {\n" + "".join(parts) + "}\n"
