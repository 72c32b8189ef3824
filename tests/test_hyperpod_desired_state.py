"""The desired state of AWS::SageMaker::Cluster that Terraform computes, checked with
``jsonschema`` against the project's copy of the published CloudFormation schema
(``modules/config/data/AWS_SageMaker_Cluster.json``, read by ``modules.config.cfn``).

The states are read from the applied state of the default, the everything-on and a rich
configuration; mutated copies prove the check rejects what CloudFormation would."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import jsonschema
import pytest
import regex

from modules.config import cfn
from modules.config.cfn import Cfn
from modules.config.hyperpod import (
    AutoScalingConfig,
    CapacitySizeConfig,
    FsxLustreConfig,
    HyperPodConfig,
    InstanceGroupConfig,
    RestrictedInstanceGroupConfig,
    ScheduledUpdateConfig,
    TaintConfig,
    TieredStorageConfig,
)

CLUSTER = ("aws_cloudcontrolapi_resource", "cluster")

# Every optional instance-group field set, two groups (one pinned to a zone of the VPC,
# one with the least the schema allows), and the settings only the YAML has changed:
# provisioning mode, the training operator and helm sub-charts, and GPU pool limits that
# hold one p4d.24xlarge (the test of the limits rule plans a larger type against them).
RICH = {
    "hyperpod": {
        "node_recovery": "None",
        "node_provisioning_mode": None,
        # Restricted groups need the standard provisioning mode.
        "restricted_instance_groups": [
            {
                "name": "nova-rig",
                "instance_type": "ml.p5.48xlarge",
                "instance_count": 2,
                "deep_health_checks": ["InstanceStress"],
                "training_plan_arn": "arn:aws:sagemaker:us-west-2:123456789012:training-plan/nova-p5-q3",
                "fsx_lustre": {"size_gib": 1200, "throughput_mb_per_tib": 250},
            }
        ],
        "enable_training_operator": False,
        "helm_subcharts": {"mpi_operator": False, "neuron_device_plugin": False, "deep_health_check": False},
        "instance_groups": [
            {
                "name": "trainium",
                "instance_type": "ml.trn1.32xlarge",
                "instance_count": 4,
                "min_instance_count": 2,
                "ebs_volume_gb": 16384,
                "threads_per_core": 1,
                "labels": {"example.com/team": "research"},
                "taints": [
                    {"key": "aws.amazon.com/neuron", "effect": "NoSchedule"},
                    {"key": "dedicated", "value": "training", "effect": "NoExecute"},
                ],
                "capacity": "spot",
                "availability_zone": "us-west-2b",
                "training_plan_arn": "arn:aws:sagemaker:us-west-2:123456789012:training-plan/research-trn1-q3",
                "image_id": "ami-0123456789abcdef0",
                "volume_kms_key_id": "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "scheduled_update": {
                    "schedule": "cron(0 3 ? * SUN *)",
                    "batch_size": {"type": "CAPACITY_PERCENTAGE", "value": 25},
                    "rollback_batch_size": {"type": "INSTANCE_COUNT", "value": 2},
                    "wait_interval_seconds": 600,
                    "rollback_alarms": ["trn1-step-time-regressed", "trn1-node-faults"],
                },
            },
            {"name": "cpu-1", "instance_type": "ml.c5.large", "instance_count": 0, "ebs_volume_gb": 1, "capacity": "on-demand"},
        ],
    },
    "karpenter": {
        "pools": [{"kind": "gpu", "instance_types": ["p4d.24xlarge"], "limits": {"cpu": 96, "memory_gi": 1152, "gpus": 8}}]
    },
}


def _without(schema: dict[str, Any], pointers: list[str]) -> dict[str, Any]:
    """The schema with the properties of ``pointers`` (``/properties/InstanceGroups/*/CurrentCount``)
    removed, wherever their parent's definition is."""
    schema = copy.deepcopy(schema)
    for pointer in pointers:
        *parents, name = pointer.removeprefix("/properties/").split("/")
        node = schema
        for part in parents:
            node = _resolved(schema, node["properties"][part] if part != "*" else node["items"])
        node = _resolved(schema, node)
        del node["properties"][name]
    return schema


def _resolved(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["definitions"][node["$ref"].removeprefix("#/definitions/")]
    return node


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns, instance, schema):
    if validator.is_type(instance, "object"):
        for pattern, subschema in patterns.items():
            for key, value in instance.items():
                if regex.search(pattern, key):
                    yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        key
        for key in instance
        if key not in schema.get("properties", {}) and not any(regex.search(p, key) for p in patterns)
    ]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif additional is False and extras:
        yield jsonschema.ValidationError(f"Additional properties are not allowed ({', '.join(map(repr, extras))} unexpected)")


# CloudFormation writes its patterns in ECMA-262 syntax: the tag patterns use Unicode
# property escapes (\p{L}) that Python's re refuses, so patterns go through ``regex``.
# Its labels admit any key with the pattern "", which jsonschema's additionalProperties
# takes for "no pattern" (an empty string is false) and so refuses every label.
CfnValidator = jsonschema.validators.extend(
    jsonschema.Draft7Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties},
)
PUBLISHED = cfn.schema()
# What a template may set: CloudFormation reports the read-only properties, never takes them.
WRITABLE = _without(PUBLISHED, PUBLISHED["readOnlyProperties"])


def problems(state: dict[str, Any], schema: dict[str, Any] = WRITABLE) -> list[str]:
    """``path: message`` of every error, nested ones (oneOf, anyOf) included."""
    found = []
    pending = list(CfnValidator(schema).iter_errors(state))
    while pending:
        error = pending.pop()
        found.append(f"{_path(error.absolute_path)}: {error.message}")
        pending.extend(error.context or ())
    return found


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


@pytest.fixture(scope="session")
def states(deployed, deploy, everything_on) -> dict[str, dict[str, Any]]:
    """Desired state and reported properties of each configuration, as applied."""
    found = {}
    for name, applied in (("default", deployed), ("everything on", deploy(everything_on)), ("rich", deploy(RICH))):
        cluster = applied.find(*CLUSTER, module="hyperpod")
        found[name] = {"desired": json.loads(cluster["desired_state"]), "reported": json.loads(cluster["properties"])}
    return found


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + list(node.get("patternProperties", {})) + [p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


def rich_state(states) -> dict[str, Any]:
    return copy.deepcopy(states["rich"]["desired"])


def test_the_copy_is_the_published_schema_of_the_type():
    assert PUBLISHED["typeName"] == "AWS::SageMaker::Cluster"
    assert {"/properties/ClusterArn", "/properties/ClusterStatus"} <= set(PUBLISHED["readOnlyProperties"])
    # Draft 7 in shape; its "regex" format check knows only Python's syntax, so the
    # patterns are compiled with the engine the validator uses instead.
    jsonschema.Draft7Validator.check_schema(PUBLISHED, format_checker=None)
    for pattern in _patterns(PUBLISHED):
        regex.compile(pattern)
    source = (cfn.SCHEMA_FILE.parent / "SOURCES.md").read_text()
    assert cfn.SCHEMA_FILE.name in source, "where the copy comes from is written beside it"


@pytest.mark.parametrize("which", ["default", "everything on", "rich"])
def test_desired_state_satisfies_the_published_schema(states, which):
    assert problems(states[which]["desired"]) == []


@pytest.mark.parametrize("which", ["default", "everything on", "rich"])
def test_reported_properties_satisfy_the_published_schema(states, which):
    """What Cloud Control reports back (read-only fields included) is the type's too."""
    reported = states[which]["reported"]
    assert {"ClusterArn", "ClusterStatus"} <= set(reported)
    assert problems(reported, PUBLISHED) == []


def test_the_states_use_every_configured_field(states):
    """Every Cfn-marked field of the models reaches one of the desired states, so the
    schema checks above cover each of them."""
    groups = [g for which in states.values() for g in which["desired"]["InstanceGroups"]]
    taints = [t for g in groups for t in g.get("KubernetesConfig", {}).get("Taints", [])]
    updates = [g["ScheduledUpdateConfig"] for g in groups if "ScheduledUpdateConfig" in g]
    policies = [u["DeploymentConfig"]["RollingUpdatePolicy"] for u in updates if "DeploymentConfig" in u]
    sizes = [p[k] for p in policies for k in ("MaximumBatchSize", "RollbackMaximumBatchSize") if k in p]
    clusters = [which["desired"] for which in states.values()]
    restricted = [g for c in clusters for g in c.get("RestrictedInstanceGroups", [])]
    fsx = [g["EnvironmentConfig"]["FSxLustreConfig"] for g in restricted]
    for model, objects in (
        (InstanceGroupConfig, groups), (TaintConfig, taints), (ScheduledUpdateConfig, updates), (CapacitySizeConfig, sizes),
        (HyperPodConfig, clusters), (RestrictedInstanceGroupConfig, restricted), (FsxLustreConfig, fsx),
        (TieredStorageConfig, [c["TieredStorageConfig"] for c in clusters if "TieredStorageConfig" in c]),
        (AutoScalingConfig, [c["AutoScaling"] for c in clusters if "AutoScaling" in c]),
    ):
        for name, field in model.model_fields.items():
            mark = next((m for m in field.metadata if isinstance(m, Cfn)), None)
            if mark is not None:
                assert any(_reaches(o, mark.key) for o in objects), f"{model.__name__}.{name} -> {mark.key}"
    assert any("OverrideVpcConfig" in g for g in groups), "availability_zone places a group"


def _reaches(node: Any, key: str) -> bool:
    for part in key.split("."):
        name = part.removesuffix("[]")
        if not isinstance(node, dict) or name not in node:
            return False
        node = node[name][0] if part.endswith("[]") else node[name]
    return True


def _property(definition: str, key: str) -> dict[str, Any]:
    """The schema node at a Cfn key below a definition (``[]`` steps into the items; an
    object given as a single ``oneOf`` is that alternative)."""
    node = _resolved(PUBLISHED, PUBLISHED["definitions"][definition])
    for part in key.split("."):
        if len(node.get("oneOf", ())) == 1:
            node = _resolved(PUBLISHED, node["oneOf"][0])
        node = _resolved(PUBLISHED, node["properties"][part.removesuffix("[]")])
        if part.endswith("[]"):
            assert node["type"] == "array", part
            node = _resolved(PUBLISHED, node["items"])
    return node


def test_every_cfn_mark_names_a_property_of_the_schema():
    """A field's Cfn key is a path the published schema has, below the object its model
    renders; a list field renders to an array, a renamed value to one of its keys."""
    for model, definition in (
        (InstanceGroupConfig, "ClusterInstanceGroup"),
        (TaintConfig, "ClusterKubernetesTaint"),
        (ScheduledUpdateConfig, "ScheduledUpdateConfig"),
        (CapacitySizeConfig, "CapacitySizeConfig"),
        (RestrictedInstanceGroupConfig, "ClusterRestrictedInstanceGroup"),
        (FsxLustreConfig, "FSxLustreConfig"),
        (TieredStorageConfig, "TieredStorageConfig"),
        (AutoScalingConfig, "ClusterAutoScalingConfig"),
    ):
        keys = [m.key for f in model.model_fields.values() for m in f.metadata if isinstance(m, Cfn)]
        assert len(keys) == len(set(keys)), f"{model.__name__}: two fields write the same key"
        for name, field in model.model_fields.items():
            mark = next((m for m in field.metadata if isinstance(m, Cfn)), None)
            if mark is None:
                continue
            node = _property(definition, mark.key)
            if mark.as_key:
                assert {value for _, value in mark.values} <= set(node["properties"]), name
            elif "list" in str(field.annotation):
                assert node["type"] == "array", name


def test_a_read_only_property_is_refused_in_a_desired_state(states):
    state = rich_state(states)
    state["ClusterArn"] = states["rich"]["reported"]["ClusterArn"]
    assert any("ClusterArn" in p for p in problems(state)), "the writable schema refuses it"
    assert problems(state, PUBLISHED) == [], "the published schema alone would not"


def _group(state):
    return state["InstanceGroups"][0]


def _set(path: Callable[[dict], dict], key: str, value: Any) -> Callable[[dict], None]:
    def mutate(state: dict) -> None:
        path(state)[key] = value

    return mutate


def _drop(path: Callable[[dict], dict], key: str) -> Callable[[dict], None]:
    def mutate(state: dict) -> None:
        del path(state)[key]

    return mutate


root = lambda state: state  # noqa: E731
VIOLATIONS: list[tuple[str, Callable[[dict], None], str]] = [
    ("cluster name pattern", _set(root, "ClusterName", "my_cluster"), "ClusterName"),
    ("cluster name length", _set(root, "ClusterName", "a" * 64), "ClusterName"),
    ("node recovery enum", _set(root, "NodeRecovery", "Manual"), "NodeRecovery"),
    ("provisioning mode enum", _set(root, "NodeProvisioningMode", "Eager"), "NodeProvisioningMode"),
    ("orchestrator needs eks", _set(root, "Orchestrator", {}), "Orchestrator"),
    ("no subnets", _set(lambda s: s["VpcConfig"], "Subnets", []), "VpcConfig.Subnets"),
    ("too many subnets", _set(lambda s: s["VpcConfig"], "Subnets", [f"subnet-{i}" for i in range(17)]), "VpcConfig.Subnets"),
    ("too many security groups", _set(lambda s: s["VpcConfig"], "SecurityGroupIds", [f"sg-{i}" for i in range(6)]), "SecurityGroupIds"),
    ("security groups required", _drop(lambda s: s["VpcConfig"], "SecurityGroupIds"), "SecurityGroupIds"),
    ("no instance groups", _set(root, "InstanceGroups", []), "InstanceGroups"),
    ("unknown top-level field", _set(root, "ClusterSize", 3), "ClusterSize"),
    ("group name pattern", _set(_group, "InstanceGroupName", "gpu_workers"), "InstanceGroupName"),
    ("group count negative", _set(_group, "InstanceCount", -1), "InstanceCount"),
    ("group count type", _set(_group, "InstanceCount", "2"), "InstanceCount"),
    ("group min count negative", _set(_group, "MinInstanceCount", -1), "MinInstanceCount"),
    ("group role pattern", _set(_group, "ExecutionRole", "ml-platform-hyperpod-execution"), "ExecutionRole"),
    ("group role required", _drop(_group, "ExecutionRole"), "ExecutionRole"),
    ("group lifecycle required", _drop(_group, "LifeCycleConfig"), "LifeCycleConfig"),
    ("lifecycle needs on create", _drop(lambda s: _group(s)["LifeCycleConfig"], "OnCreate"), "OnCreate"),
    ("lifecycle uri pattern", _set(lambda s: _group(s)["LifeCycleConfig"], "SourceS3Uri", "bucket/x"), "SourceS3Uri"),
    ("on create length", _set(lambda s: _group(s)["LifeCycleConfig"], "OnCreate", "x" * 129), "OnCreate"),
    ("threads per core above 2", _set(_group, "ThreadsPerCore", 3), "ThreadsPerCore"),
    ("threads per core below 1", _set(_group, "ThreadsPerCore", 0), "ThreadsPerCore"),
    ("volume too small", _set(lambda s: _group(s)["InstanceStorageConfigs"][0]["EbsVolumeConfig"], "VolumeSizeInGB", 0), "VolumeSizeInGB"),
    ("volume too large", _set(lambda s: _group(s)["InstanceStorageConfigs"][0]["EbsVolumeConfig"], "VolumeSizeInGB", 16385), "VolumeSizeInGB"),
    ("two storage configs", lambda s: _group(s)["InstanceStorageConfigs"].append({"EbsVolumeConfig": {"VolumeSizeInGB": 1}}), "InstanceStorageConfigs"),
    ("deep health check enum", _set(_group, "OnStartDeepHealthChecks", ["InstanceMemory"]), "OnStartDeepHealthChecks"),
    ("taint effect enum", lambda s: _group(s)["KubernetesConfig"]["Taints"][0].update(Effect="Never"), "Taints[0].Effect"),
    ("taint needs effect", lambda s: _group(s)["KubernetesConfig"]["Taints"][0].pop("Effect"), "Taints[0]"),
    ("too many taints", lambda s: _group(s)["KubernetesConfig"].update(Taints=[{"Key": f"k{i}", "Effect": "NoSchedule"} for i in range(51)]), "Taints"),
    ("label value type", lambda s: _group(s)["KubernetesConfig"].update(Labels={"team": 3}), "Labels.team"),
    ("unknown capacity", _set(_group, "CapacityRequirements", {"Reserved": {}}), "CapacityRequirements"),
    ("unknown group field", _set(_group, "InstanceTypes", ["ml.g5.xlarge"]), "InstanceTypes"),
    ("too many tags", _set(root, "Tags", [{"Key": f"k{i}", "Value": "v"} for i in range(51)]), "Tags"),
    ("tag key empty", _set(root, "Tags", [{"Key": "", "Value": "v"}]), "Tags[0].Key"),
    ("tag needs value", _set(root, "Tags", [{"Key": "k"}]), "Tags[0]"),
    ("override vpc subnets", _set(lambda s: _group(s)["OverrideVpcConfig"], "Subnets", []), "OverrideVpcConfig.Subnets"),
    ("current count is read-only", _set(_group, "CurrentCount", 4), "CurrentCount"),
    ("training plan arn pattern", _set(_group, "TrainingPlanArn", "arn:aws:sagemaker:us-west-2:123456789012:cluster/abc" + "x" * 20), "TrainingPlanArn"),
    ("image id pattern", _set(_group, "ImageId", "img-0123456789"), "ImageId"),
    ("kms key pattern", lambda s: _group(s)["InstanceStorageConfigs"][0]["EbsVolumeConfig"].update(VolumeKmsKeyId="key id!"), "VolumeKmsKeyId"),
    ("schedule not cron", lambda s: _group(s)["ScheduledUpdateConfig"].update(ScheduleExpression="rate(1 day)"), "ScheduleExpression"),
    ("wait interval too long", lambda s: _group(s)["ScheduledUpdateConfig"]["DeploymentConfig"].update(WaitIntervalInSeconds=3601), "WaitIntervalInSeconds"),
    ("batch size zero", lambda s: _group(s)["ScheduledUpdateConfig"]["DeploymentConfig"]["RollingUpdatePolicy"]["MaximumBatchSize"].update(Value=0), "Value"),
    ("batch size type", lambda s: _group(s)["ScheduledUpdateConfig"]["DeploymentConfig"]["RollingUpdatePolicy"]["MaximumBatchSize"].update(Type="HALF"), "Type"),
    ("rolling policy needs a batch size", lambda s: _group(s)["ScheduledUpdateConfig"]["DeploymentConfig"]["RollingUpdatePolicy"].pop("MaximumBatchSize"), "RollingUpdatePolicy"),
    ("alarm needs a name", lambda s: _group(s)["ScheduledUpdateConfig"]["DeploymentConfig"]["AutoRollbackConfiguration"][0].pop("AlarmName"), "AutoRollbackConfiguration[0]"),
]


@pytest.mark.parametrize("case, mutate, where", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_the_schema_check_rejects_a_mutated_state(states, case, mutate, where):
    state = rich_state(states)
    mutate(state)
    found = problems(state)
    assert any(where in problem for problem in found), found
