"""The schemas the stand-in providers serve: the bindings' schemas with ``facts.py`` applied,
written once per run so that the provider host or a plugin only reads one small JSON file.

A block is ``{"attributes": {name: attribute}, "blocks": {name: nested block}}``; an
attribute has ``type`` (cty type JSON) or ``nested`` (``{"nesting", "attributes"}``, a
terraform-plugin-framework nested attribute), and the flags ``required``, ``optional``,
``computed``, ``sensitive``; a nested block has ``nesting`` (list, set, single, map),
``min_items``, ``max_items`` and ``block``.
"""

from __future__ import annotations

from pathlib import Path

import copy
from typing import Any

from . import facts
from .jsii_schema import ProviderSchemas


def _nested_from_block(spec: dict[str, Any]) -> dict[str, Any]:
    """A nested block turned into a framework nested attribute."""
    block = spec["block"]
    attributes = dict(block.get("attributes", {}))
    for name, child in block.get("blocks", {}).items():
        attributes[name] = _nested_from_block(child)
    required = bool(spec.get("required") or spec.get("min_items"))
    out: dict[str, Any] = {"nested": {"nesting": spec["nesting"], "attributes": dict(sorted(attributes.items()))}}
    if required:
        out["required"] = True
    else:
        out["optional"] = True
    return out


def _object_type(block: dict[str, Any]) -> list[Any]:
    """The cty object type of a block's values (every nested block as a list of objects)."""
    fields: dict[str, Any] = {name: a["type"] for name, a in block.get("attributes", {}).items()}
    for name, spec in block.get("blocks", {}).items():
        inner = _object_type(spec["block"])
        fields[name] = inner if spec["nesting"] == "single" else [spec["nesting"] if spec["nesting"] != "map" else "map", inner]
    return ["object", dict(sorted(fields.items()))]


def _overlay_block(block: dict[str, Any], *, nested_attributes: bool, as_attributes: frozenset[str] = frozenset()) -> dict[str, Any]:
    attributes = dict(block.get("attributes", {}))
    blocks: dict[str, Any] = {}
    for name, spec in block.get("blocks", {}).items():
        spec = dict(spec)
        spec["block"] = _overlay_block(spec["block"], nested_attributes=nested_attributes)
        if nested_attributes or spec.get("attribute"):
            if nested_attributes:
                attributes[name] = _nested_from_block(spec)
            else:
                # An object-typed attribute of an SDKv2 provider: a plain cty type.
                kind = spec["nesting"]
                inner = _object_type(spec["block"])
                attributes[name] = {"type": inner if kind == "single" else [kind, inner], "optional": True, "computed": True}
        elif name in as_attributes:
            attributes[name] = {"type": ["set", _object_type(spec["block"])], "optional": True, "computed": True}
        else:
            spec.pop("attribute", None)
            blocks[name] = spec
    out: dict[str, Any] = {}
    if attributes:
        out["attributes"] = dict(sorted(attributes.items()))
    if blocks:
        out["blocks"] = dict(sorted(blocks.items()))
    return out


def _mark(block: dict[str, Any], path: tuple[str, ...], flag: str) -> None:
    name, rest = path[0], path[1:]
    attribute = block.get("attributes", {}).get(name)
    if attribute is not None:
        if not rest:
            attribute[flag] = True
        elif "nested" in attribute:
            _mark(attribute["nested"], rest, flag)
        return
    spec = block.get("blocks", {}).get(name)
    if spec is not None and rest:
        _mark(spec["block"], rest, flag)


def _strip_computed(block: dict[str, Any]) -> None:
    """Provider configuration has no computed values."""
    for attribute in block.get("attributes", {}).values():
        if attribute.pop("computed", None) and not attribute.get("required"):
            attribute["optional"] = True
        if "nested" in attribute:
            _strip_computed(attribute["nested"])
    for spec in block.get("blocks", {}).values():
        _strip_computed(spec["block"])


def served_schema(schemas: ProviderSchemas) -> dict[str, Any]:
    """The schema document one stand-in provider serves."""
    nested = schemas.name in facts.NESTED_ATTRIBUTE_PROVIDERS
    provider = _overlay_block(copy.deepcopy(schemas.provider), nested_attributes=nested)
    _strip_computed(provider)
    for path in facts.SENSITIVE.get(f"provider.{schemas.name}", ()):
        _mark(provider, path, "sensitive")
    out: dict[str, Any] = {
        "name": schemas.name,
        "provider_version": schemas.provider_version,
        "bindings_version": schemas.bindings_version,
        "provider": provider,
        "resources": {},
        "data_sources": {},
    }
    for kind, table in (("resources", schemas.resources), ("data_sources", schemas.data_sources)):
        for type_name, block in sorted(table.items()):
            as_attributes = facts.ATTRIBUTES_AS_BLOCKS.get(type_name, frozenset()) if kind == "resources" else frozenset()
            served = _overlay_block(copy.deepcopy(block), nested_attributes=nested, as_attributes=as_attributes)
            for path in facts.SENSITIVE.get(type_name, ()):
                _mark(served, path, "sensitive")
            out[kind][type_name] = served
    return out


def served_schemas(folder: Path) -> dict[str, dict[str, Any]]:
    """Provider type name -> the schema its stand-in serves, for the resource and data
    source types the configuration in ``folder`` (and the local modules it calls) uses."""
    from .bindings import bindings_for
    from .jsii_schema import schemas_for
    from .usage import scan

    usage = scan(folder)
    served = {}
    for provider in usage.sources():
        resources, data_sources = usage.types_of(provider)
        served[provider] = served_schema(schemas_for(bindings_for(provider), resources, data_sources))
    return served
