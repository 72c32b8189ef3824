"""What the CloudFormation resource types the platform creates through Cloud Control accept,
read from their published schemas (``data/``).

The configuration takes its HyperPod limits from here instead of restating them:
``limits("InstanceGroupName")`` gives the pattern and lengths of a definition or property of
``AWS::SageMaker::Cluster`` as pydantic constraints, ``enum(...)`` its allowed values;
``COMPUTE_QUOTA.limits(...)`` and ``SCHEDULER_CONFIG.limits(...)`` do the same for the task
governance types. Where a value goes in a desired state is written next to the field, once,
with ``Cfn`` (see ``modules/hyperpod/desired_state.py``, which renders the desired state from
those marks). ``regions_with`` says which regions' CloudFormation registries publish a type
(Cloud Control cannot create a type its region's registry lacks).
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

DATA = Path(__file__).with_name("data")
REGIONS_FILE = DATA / "cloudformation_regions.json"


@dataclass(frozen=True)
class ResourceSchema:
    """The published schema of one CloudFormation resource type, kept in ``data/`` as
    ``AWS_Service_Type.json``."""

    type_name: str

    @property
    def file(self) -> Path:
        return DATA / (self.type_name.replace("::", "_") + ".json")

    def schema(self) -> dict[str, Any]:
        return _read(self.file)

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """A schema node with its ``$ref`` followed (``#/definitions/X``)."""
        while "$ref" in node:
            node = self.schema()["definitions"][node["$ref"].removeprefix("#/definitions/")]
        return node

    def definition(self, path: str) -> dict[str, Any]:
        """``"ClusterInstanceGroup.InstanceCount"``: a property of a definition; a bare name
        is a definition, or a property of the resource itself (``"ClusterName"``); ``[]``
        steps into the items of an array (``"Tags[].Key"``)."""
        first, *rest = path.split(".")
        name, items = first.removesuffix("[]"), first.endswith("[]")
        definitions = self.schema()["definitions"]
        node = self.resolve(definitions[name] if name in definitions else self.schema()["properties"][name])
        if items:
            node = self.resolve(node["items"])
        for part in rest:
            key, items = part.removesuffix("[]"), part.endswith("[]")
            node = self.resolve(node["properties"][key])
            if items:
                node = self.resolve(node["items"])
        return node

    def limits(self, path: str, hint: str | None = None) -> list[Any]:
        """The schema's constraints on a value, as pydantic/annotated-types metadata;
        ``hint`` describes its pattern in words."""
        node = self.definition(path)
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

    def enum(self, path: str) -> tuple[str, ...]:
        node = self.definition(path)
        values = node.get("enum") or self.resolve(node.get("items", {})).get("enum")
        if not values:
            raise KeyError(f"{path} has no enum in {self.type_name}")
        return tuple(values)

    def regions(self) -> tuple[str, ...]:
        return regions_with(self.type_name)


@cache
def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


CLUSTER = ResourceSchema("AWS::SageMaker::Cluster")
COMPUTE_QUOTA = ResourceSchema("AWS::SageMaker::ComputeQuota")
SCHEDULER_CONFIG = ResourceSchema("AWS::SageMaker::ClusterSchedulerConfig")

# The cluster's schema, as the configuration has always read it.
SCHEMA_FILE = CLUSTER.file
TYPE_NAME = CLUSTER.type_name


def schema() -> dict[str, Any]:
    return CLUSTER.schema()


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    return CLUSTER.resolve(node)


def definition(path: str) -> dict[str, Any]:
    return CLUSTER.definition(path)


def limits(path: str, hint: str | None = None) -> list[Any]:
    return CLUSTER.limits(path, hint)


def enum(path: str) -> tuple[str, ...]:
    return CLUSTER.enum(path)


def regions_source() -> str:
    """Where the region lists come from, briefly: their date and the file."""
    return f"as published on {_read(REGIONS_FILE)['as_of']}, {REGIONS_FILE.relative_to(DATA.parents[2])}"


def regions_with(type_name: str) -> tuple[str, ...]:
    """The regions whose CloudFormation registry publishes ``type_name`` (the extract's date
    is in its ``source``)."""
    return tuple(_read(REGIONS_FILE)["types"][type_name])


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
