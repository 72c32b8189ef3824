"""The desired state of ``AWS::SageMaker::Cluster`` as Terraform expressions.

The instance groups are a ``for`` expression over the module's ``instance_groups``
variable; each group's object is rendered from the ``Cfn`` marks of the configuration
model (``modules/config/hyperpod.py``): a field says once where its value goes, and this
module turns the marks into readable HCL. Terraform evaluates it (the offline plan in the
tests proves what it gives, and checks it against the published schema).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from modules.config.cfn import Cfn
from modules.config.terraform import field_default, hcl_literal

INDENT = "  "


@dataclass(frozen=True)
class Entry:
    """One value of an object expression: at ``path`` (keys, ``[]`` wraps a one-item
    list), present only when ``when`` (an HCL condition) holds, or always."""

    path: tuple[str, ...]
    value: str
    when: str | None = None


def entries(model: type[BaseModel], item: str) -> list[Entry]:
    """The entries of the fields of ``model`` that carry a ``Cfn`` mark, for the object
    expression ``item`` (``group``, ``taint``...)."""
    found = []
    for name, field in model.model_fields.items():
        mark = next((m for m in field.metadata if isinstance(m, Cfn)), None)
        if mark is None:
            continue
        value = f"{item}.{name}"
        found.append(Entry(tuple(mark.key.split(".")), _shaped(mark, field.annotation, value), _presence(field, value)))
    return found


def _presence(field: Any, value: str) -> str | None:
    default = field_default(field)
    if default is None or _nullable(field.annotation):
        return f"{value} != null"
    if isinstance(default, (list, dict)):
        return f"length({value}) > 0"
    return None


def _shaped(mark: Cfn, annotation: Any, value: str) -> str:
    item_model = _list_item_model(annotation)
    if item_model is not None:
        each = item_model.__name__.removesuffix("Config").lower()
        return f"[for {each} in {value} : {render(entries(item_model, each))}]"
    model = _model(annotation)
    if model is not None:
        return render(entries(model, value))
    if mark.item_key:
        return f"[for item in {value} : {{ {mark.item_key} = item }}]"
    if mark.values:
        value = f"lookup({hcl_literal(dict(mark.values))}, {value})"
    if mark.as_key:
        return f"{{ ({value}) = {{}} }}"
    return value


def _nullable(annotation: Any) -> bool:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return type(None) in typing.get_args(annotation)


def _model(annotation: Any) -> type[BaseModel] | None:
    """The model of a field that holds one object (optional or not)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]
    return None


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def render(found: list[Entry]) -> str:
    """An object expression: ``{ K = v }`` for what is always there, merged with
    ``cond ? { K = v } : {}`` for what is optional; a nested object whose entries are
    all optional is itself present only when one of them is. Continuation lines are
    indented relative to the first."""
    always: list[tuple[str, str]] = []
    optional: list[tuple[str, str, str]] = []
    for key, group in _by_first_key(found).items():
        name, wrap = key.removesuffix("[]"), key.endswith("[]")
        if any(len(e.path) == 1 for e in group):
            (entry,) = group
            value, when = entry.value, entry.when
        else:
            value = render([Entry(e.path[1:], e.value, e.when) for e in group])
            conditions = [e.when for e in group]
            when = None if None in conditions else " || ".join(f"({c})" for c in conditions)
        if wrap:
            value = f"[{value}]"
        if when is None:
            always.append((name, value))
        else:
            optional.append((name, value, when))
    parts = []
    if always or not optional:
        width = max((len(k) for k, _ in always), default=0)
        lines = [_place(f"{INDENT}{k.ljust(width)} = ", v) for k, v in always]
        parts.append("{\n" + "\n".join(lines) + "\n}" if lines else "{}")
    parts.extend(_place(f"{when} ? {{ {k} = ", v) + " } : {}" for k, v, when in optional)
    if len(parts) == 1:
        return parts[0]
    return "merge(\n" + ",\n".join(_place(INDENT, p) for p in parts) + "\n)"


def _place(prefix: str, value: str) -> str:
    """``value`` after ``prefix`` on a line; its further lines keep their place relative
    to the prefix's indentation."""
    indent = prefix[: len(prefix) - len(prefix.lstrip())]
    return prefix + value.replace("\n", "\n" + indent)


def _by_first_key(found: list[Entry]) -> dict[str, list[Entry]]:
    grouped: dict[str, list[Entry]] = {}
    for entry in found:
        grouped.setdefault(entry.path[0], []).append(entry)
    return grouped


def cluster_fields(model: type[BaseModel], settings: str, separate: dict[str, Entry]) -> str:
    """The cluster's own configured fields (``model``'s Cfn marks on ``settings``, an
    object expression of its values); an entry of ``separate`` replaces the one of its key
    (a list that needs what the module adds to each item)."""
    found = [separate.get(e.path[0], e) for e in entries(model, settings)]
    return render(found)


def instance_groups(variable: str, model: type[BaseModel], extra: list[Entry]) -> str:
    """``[for group in <variable> : {...}]``: each group's entry of ``InstanceGroups``,
    the configured fields plus ``extra`` (what every group shares: role, scripts,
    placement), as one readable HCL expression."""
    body = render([*entries(model, "group"), *extra])
    return "[\n" + _place(f"{INDENT}for group in {variable} : ", body) + "\n]"
