"""The rules ``AWS::SageMaker::Cluster`` applies to a desired state, kept in the project.

Cloud Control rejects a desired state that breaks its resource schema only when the apply
reaches the cluster, often an hour in. The subset of the schema this platform emits is
written down here (required fields, enums, ranges, lengths, patterns), in the schema's own
vocabulary, and checked at synth time and by the tests. Rules are as strict as the
published schema, and stricter where the platform always sets a field (the top-level
required list). ``problems`` also reads the published schema itself, so a test can compare.
"""

from __future__ import annotations

import re
from typing import Any, Callable

NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
ROLE_ARN_PATTERN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"
# The published tag pattern uses \p{L} classes; \w and \s are Python's Unicode equivalents.
TAG_TEXT_PATTERN = r"^([\w\s.:/=+\-@]*)$"

_AWS_ID = {"type": "string", "maxLength": 32, "pattern": "[-0-9a-zA-Z]+"}

DEFINITIONS: dict[str, Any] = {
    "VpcConfig": {
        "type": "object",
        "additionalProperties": False,
        "required": ["SecurityGroupIds", "Subnets"],
        "properties": {
            "Subnets": {"type": "array", "minItems": 1, "maxItems": 16, "items": _AWS_ID},
            "SecurityGroupIds": {"type": "array", "minItems": 1, "maxItems": 5, "items": _AWS_ID},
        },
    },
    "InstanceGroup": {
        "type": "object",
        "additionalProperties": False,
        "required": ["ExecutionRole", "InstanceCount", "InstanceGroupName", "InstanceType", "LifeCycleConfig"],
        "properties": {
            "InstanceGroupName": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": NAME_PATTERN},
            "InstanceType": {"type": "string"},
            "InstanceCount": {"type": "integer", "minimum": 0},
            "MinInstanceCount": {"type": "integer", "minimum": 0},
            "ExecutionRole": {"type": "string", "minLength": 20, "maxLength": 2048, "pattern": ROLE_ARN_PATTERN},
            "ThreadsPerCore": {"type": "integer", "minimum": 1, "maximum": 2},
            "LifeCycleConfig": {
                "type": "object",
                "additionalProperties": False,
                "required": ["OnCreate", "SourceS3Uri"],
                "properties": {
                    "SourceS3Uri": {"type": "string", "maxLength": 1024, "pattern": r"^(https|s3)://([^/]+)/?(.*)$"},
                    "OnCreate": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[\S\s]+$"},
                },
            },
            "InstanceStorageConfigs": {
                "type": "array",
                "maxItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "EbsVolumeConfig": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"VolumeSizeInGB": {"type": "integer", "minimum": 1, "maximum": 16384}},
                        }
                    },
                },
            },
            "OnStartDeepHealthChecks": {
                "type": "array",
                "items": {"type": "string", "enum": ["InstanceStress", "InstanceConnectivity"]},
            },
            "KubernetesConfig": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "Labels": {"type": "object", "patternProperties": {"": {"type": "string"}}},
                    "Taints": {
                        "type": "array",
                        "maxItems": 50,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["Key", "Effect"],
                            "properties": {
                                "Key": {"type": "string"},
                                "Value": {"type": "string"},
                                "Effect": {"type": "string", "enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
                            },
                        },
                    },
                },
            },
            "CapacityRequirements": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "Spot": {"type": "object", "additionalProperties": False},
                    "OnDemand": {"type": "object", "additionalProperties": False},
                },
            },
            "OverrideVpcConfig": {"$ref": "#/definitions/VpcConfig"},
        },
    },
    "Tag": {
        "type": "object",
        "additionalProperties": False,
        "required": ["Key", "Value"],
        "properties": {
            "Key": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": TAG_TEXT_PATTERN},
            "Value": {"type": "string", "minLength": 0, "maxLength": 256, "pattern": TAG_TEXT_PATTERN},
        },
    },
}

