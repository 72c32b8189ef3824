"""The synthesized document as Terraform plans it for given variable values.

The resources read Terraform variables (``var.region``, ``var.hyperpod_*``...). Most tests
assert what gets deployed, so they read this view: each variable replaced by its value
(the default, or a tfvars value), ``count = cond ? 1 : 0`` evaluated (blocks counted out
are gone, the others read without ``[0]``), outputs of absent resources null, and the
HyperPod instance groups' ``for`` expression evaluated by ``modules.core.hcl_expr``.
Tests on the variables themselves read the raw document.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from modules.core.hcl_expr import Ref, literal_hcl
from modules.hyperpod.instance_group_fields import GroupContext, evaluate_instance_groups
from modules.inputs.variables import with_optional_defaults

_COUNT = re.compile(r"^\$\{(?P<condition>[^?]+) \? 1 : 0\}$")
_TRY = re.compile(r"^\$\{try\((?P<body>.*), null\)\}$")
_INSTANCE_GROUPS = "[for group in var.hyperpod_instance_groups : "

# The references the instance groups' expression names, as the stack writes them.
GROUP_CONTEXT = GroupContext(
    execution_role_arn=Ref("aws_iam_role.hyperpod_execution_role_role.arn"),
    scripts_bucket_name=Ref("aws_s3_bucket.hyperpod_lifecycle_scripts_bucket.bucket"),
    security_group_id=Ref("aws_security_group.hyperpod_security_group_group.id"),
    private_subnet_ids=Ref("local.hyperpod_private_subnets_ids"),
    private_subnet_zones=Ref("local.hyperpod_private_subnets_zones"),
)


def variable_values(document: dict[str, Any], tfvars: dict[str, Any] | None = None) -> dict[str, Any]:
    values = {name: block.get("default") for name, block in document.get("variable", {}).items()}
    unknown = set(tfvars or {}) - set(values)
    assert not unknown, f"no such variables: {unknown}"
    values = {**values, **(tfvars or {})}
    if "hyperpod_instance_groups" in values:
        values["hyperpod_instance_groups"] = with_optional_defaults(values["hyperpod_instance_groups"])
    return values


def condition_holds(condition: str, values: dict[str, Any]) -> bool:
    """A count condition: ``var.a`` or ``var.a && var.b``."""
    terms = [term.strip() for term in condition.split("&&")]
    assert all(t.startswith("var.") for t in terms), f"not a condition of variables: {condition}"
    return all(values[t.removeprefix("var.")] is True for t in terms)


def planned(document: dict[str, Any], tfvars: dict[str, Any] | None = None) -> dict[str, Any]:
    values = variable_values(document, tfvars)
    doc = copy.deepcopy(document)
    removed: set[str] = set()
    kept: set[str] = set()
    for section, prefix in (("resource", ""), ("data", "data.")):
        for resource_type, blocks in doc.get(section, {}).items():
            for name in list(blocks):
                match = _COUNT.match(str(blocks[name].get("count", "")))
                if not match:
                    continue
                address = f"{prefix}{resource_type}.{name}"
                if condition_holds(match.group("condition"), values):
                    del blocks[name]["count"]
                    kept.add(address)
                else:
                    del blocks[name]
                    removed.add(address)
        doc[section] = {t: b for t, b in doc.get(section, {}).items() if b}
    # depends_on an absent resource waits for nothing.
    for section in ("resource", "data"):
        for blocks in doc.get(section, {}).values():
            for block in blocks.values():
                if "depends_on" in block:
                    block["depends_on"] = [d for d in block["depends_on"] if d not in removed]
    for name, output in doc.get("output", {}).items():
        match = _TRY.match(str(output.get("value", "")))
        if match:
            body = match.group("body")
            output["value"] = None if any(a in body for a in removed) else "${" + body + "}"
    first_instance = re.compile("(" + "|".join(re.escape(a) for a in sorted(kept | removed)) + r")\[0\]")
    variables = doc.pop("variable", {})
    doc = _map_strings(doc, lambda text: _substitute(first_instance.sub(r"\1", text), values))
    doc["variable"] = variables
    return doc


def _substitute(text: str, values: dict[str, Any]) -> Any:
    if "var." not in text:
        return text
    whole = re.fullmatch(r"\$\{var\.(\w+)\}", text)
    if whole:
        return values[whole.group(1)]
    text = _evaluate_instance_groups(text, values)
    for name, value in values.items():
        # In a values document, JSON is YAML: the chart reads the list or boolean.
        text = text.replace(f"${{jsonencode(var.{name})}}", json.dumps(value))
        # In a template, the value as text; in an expression, the value as a literal.
        text = text.replace(f"${{var.{name}}}", str(value).lower() if isinstance(value, bool) else str(value))
        text = re.sub(rf"(?<![\w.])var\.{name}\b", lambda _m, v=value: literal_hcl(v), text)
    return text


class _Reference(str):
    """A reference's value while evaluating: written back as the bare reference."""


def _evaluate_instance_groups(text: str, values: dict[str, Any]) -> str:
    start = text.find(_INSTANCE_GROUPS)
    if start == -1:
        return text
    end = _closing_bracket(text, start)
    references = {ref.text: _Reference(ref.text) for ref in vars(GROUP_CONTEXT).values()}
    groups = evaluate_instance_groups(
        values["hyperpod_instance_groups"],
        GROUP_CONTEXT,
        references,
        matchkeys=lambda ids, zones, search: _Reference(f"matchkeys({ids}, {zones}, {literal_hcl(search)})"),
    )
    return text[:start] + _hcl(groups) + text[end + 1 :]


def _hcl(value: Any) -> str:
    """An HCL literal where references stay references (``"s3://${ref}"`` templates too)."""
    if isinstance(value, _Reference):
        return str(value)
    if isinstance(value, str):
        for ref in vars(GROUP_CONTEXT).values():
            if ref.text in value:
                return '"' + value.replace(ref.text, "${" + ref.text + "}") + '"'
        return literal_hcl(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_hcl(v)}" for k, v in value.items()) + "}"
    return literal_hcl(value)


def _closing_bracket(text: str, start: int) -> int:
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == '"':
            index += 1
            while text[index] != '"':
                index += 2 if text[index] == "\\" else 1
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise ValueError("unbalanced expression")


def _map_strings(value: Any, change) -> Any:
    if isinstance(value, dict):
        return {k: _map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    if isinstance(value, str):
        return change(value)
    return value
