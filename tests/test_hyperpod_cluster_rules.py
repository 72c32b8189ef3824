"""The desired state of AWS::SageMaker::Cluster against the rules of its CloudFormation
schema: the rules the project keeps (always), and the published schema (when a copy is
beside the repository, ../shared/reference/cfn/)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from modules.config import parse_config
from modules.hyperpod import cluster_rules
from modules.hyperpod.desired_state import ClusterSpec, InstanceGroupSpec, VpcPlacement
from tests.planned import GROUP_CONTEXT
from tests.tf import jsonencoded, resource

REPO = Path(__file__).resolve().parent.parent
PUBLISHED_SCHEMA = REPO.parent / "shared" / "reference" / "cfn" / "AWS_SageMaker_Cluster.json"
ROLE_ARN = "arn:aws:iam::123456789012:role/ml-platform-hyperpod-execution"
EKS_ARN = "arn:aws:eks:us-west-2:123456789012:cluster/ml-platform"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
SECURITY_GROUP = "sg-0123456789abcdef0"
SCRIPTS_BUCKET = "sagemaker-ml-platform-20261122000000000000000001"
ZONES = ["us-west-2a", "us-west-2b"]
# Example values of the references every instance group shares.
REFERENCES = {
    GROUP_CONTEXT.execution_role_arn.text: ROLE_ARN,
    GROUP_CONTEXT.scripts_bucket_name.text: SCRIPTS_BUCKET,
    GROUP_CONTEXT.security_group_id.text: SECURITY_GROUP,
    GROUP_CONTEXT.private_subnet_ids.text: SUBNETS,
    GROUP_CONTEXT.private_subnet_zones.text: ZONES,
}


def example_group(group) -> InstanceGroupSpec:
    return InstanceGroupSpec(config=group, context=GROUP_CONTEXT, references=REFERENCES)

RICH = {
    "hyperpod": {
        "node_recovery": "None",
        "instance_groups": [
            {
                "name": "p5",
                "instance_type": "ml.p5.48xlarge",
                "instance_count": 8,
                "min_instance_count": 4,
                "ebs_volume_gb": 16384,
                "deep_health_checks": ["InstanceStress", "InstanceConnectivity"],
                "threads_per_core": 1,
                "labels": {"example.com/pool": "h100"},
                "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
                "capacity": "spot",
                "availability_zone": "us-west-2a",
            },
            {"name": "cpu-1", "instance_type": "ml.c5.large", "instance_count": 0, "ebs_volume_gb": 1},
        ],
    }
}


def example_state(overrides: dict[str, Any]) -> dict[str, Any]:
    """The desired state the cluster construct renders, with example values where the stack
    has references."""
    config = parse_config(overrides)
    placement = VpcPlacement(SUBNETS, [SECURITY_GROUP])
    groups = tuple(example_group(group) for group in config.hyperpod.instance_groups)
    return ClusterSpec(
        name=config.hyperpod.cluster_name,
        eks_cluster_arn=EKS_ARN,
        placement=placement,
        node_recovery=config.hyperpod.node_recovery,
        node_provisioning_mode=config.hyperpod.node_provisioning_mode,
        instance_groups=groups,
        tags=config.tags,
    ).render()


def published_schema() -> dict[str, Any]:
    if not PUBLISHED_SCHEMA.exists():
        pytest.skip(f"no copy of the published schema at {PUBLISHED_SCHEMA}")
    return json.loads(PUBLISHED_SCHEMA.read_text())


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
]


@pytest.mark.parametrize("overrides", [{}, RICH], ids=["defaults", "every field"])
def test_rendered_state_satisfies_the_project_rules(overrides):
    assert cluster_rules.problems(example_state(overrides)) == []


@pytest.mark.parametrize("overrides", [{}, RICH], ids=["defaults", "every field"])
def test_rendered_state_satisfies_the_published_schema(overrides):
    assert cluster_rules.problems(example_state(overrides), published_schema()) == []


@pytest.mark.parametrize("case, mutate, where", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_project_rules_reject(case, mutate, where):
    state = copy.deepcopy(example_state(RICH))
    mutate(state)
    found = cluster_rules.problems(state)
    assert any(where in problem for problem in found), found


@pytest.mark.parametrize("case, mutate, where", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_published_schema_rejects_the_same(case, mutate, where):
    schema = published_schema()
    state = copy.deepcopy(example_state(RICH))
    mutate(state)
    found = cluster_rules.problems(state, schema)
    assert any(where in problem for problem in found), found


def _keywords(schema: dict, root: dict, path: str = "") -> dict[str, dict]:
    """Constraint keywords at every property path of a schema, references resolved."""
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].removeprefix("#/definitions/")]
    if "oneOf" in schema and len(schema["oneOf"]) == 1:
        schema = {**schema, **schema["oneOf"][0]}
    found = {path: {k: v for k, v in schema.items() if k in ("enum", "minimum", "maximum", "minLength",
                                                            "maxLength", "minItems", "maxItems", "required")}}
    for key, child in schema.get("properties", {}).items():
        found.update(_keywords(child, root, f"{path}.{key}"))
    if "items" in schema:
        found.update(_keywords(schema["items"], root, f"{path}[]"))
    return found


def test_project_rules_match_the_published_schema():
    """Every limit the project keeps equals the published one (required may be stricter)."""
    published = published_schema()
    ours = _keywords(cluster_rules.CLUSTER_RULES, cluster_rules.CLUSTER_RULES)
    theirs = _keywords(published, published)
    for path, keywords in ours.items():
        assert path in theirs, f"{path} is not a field of the published schema"
        for keyword, value in keywords.items():
            if keyword == "required":
                assert set(theirs[path].get("required", [])) <= set(value), path
            else:
                assert theirs[path].get(keyword) == value, f"{path} {keyword}: ours {value}, published {theirs[path].get(keyword)}"


def test_synthesized_state_satisfies_the_rules(synth):
    def unresolved(value: Any) -> bool:
        return isinstance(value, str) and "${" in value

    for overrides in ({}, RICH):
        state = jsonencoded(resource(synth(overrides), "aws_cloudcontrolapi_resource", "hyperpod_cluster")["desired_state"])
        assert cluster_rules.problems(state, unresolved=unresolved) == []


def test_synth_refuses_a_state_the_schema_would_reject(tmp_path):
    from cdktf import TerraformStack, Testing

    from modules.hyperpod.cluster import HyperPodCluster, InvalidDesiredState

    config = parse_config({})
    group = example_group(config.hyperpod.instance_groups[0])
    spec = ClusterSpec(
        name="ml-platform-hyperpod",
        eks_cluster_arn=EKS_ARN,
        placement=VpcPlacement([f"subnet-{i}" for i in range(17)], [SECURITY_GROUP]),
        node_recovery="Automatic",
        node_provisioning_mode="Continuous",
        instance_groups=(group,),
        tags={},
    )
    stack = TerraformStack(Testing.app(outdir=str(tmp_path)), "rules")
    with pytest.raises(InvalidDesiredState, match=r"VpcConfig.Subnets: 17 items, at most 16"):
        HyperPodCluster(stack, "cluster", spec=spec, inputs={}, depends_on=[])