CLUSTER_RULES: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ClusterName", "InstanceGroups", "Orchestrator", "VpcConfig"],
    "definitions": DEFINITIONS,
    "properties": {
        "ClusterName": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": NAME_PATTERN},
        "Orchestrator": {
            "type": "object",
            "additionalProperties": False,
            "required": ["Eks"],
            "properties": {
                "Eks": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["ClusterArn"],
                    "properties": {"ClusterArn": {"type": "string"}},
                }
            },
        },
        "VpcConfig": {"$ref": "#/definitions/VpcConfig"},
        "NodeRecovery": {"type": "string", "enum": ["Automatic", "None"]},
        "NodeProvisioningMode": {"type": "string", "enum": ["Continuous"]},
        "InstanceGroups": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/InstanceGroup"}},
        "Tags": {"type": "array", "maxItems": 50, "uniqueItems": True, "items": {"$ref": "#/definitions/Tag"}},
    },
}

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def never_unresolved(_: Any) -> bool:
    return False


def problems(
    value: Any,
    schema: dict[str, Any] = CLUSTER_RULES,
    *,
    unresolved: Callable[[Any], bool] = never_unresolved,
) -> list[str]:
    """Every way ``value`` breaks ``schema``, as "Path.To.Field: reason" lines.

    ``unresolved`` tells which values are only known at apply time (Terraform references):
    those are skipped, they cannot be judged before then.
    """
    found: list[str] = []
    _check(value, schema, schema, "", found, unresolved)
    return found


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/definitions/")
        schema = root["definitions"][name]
    return schema


def _check(value, schema, root, path, found, unresolved) -> None:  # noqa: C901 - one rule per branch
    schema = _resolve(schema, root)
    where = path or "(desired state)"
    if unresolved(value):
        return
    shapes = schema.get("oneOf", [])
    if len(shapes) == 1:
        _check(value, shapes[0], root, path, found, unresolved)
    elif shapes:
        definitions = root.get("definitions", {})
        matching = [s for s in shapes if not problems(value, {**s, "definitions": definitions}, unresolved=unresolved)]
        if len(matching) != 1:
            found.append(f"{where}: matches {len(matching)} of the allowed shapes, expected exactly one")
    expected = schema.get("type")
    if expected and not _TYPES[expected](value):
        found.append(f"{where}: expected {expected}, got {type(value).__name__} {value!r}")
        return
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {', '.join(map(str, schema['enum']))}")
    if isinstance(value, str):
        _check_string(value, schema, where, found)
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{where}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{where}: {value} is above the maximum {schema['maximum']}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            found.append(f"{where}: {len(value)} items, at least {schema['minItems']} required")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{where}: {len(value)} items, at most {schema['maxItems']} allowed")
        if schema.get("uniqueItems") and len({repr(item) for item in value}) != len(value):
            found.append(f"{where}: items must be unique")
        for index, item in enumerate(value):
            _check(item, schema.get("items", {}), root, f"{path}[{index}]", found, unresolved)
    if isinstance(value, dict):
        _check_object(value, schema, root, path, found, unresolved)


def _check_string(value: str, schema: dict[str, Any], where: str, found: list[str]) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        found.append(f"{where}: shorter than {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        found.append(f"{where}: longer than {schema['maxLength']} characters")
    pattern = schema.get("pattern")
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error:
            return  # an ECMAScript-only construct (\p{L}); the embedded rules restate it
        if not compiled.search(value):
            found.append(f"{where}: {value!r} does not match {pattern}")


def _check_object(value, schema, root, path, found, unresolved) -> None:
    where = path or "(desired state)"
    for key in schema.get("required", []):
        if key not in value:
            found.append(f"{where}: {key} is required")
    properties = schema.get("properties", {})
    pattern_properties = schema.get("patternProperties", {})
    for key, item in value.items():
        child = f"{path}.{key}" if path else key
        if key in properties:
            _check(item, properties[key], root, child, found, unresolved)
            continue
        matched = [s for p, s in pattern_properties.items() if re.search(p, key)]
        for sub_schema in matched:
            _check(item, sub_schema, root, child, found, unresolved)
        if not matched and schema.get("additionalProperties") is False:
            found.append(f"{where}: {key} is not a field of this object")
