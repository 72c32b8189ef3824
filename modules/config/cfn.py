"""What ``AWS::SageMaker::Cluster`` accepts, read from its published schema (``data/``).

The configuration takes its HyperPod limits from here instead of restating them:
``limits("InstanceGroupName")`` gives the pattern and lengths of a schema definition or
property as pydantic constraints, ``enum(...)`` its allowed values. Where a value goes in
the desired state is written next to the field, once, with ``Cfn`` (see
``modules/hyperpod/desired_state.py``, which renders the desired state from those marks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import annotated_types as at
from pydantic import StringConstraints

from .patterns import remember

SCHEMA_FILE = Path(__file__).with_name("data") / "AWS_SageMaker_Cluster.json"
TYPE_NAME = "AWS::SageMaker::Cluster"


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its ``$ref`` followed (``#/definitions/X``)."""
    while "$ref" in node:
        node = schema()["definitions"][node["$ref"].removeprefix("#/definitions/")]
    return node


def definition(path: str) -> dict[str, Any]:
    """``"ClusterInstanceGroup.InstanceCount"``: a property of a definition; a bare name is
    a definition, or a property of the cluster itself (``"ClusterName"``); ``[]`` steps
    into the items of an array (``"Tags[].Key"``)."""
    first, *rest = path.split(".")
    name, items = first.removesuffix("[]"), first.endswith("[]")
    definitions = schema()["definitions"]
    node = resolve(definitions[name] if name in definitions else schema()["properties"][name])
    if items:
        node = resolve(node["items"])
    for part in rest:
        key, items = part.removesuffix("[]"), part.endswith("[]")
        node = resolve(node["properties"][key])
        if items:
            node = resolve(node["items"])
    return node


def limits(path: str, hint: str | None = None) -> list[Any]:
    """The schema's constraints on a value, as pydantic/annotated-types metadata;
    ``hint`` describes its pattern in words."""
    node = definition(path)
    if hint and node.get("pattern"):
        remember(node["pattern"], hint)
    found: list[Any] = []
    if "minimum" in node:
        found.append(at.Ge(node["minimum"]))
    if "maximum" in node:
        found.append(at.Le(node["maximum"]))
    if node.get("type") == "string":
        found.append(
            StringConstraints(
                min_length=node.get("minLength"), max_length=node.get("maxLength"), pattern=node.get("pattern") or None
            )
        )
    elif node.get("type") == "array":
        if "minItems" in node:
            found.append(at.MinLen(node["minItems"]))
        if "maxItems" in node:
            found.append(at.MaxLen(node["maxItems"]))
    return found


def enum(path: str) -> tuple[str, ...]:
    node = definition(path)
    values = node.get("enum") or resolve(node.get("items", {})).get("enum")
    if not values:
        raise KeyError(f"{path} has no enum in {TYPE_NAME}")
    return tuple(values)


@dataclass(frozen=True)
class Cfn:
    """Where a configuration field's value goes in the desired state of the cluster.

    ``key`` is a path below the object the field's model renders: ``"InstanceCount"``, or
    nested ``"KubernetesConfig.Labels"``; ``[]`` wraps the value in a one-item list
    (``"InstanceStorageConfigs[].EbsVolumeConfig.VolumeSizeInGB"``). An optional field is
    left out when it is null or empty, and so is a parent object left with nothing.
    ``values`` renames the field's values (``{"spot": "Spot"}``) where the schema names a
    choice by a key; ``as_key`` then makes the renamed value a key of an empty object
    (``CapacityRequirements = {Spot = {}}``).
    """

    key: str
    values: tuple[tuple[str, str], ...] = ()
    as_key: bool = False
    item_key: str | None = None
    """Each item of a list of values becomes an object with this one key
    (``["a"]`` -> ``[{AlarmName = "a"}]``). A field whose type is a model renders that
    model's own marks below ``key``."""
