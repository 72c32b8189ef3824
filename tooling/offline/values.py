"""Values of a schema: wire encoding, shape, and the walks that plan and apply them.

Values are Python data as msgpack decodes them (dict, list, str, int, float, bool, None)
with ``UNKNOWN`` for values Terraform or the provider does not know yet. A *node* is a
served block (``{"attributes", "blocks"}``) or the object of a nested attribute
(``{"attributes"}``); see ``schema.py``.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import msgpack
from tf.types import Unknown as UNKNOWN

# msgpack extension codes Terraform uses for unknown values: 0 plain, 12 with refinements
# (cty's msgpack encoding, e.g. "unknown but not null").
_UNKNOWN_EXT_CODES = (0, 12)


def _ext_hook(code: int, data: bytes) -> Any:
    if code in _UNKNOWN_EXT_CODES:
        return UNKNOWN
    return msgpack.ExtType(code, data)


def _default(value: Any) -> Any:
    if value is UNKNOWN:
        return msgpack.ExtType(0, b"\x00")
    raise TypeError(f"cannot encode {value!r}")


def decode(dynamic_value: Any) -> Any:
    """A tfplugin6 DynamicValue (msgpack or JSON) as Python data."""
    if dynamic_value.msgpack:
        return msgpack.unpackb(dynamic_value.msgpack, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    if dynamic_value.json:
        return json.loads(dynamic_value.json)
    return None


def encode(value: Any) -> bytes:
    return msgpack.packb(value, default=_default, use_bin_type=True)


def is_known(value: Any) -> bool:
    """Whether ``value`` holds no unknown anywhere."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def known_part(value: Any) -> Any:
    """``value`` with unknowns replaced by a marker, for hashing."""
    if value is UNKNOWN:
        return "<unknown>"
    if isinstance(value, dict):
        return {k: known_part(v) for k, v in value.items()}
    if isinstance(value, list):
        return [known_part(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


# --- shape -----------------------------------------------------------------------------


def _is_object_type(t: Any) -> bool:
    return isinstance(t, list) and t and t[0] == "object"


def conform_type(t: Any, value: Any) -> Any:
    """``value`` shaped as cty type ``t``: objects carry exactly their attributes."""
    if value is None or value is UNKNOWN or t == "dynamic":
        return value
    if isinstance(t, list):
        kind = t[0]
        if kind == "object" and isinstance(value, dict):
            return {k: conform_type(kt, value.get(k)) for k, kt in t[1].items()}
        if kind in ("list", "set") and isinstance(value, list):
            return [conform_type(t[1], v) for v in value]
        if kind == "map" and isinstance(value, dict):
            return {k: conform_type(t[1], v) for k, v in value.items()}
        if kind == "tuple" and isinstance(value, list):
            return [conform_type(et, v) for et, v in zip(t[1], value)]
    return value


def conform(node: dict[str, Any], value: Any) -> Any:
    """``value`` shaped as ``node``: every attribute present (null when absent), no others;
    absent list and set blocks empty, absent single blocks null."""
    if value is None or value is UNKNOWN:
        return value
    out: dict[str, Any] = {}
    for name, spec in node.get("attributes", {}).items():
        v = value.get(name)
        if "nested" in spec:
            out[name] = _conform_nested(spec["nested"], v)
        else:
            out[name] = conform_type(spec["type"], v)
    for name, spec in node.get("blocks", {}).items():
        v = value.get(name)
        nesting = spec["nesting"]
        if v is UNKNOWN:
            out[name] = v
        elif nesting == "single":
            out[name] = conform(spec["block"], v)
        elif nesting == "map":
            out[name] = {k: conform(spec["block"], e) for k, e in (v or {}).items()}
        else:
            out[name] = [conform(spec["block"], e) for e in (v or [])]
    return out


def _conform_nested(nested: dict[str, Any], value: Any) -> Any:
    if value is None or value is UNKNOWN:
        return value
    nesting = nested["nesting"]
    if nesting == "single":
        return conform(nested, value)
    if nesting == "map":
        return {k: conform(nested, e) for k, e in value.items()}
    return [conform(nested, e) for e in value]


def get_path(value: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` through objects; through a list, the list of values."""
    for i, step in enumerate(path):
        if value is None or value is UNKNOWN:
            return value
        if isinstance(value, list):
            return [get_path(e, path[i:]) for e in value]
        value = value.get(step)
    return value


# --- walks -----------------------------------------------------------------------------

Missing = object()


def _elements(nesting: str, value: Any) -> Iterator[tuple[Any, Any]]:
    if nesting == "single":
        yield None, value
    elif nesting == "map":
        yield from (value or {}).items()
    else:
        yield from enumerate(value or [])


def _non_computed(node: dict[str, Any], value: Any) -> Any:
    """The configurable part of an element (for matching set elements to prior ones)."""
    if not isinstance(value, dict):
        return value
    out = {}
    for name, spec in node.get("attributes", {}).items():
        if spec.get("computed") and not spec.get("optional"):
            continue
        out[name] = known_part(value.get(name))
    for name in node.get("blocks", {}):
        out[name] = known_part(value.get(name))
    return json.dumps(out, sort_keys=True, default=str)


def _prior_element(nesting: str, key: Any, element: Any, node: dict[str, Any], prior: Any) -> Any:
    if prior is Missing or prior is None or prior is UNKNOWN:
        return Missing
    if nesting == "single":
        return prior
    if nesting == "map":
        return prior.get(key, Missing) if isinstance(prior, dict) else Missing
    if nesting == "list":
        return prior[key] if isinstance(prior, list) and key < len(prior) else Missing
    wanted = _non_computed(node, element)
    for candidate in prior if isinstance(prior, list) else []:
        if _non_computed(node, candidate) == wanted:
            return candidate
    return Missing


DefaultFor = Callable[[tuple[str, ...]], Any]


def plan_walk(node: dict[str, Any], value: Any, prior: Any, default_for: DefaultFor, path: tuple[str, ...] = ()) -> Any:
    """The planned value of an object: computed attributes that the configuration leaves
    null become their default or unknown, unless the object existed before (then they keep
    the prior value Terraform proposed)."""
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for name, spec in node.get("attributes", {}).items():
        v = value.get(name)
        here = path + (name,)
        prior_v = prior.get(name, Missing) if isinstance(prior, dict) else Missing
        if "nested" in spec and v is not None and v is not UNKNOWN:
            nested = spec["nested"]
            if nested["nesting"] == "single":
                out[name] = plan_walk(nested, v, prior_v, default_for, here)
            elif nested["nesting"] == "map":
                out[name] = {
                    k: plan_walk(nested, e, _prior_element("map", k, e, nested, prior_v), default_for, here) for k, e in v.items()
                }
            else:
                out[name] = [
                    plan_walk(nested, e, _prior_element(nested["nesting"], i, e, nested, prior_v), default_for, here)
                    for i, e in enumerate(v)
                ]
            continue
        if v is None and spec.get("computed") and (prior is Missing or prior is None):
            default = default_for(here)
            out[name] = UNKNOWN if default is Missing else default
    for name, spec in node.get("blocks", {}).items():
        v = value.get(name)
        if v is None or v is UNKNOWN:
            continue
        here = path + (name,)
        prior_v = prior.get(name, Missing) if isinstance(prior, dict) else Missing
        nesting = spec["nesting"]
        if nesting == "single":
            out[name] = plan_walk(spec["block"], v, prior_v, default_for, here)
        elif nesting == "map":
            out[name] = {k: plan_walk(spec["block"], e, _prior_element("map", k, e, spec["block"], prior_v), default_for, here) for k, e in v.items()}
        else:
            out[name] = [
                plan_walk(spec["block"], e, _prior_element(nesting, i, e, spec["block"], prior_v), default_for, here)
                for i, e in enumerate(v)
            ]
    return out


FakeFor = Callable[[tuple[str, ...], Any, dict[str, Any]], Any]


def fill_unknowns(node: dict[str, Any], value: Any, fake_for: FakeFor, path: tuple[str, ...] = ()) -> Any:
    """``value`` with every unknown attribute replaced by ``fake_for(path, type, spec)``."""
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for name, spec in node.get("attributes", {}).items():
        v = value.get(name)
        here = path + (name,)
        if "nested" in spec:
            nested = spec["nested"]
            if v is UNKNOWN:
                out[name] = fake_for(here, None, spec)
            elif v is not None:
                if nested["nesting"] == "single":
                    out[name] = fill_unknowns(nested, v, fake_for, here)
                elif nested["nesting"] == "map":
                    out[name] = {k: fill_unknowns(nested, e, fake_for, here) for k, e in v.items()}
                else:
                    out[name] = [fill_unknowns(nested, e, fake_for, here) for e in v]
            continue
        if not is_known(v):
            out[name] = fill_type(spec["type"], v, lambda t, p=here, s=spec: fake_for(p, t, s))
    for name, spec in node.get("blocks", {}).items():
        v = value.get(name)
        here = path + (name,)
        if v is UNKNOWN:
            out[name] = [] if spec["nesting"] in ("list", "set") else None
        elif spec["nesting"] == "single":
            out[name] = fill_unknowns(spec["block"], v, fake_for, here)
        elif spec["nesting"] == "map":
            out[name] = {k: fill_unknowns(spec["block"], e, fake_for, here) for k, e in (v or {}).items()}
        elif v is not None:
            out[name] = [fill_unknowns(spec["block"], e, fake_for, here) for e in v]
    return out


def fill_type(t: Any, value: Any, fake: Callable[[Any], Any]) -> Any:
    """Unknowns inside a value of cty type ``t`` replaced by ``fake(type)``."""
    if value is UNKNOWN:
        return fake(t)
    if isinstance(t, list) and value is not None:
        kind = t[0]
        if kind == "object" and isinstance(value, dict):
            return {k: fill_type(kt, value.get(k), fake) for k, kt in t[1].items()}
        if kind in ("list", "set") and isinstance(value, list):
            return [fill_type(t[1], v, fake) for v in value]
        if kind == "map" and isinstance(value, dict):
            return {k: fill_type(t[1], v, fake) for k, v in value.items()}
    return value


def merge_known(planned: Any, candidate: Any) -> Any:
    """``planned`` with its unknowns taken from ``candidate`` where it has them; known
    planned values are never changed (Terraform holds the provider to its plan)."""
    if planned is UNKNOWN:
        return UNKNOWN if candidate is Missing else candidate
    if isinstance(planned, dict) and isinstance(candidate, dict):
        return {k: merge_known(v, candidate.get(k, Missing)) for k, v in planned.items()}
    if isinstance(planned, list) and isinstance(candidate, list) and len(planned) == len(candidate):
        return [merge_known(p, c) for p, c in zip(planned, candidate)]
    return planned


def zero_of(t: Any) -> Any:
    """The value an SDKv2 provider stores for an unset attribute of type ``t``."""
    if t == "string":
        return ""
    if t == "number":
        return 0
    if t == "bool":
        return False
    if isinstance(t, list):
        if t[0] in ("list", "set", "tuple"):
            return []
        if t[0] == "map":
            return {}
    return None
