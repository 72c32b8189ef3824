"""Terraform variables derived from the configuration models: one description per setting.

A field of a configuration model says everything about a setting once: its type, its
default, its description and its limits (pydantic and annotated-types metadata: ranges,
lengths, patterns, ``Literal`` choices). From it come the Terraform type constraint
(``terraform_type``), the HCL literal of its default (``hcl_literal``) and the validation
blocks that refuse in ``terraform plan`` what the configuration refuses at synth
(``validations``). A rule that is not one of those limits (a cross-field check) is a
``TerraformRule``, written once in Terraform's language beside the Python validator that
enforces it at synth; the tests prove the two agree by running Terraform itself.

Pure Python: nothing here needs cdktf (``modules.core.variables`` declares the variables).
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Literal, Union

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo, PydanticUndefined

from .patterns import hint

VALUE = "$value"


@dataclass(frozen=True)
class TerraformRule:
    """A condition in Terraform's language; ``$value`` stands for the value it checks (the
    variable, or one item of it for a rule of an item model). ``condition`` may be a
    function that renders the text from data (a table of the configuration)."""

    condition: str | Callable[[], str]
    message: str

    def on(self, value: str) -> str:
        text = self.condition() if callable(self.condition) else self.condition
        return text.replace(VALUE, value)


@dataclass(frozen=True)
class Validation:
    condition: str
    """A Terraform boolean expression (without ``${}``)."""
    error_message: str


class Rules:
    """Mixin for models: ``TERRAFORM_RULES`` hold the model's cross-field rules, on one
    object of the model (``$value``)."""

    TERRAFORM_RULES: ClassVar[tuple[TerraformRule, ...]] = ()


# --- types


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The bare type of an annotation and the metadata of ``Annotated`` layers."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        metadata.extend(extra)
    return annotation, metadata


def _optional(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(annotation)):
            return args[0], True
    return annotation, False


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def terraform_type(annotation: Any) -> str:
    """The Terraform type constraint of an annotation; a model becomes an object whose
    attributes with a default are ``optional(type, default)``."""
    annotation, _ = _unwrap(annotation)
    annotation, _ = _optional(annotation)
    annotation, _ = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return "bool"
    if annotation in (int, float):
        return "number"
    if annotation is str:
        return "string"
    if origin is Literal:
        kinds = {type(v) for v in typing.get_args(annotation)}
        if kinds <= {str}:
            return "string"
        if kinds <= {int} or kinds <= {int, float}:
            return "number"
    if origin is list:
        return f"list({terraform_type(typing.get_args(annotation)[0])})"
    if origin is dict:
        return f"map({terraform_type(typing.get_args(annotation)[1])})"
    if _is_model(annotation):
        return "object({ " + ", ".join(_attribute(name, f) for name, f in annotation.model_fields.items()) + " })"
    raise TypeError(f"no Terraform type for {annotation!r}")


def _attribute(name: str, field: FieldInfo) -> str:
    kind = terraform_type(field.annotation)
    default = field_default(field)
    if default is PydanticUndefined:
        return f"{name} = {kind}"
    if default is None:
        return f"{name} = optional({kind})"
    return f"{name} = optional({kind}, {hcl_literal(_plain(default))})"


def field_default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()
    return field.default


def _plain(value: Any) -> Any:
    """A default as plain data (models dumped the way the YAML would say them)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def hcl_literal(value: Any) -> str:
    """A value as an HCL literal (JSON is almost HCL: strings escape ``${`` and ``%{``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(hcl_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{hcl_string(str(k))} = {hcl_literal(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no HCL literal for {value!r}")


def hcl_string(text: str) -> str:
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


# --- validations


@dataclass(frozen=True)
class _Check:
    condition: str
    says: str
    """What the limit allows, in words; or, for a rule, its whole message."""
    rule: bool = False


def _value_checks(annotation: Any, metadata: Iterable[Any], value: str) -> list[_Check]:
    """The limits of one value (``value`` is its expression), from its type and metadata."""
    annotation, inner = _unwrap(annotation)
    metadata = [*metadata, *inner]
    annotation, optional = _optional(annotation)
    annotation, inner = _unwrap(annotation)
    metadata = [*metadata, *inner]
    checks = _checks_of(annotation, metadata, value)
    if optional and checks:
        # A conditional, not ||: Terraform evaluates both sides of || (length(null) fails).
        return [_Check(f"{value} == null ? true : ({c.condition})", c.says, c.rule) for c in checks]
    return checks


def _checks_of(annotation: Any, metadata: list[Any], value: str) -> list[_Check]:
    checks: list[_Check] = []
    origin = typing.get_origin(annotation)
    if origin is Literal:
        choices = list(typing.get_args(annotation))
        checks.append(_Check(f"contains({hcl_literal(choices)}, {value})", "one of " + ", ".join(map(str, choices))))
    if annotation is int or (origin is Literal and all(isinstance(c, int) for c in typing.get_args(annotation))):
        if annotation is int:
            checks.append(_Check(f"floor({value}) == {value}", "a whole number"))
    for item in metadata:
        checks.extend(_metadata_checks(item, value, is_text=annotation is str))
    if origin is list:
        (item_type,) = typing.get_args(annotation)
        each = "each_" + value.rsplit(".", 1)[-1]
        for check in _value_checks(item_type, (), each):
            says = check.says if check.rule else f"items {check.says}"
            checks.append(_Check(f"alltrue([for {each} in {value} : {check.condition}])", says, check.rule))
    elif origin is dict:
        key_type, value_type = typing.get_args(annotation)
        key_checks = _value_checks(key_type, (), "key")
        value_checks = _value_checks(value_type, (), "value")
        for check, whose in [*((c, "keys") for c in key_checks), *((c, "values") for c in value_checks)]:
            checks.append(_Check(f"alltrue([for key, value in {value} : {check.condition}])", f"{whose} {check.says}"))
    elif _is_model(annotation):
        for name, field in annotation.model_fields.items():
            for check in _value_checks(field.annotation, field.metadata, f"{value}.{name}"):
                checks.append(_Check(check.condition, f"{name} {check.says}"))
        for rule in getattr(annotation, "TERRAFORM_RULES", ()):
            checks.append(_Check(rule.on(value), rule.message, rule=True))
    # A limit stated twice (a type's bound and an API's) is checked and said once.
    return list({check.condition: check for check in checks}.values())


def _metadata_checks(item: Any, value: str, is_text: bool) -> list[_Check]:
    length = f"length({value})"
    def what(count: int) -> str:
        noun = "character" if is_text else "item"
        return noun if count == 1 else noun + "s"

    found: list[_Check] = []
    for attribute, operator, says in (("ge", ">=", "at least"), ("gt", ">", "more than"), ("le", "<=", "at most"), ("lt", "<", "less than")):
        bound = getattr(item, attribute, None)
        if bound is not None and isinstance(item, (at.Ge, at.Gt, at.Le, at.Lt)):
            found.append(_Check(f"{value} {operator} {bound}", f"{says} {bound}"))
    min_length = getattr(item, "min_length", None)
    max_length = getattr(item, "max_length", None)
    if min_length:
        found.append(_Check(f"{length} >= {min_length}", f"at least {min_length} {what(min_length)}"))
    if max_length is not None:
        found.append(_Check(f"{length} <= {max_length}", f"at most {max_length} {what(max_length)}"))
    pattern = getattr(item, "pattern", None)
    if pattern:
        found.append(_Check(f"can(regex({hcl_string(pattern)}, {value}))", hint(pattern) or f"matching {pattern}"))
    if isinstance(item, TerraformRule):
        found.append(_Check(item.on(value), item.message, rule=True))
    return found


def validations(variable: str, field: FieldInfo, label: str, rules: Iterable[TerraformRule] = ()) -> list[Validation]:
    """The validation blocks of ``var.<variable>`` that stands for ``field``; ``label`` names
    the setting in the messages (the variable, or the configuration key). ``rules`` are
    rules on the value that depend on other, configured settings."""
    value = f"var.{variable}"
    annotation, metadata = field.annotation, [*field.metadata, *rules]
    bare, _ = _optional(_unwrap(annotation)[0])
    result: list[Validation] = []
    if typing.get_origin(bare) is list and _is_model(typing.get_args(bare)[0]):
        # A list of objects: one validation per attribute, so a message names the attribute.
        (item_model,) = typing.get_args(bare)
        list_checks = {c.condition: c for m in metadata for c in _metadata_checks(m, value, is_text=False)}
        for check in list_checks.values():
            message = check.says if check.rule else f"{label} must have {check.says}"
            result.append(Validation(check.condition, _sentence(message)))
        for name, item_field in item_model.model_fields.items():
            checks = _value_checks(item_field.annotation, item_field.metadata, f"item.{name}")
            if checks:
                condition = " && ".join(f"({c.condition})" for c in checks)
                says = ", ".join(c.says for c in checks)
                result.append(
                    Validation(f"alltrue([for item in {value} : {condition}])", _sentence(f"{label}: each {name} must be: {says}"))
                )
        for rule in getattr(item_model, "TERRAFORM_RULES", ()):
            result.append(Validation(f"alltrue([for item in {value} : {rule.on('item')}])", _sentence(f"{label}: {rule.message}")))
        return result
    for check in _value_checks(annotation, metadata, value):
        message = check.says if check.rule else f"{label} must be {check.says}"
        result.append(Validation(check.condition, _sentence(message)))
    return result


def _sentence(text: str) -> str:
    return text.rstrip(".") + "."
