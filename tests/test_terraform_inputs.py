"""The root configuration's Terraform variables: declared with types, descriptions, defaults
from the configuration and validations that refuse what the configuration refuses; the
resources read them, so terraform.tfvars changes what is deployed as the YAML would."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

import pytest

from modules.config import ConfigError, parse_config
from modules.core.hcl_expr import Env, EvaluationError
from modules.hyperpod.desired_state import InstanceGroupSpec
from modules.hyperpod.instance_group_fields import GROUP_FIELDS, KUBERNETES_FIELDS, MAPPED_SOURCES
from modules.inputs import platform_inputs
from modules.inputs.variables import GROUP_FIELD_TYPES, with_optional_defaults
from tests.planned import GROUP_CONTEXT, planned, variable_values
from tests.test_hyperpod_cluster_rules import REFERENCES, RICH

REQUIRED = (
    "region",
    "kubernetes_version",
    "hyperpod_enabled",
    "hyperpod_cluster_name",
    "hyperpod_instance_groups",
    "hyperpod_node_recovery",
    "hyperpod_install_helm_dependencies",
    "hyperpod_enable_training_operator",
    "karpenter_gpu_instance_types",
    "karpenter_gpu_capacity_types",
)
BOOLEANS = {"hyperpod_enabled", "hyperpod_install_helm_dependencies", "hyperpod_enable_training_operator"}

# A configuration that sets every variable-backed key away from its default.
CHANGED = {
    "region": "eu-central-1",
    "kubernetes_version": "1.32",
    "karpenter": {"gpu_pool": {"instance_types": ["p4d.24xlarge"], "capacity_types": ["on-demand", "reserved"]}},
    "hyperpod": {
        "cluster_name": "research-hp",
        "node_recovery": "None",
        "install_helm_dependencies": True,
        "enable_training_operator": False,
        "instance_groups": [
            {**RICH["hyperpod"]["instance_groups"][0], "availability_zone": "eu-central-1a"},
            RICH["hyperpod"]["instance_groups"][1],
        ],
    },
}


def tfvars_for(overrides: dict[str, Any]) -> dict[str, Any]:
    """What an HCL team writes in terraform.tfvars for the same settings."""
    return {spec.name: spec.default for spec in platform_inputs(parse_config(overrides))}


def test_every_required_variable_is_declared_with_type_and_description(raw_stack):
    variables = raw_stack["variable"]
    assert set(REQUIRED) <= set(variables)
    for name in REQUIRED:
        assert variables[name]["type"] and variables[name]["description"], name
        assert variables[name]["nullable"] is False, name
        if name not in BOOLEANS:
            assert variables[name]["validation"], f"{name} is validated"


def test_instance_groups_type_has_every_configured_field_with_its_default(raw_stack):
    from modules.config.hyperpod import InstanceGroupConfig

    assert set(GROUP_FIELD_TYPES) == set(InstanceGroupConfig.model_fields)
    assert MAPPED_SOURCES == set(InstanceGroupConfig.model_fields), "every field reaches the desired state"
    group_type = raw_stack["variable"]["hyperpod_instance_groups"]["type"]
    for needed in ("name = string", "instance_count = number", "min_instance_count = optional(number)",
                   "ebs_volume_gb = optional(number, 500)", "threads_per_core = optional(number, 2)",
                   'deep_health_checks = optional(list(string), [])', "labels = optional(map(string), {})",
                   "value = optional(string)", "capacity = optional(string)", "availability_zone = optional(string)"):
        assert needed in group_type, needed


@pytest.mark.parametrize("overrides", [{}, CHANGED], ids=["defaults", "changed"])
def test_defaults_are_the_synthesized_configuration(raw_synth, overrides):
    config = parse_config(overrides)
    values = variable_values(raw_synth(overrides))
    assert values["region"] == config.region
    assert values["kubernetes_version"] == config.kubernetes_version
    assert values["hyperpod_enabled"] is config.hyperpod.enabled
    assert values["hyperpod_cluster_name"] == config.hyperpod.cluster_name
    assert values["hyperpod_node_recovery"] == config.hyperpod.node_recovery
    assert values["hyperpod_install_helm_dependencies"] is config.hyperpod.install_helm_dependencies
    assert values["hyperpod_enable_training_operator"] is config.hyperpod.enable_training_operator
    assert values["karpenter_gpu_instance_types"] == config.karpenter.gpu_pool.instance_types
    assert values["karpenter_gpu_capacity_types"] == config.karpenter.gpu_pool.capacity_types
    assert values["hyperpod_instance_groups"] == [
        g.model_dump(mode="json") for g in config.hyperpod.instance_groups
    ]


def test_validation_conditions_are_the_specs_rendered(raw_stack):
    for spec in platform_inputs(parse_config({})):
        written = raw_stack["variable"][spec.name].get("validation", [])
        assert [v["condition"] for v in written] == ["${" + v.condition.hcl() + "}" for v in spec.validations]
        assert all(v["error_message"].endswith(".") for v in written)


def _rejected_by_terraform(tfvars: dict[str, Any]) -> list[str]:
    """Error messages of the validations that fail (or cannot evaluate) for these values."""
    specs = platform_inputs(parse_config({}))
    values = {spec.name: spec.default for spec in specs} | tfvars
    values["hyperpod_instance_groups"] = with_optional_defaults(values["hyperpod_instance_groups"])
    # Terraform's plantimestamp() is the time of the plan; the configuration checks today.
    env = Env(variables=values, now=datetime.datetime.now(datetime.timezone.utc))
    failed = []
    for spec in specs:
        for validation in spec.validations:
            try:
                holds = validation.condition.evaluate(env)
            except EvaluationError:
                holds = False
            if holds is not True:
                failed.append(validation.error_message)
    return failed


def _group(**changes: Any) -> dict[str, Any]:
    return {"hyperpod_instance_groups": [{"name": "gpu", "instance_type": "ml.g5.xlarge", "instance_count": 1, **changes}]}


def _yaml_groups(**changes: Any) -> dict[str, Any]:
    return {"hyperpod": {"instance_groups": _group(**changes)["hyperpod_instance_groups"]}}


# (case, YAML overrides, the same as tfvars, words of the Terraform error message)
CASES = [
    ("region shape", {"region": "Oregon"}, {"region": "Oregon"}, "region"),
    ("unknown kubernetes version", {"kubernetes_version": "1.99"}, {"kubernetes_version": "1.99"}, "kubernetes_version"),
    ("ended kubernetes version", {"kubernetes_version": "1.30"}, {"kubernetes_version": "1.30"}, "kubernetes_version"),
    ("cluster name", {"hyperpod": {"cluster_name": "-bad"}}, {"hyperpod_cluster_name": "-bad"}, "hyperpod_cluster_name"),
    ("node recovery", {"hyperpod": {"node_recovery": "Manual"}}, {"hyperpod_node_recovery": "Manual"}, "Automatic"),
    ("no groups", {"hyperpod": {"instance_groups": []}}, {"hyperpod_instance_groups": []}, "at least one"),
    ("group name", _yaml_groups(name="gpu_1"), _group(name="gpu_1"), "names"),
    ("unknown type", _yaml_groups(instance_type="ml.x9.huge"), _group(instance_type="ml.x9.huge"), "instance_type"),
    ("negative count", _yaml_groups(instance_count=-1), _group(instance_count=-1), "instance_count"),
    ("min above count", _yaml_groups(min_instance_count=2), _group(min_instance_count=2), "min_instance_count"),
    ("volume too large", _yaml_groups(ebs_volume_gb=16385), _group(ebs_volume_gb=16385), "ebs_volume_gb"),
    ("volume zero", _yaml_groups(ebs_volume_gb=0), _group(ebs_volume_gb=0), "ebs_volume_gb"),
    ("threads", _yaml_groups(threads_per_core=3), _group(threads_per_core=3), "threads_per_core"),
    ("unknown check", _yaml_groups(deep_health_checks=["Burn"]), _group(deep_health_checks=["Burn"]), "at most once"),
    ("repeated check", _yaml_groups(deep_health_checks=["InstanceStress"] * 2),
     _group(deep_health_checks=["InstanceStress"] * 2), "at most once"),
    ("checks on cpu", _yaml_groups(instance_type="ml.m5.large", deep_health_checks=["InstanceStress"]),
     _group(instance_type="ml.m5.large", deep_health_checks=["InstanceStress"]), "GPU and Trainium"),
    ("label key", _yaml_groups(labels={"Bad Key": "x"}), _group(labels={"Bad Key": "x"}), "Labels"),
    ("label value", _yaml_groups(labels={"team": "a b"}), _group(labels={"team": "a b"}), "Labels"),
    ("taint effect", _yaml_groups(taints=[{"key": "k", "effect": "Never"}]),
     _group(taints=[{"key": "k", "effect": "Never"}]), "taints"),
    ("taint value", _yaml_groups(taints=[{"key": "k", "value": "a b", "effect": "NoSchedule"}]),
     _group(taints=[{"key": "k", "value": "a b", "effect": "NoSchedule"}]), "taints"),
    ("too many taints", _yaml_groups(taints=[{"key": f"k{i}", "effect": "NoSchedule"} for i in range(51)]),
     _group(taints=[{"key": f"k{i}", "effect": "NoSchedule"} for i in range(51)]), "taints"),
    ("capacity", _yaml_groups(capacity="reserved"), _group(capacity="reserved"), "capacity"),
    ("zone shape", _yaml_groups(availability_zone="west"), _group(availability_zone="west"), "availability_zone"),
    ("zone of another region", _yaml_groups(availability_zone="eu-west-1a"),
     _group(availability_zone="eu-west-1a"), "availability_zone"),
    ("duplicate names", {"hyperpod": {"instance_groups": _group()["hyperpod_instance_groups"] * 2}},
     {"hyperpod_instance_groups": _group()["hyperpod_instance_groups"] * 2}, "own name"),
    ("operator without helm", {"hyperpod": {"install_helm_dependencies": False, "enable_training_operator": True}},
     {"hyperpod_install_helm_dependencies": False, "hyperpod_enable_training_operator": True}, "cert-manager"),
    ("gpu type shape", {"karpenter": {"gpu_pool": {"instance_types": ["P5"]}}},
     {"karpenter_gpu_instance_types": ["P5"]}, "EC2 instance types"),
    ("no gpu types", {"karpenter": {"gpu_pool": {"instance_types": []}}},
     {"karpenter_gpu_instance_types": []}, "at least one"),
    ("capacity type", {"karpenter": {"gpu_pool": {"capacity_types": ["cheap"]}}},
     {"karpenter_gpu_capacity_types": ["cheap"]}, "spot, on-demand or reserved"),
    ("no capacity types", {"karpenter": {"gpu_pool": {"capacity_types": []}}},
     {"karpenter_gpu_capacity_types": []}, "at least one"),
]


@pytest.mark.parametrize(("overrides", "tfvars", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validations_refuse_what_the_configuration_refuses(overrides, tfvars, words):
    with pytest.raises(ConfigError):
        parse_config(overrides)
    failed = _rejected_by_terraform(tfvars)
    assert failed, "Terraform accepts what the configuration refuses"
    assert any(words in message for message in failed), failed


def test_gpu_limits_rule_follows_the_configured_limits():
    """The limits stay configuration; the rule on the instance types is rendered from them."""
    too_small = {"karpenter": {"gpu_pool": {"limits": {"cpu": 96, "memory_gi": 1152, "gpus": 8}}}}
    with pytest.raises(ConfigError):
        parse_config(too_small)
    small = {"karpenter": {"gpu_pool": {"instance_types": ["p4d.24xlarge"],
                                        "limits": {"cpu": 96, "memory_gi": 1152, "gpus": 8}}}}
    specs = {spec.name: spec for spec in platform_inputs(parse_config(small))}
    fits = specs["karpenter_gpu_instance_types"].validations[-1].condition
    env = Env(variables={"karpenter_gpu_instance_types": ["p4d.24xlarge"]})
    assert fits.evaluate(env) is True
    assert fits.evaluate(Env(variables={"karpenter_gpu_instance_types": ["p5.48xlarge"]})) is False


@pytest.mark.parametrize("overrides", [{}, RICH, CHANGED], ids=["defaults", "rich", "changed"])
def test_validations_accept_what_the_configuration_accepts(overrides):
    assert _rejected_by_terraform(tfvars_for(overrides)) == []


@pytest.mark.parametrize("overrides", [{}, RICH, CHANGED], ids=["defaults", "rich", "changed"])
def test_for_expression_gives_the_instance_groups_python_renders(overrides):
    from modules.hyperpod.instance_group_fields import evaluate_instance_groups

    config = parse_config(overrides)
    python = [InstanceGroupSpec(g, GROUP_CONTEXT, REFERENCES).render() for g in config.hyperpod.instance_groups]
    values = with_optional_defaults(tfvars_for(overrides)["hyperpod_instance_groups"])
    assert evaluate_instance_groups(values, GROUP_CONTEXT, REFERENCES) == python


def test_field_table_names_each_cloudformation_key_once():
    keys = [f.key for f in (*GROUP_FIELDS, *KUBERNETES_FIELDS)]
    assert len(keys) == len(set(keys))


def _without_variables(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("variable", "//")}


def test_tfvars_deploy_what_the_same_configuration_deploys(raw_synth):
    """Default synth + terraform.tfvars of CHANGED plans what a synth of CHANGED plans."""
    from_tfvars = planned(raw_synth({}), tfvars_for(CHANGED))
    from_yaml = planned(raw_synth(CHANGED))
    assert _without_variables(from_tfvars) == _without_variables(from_yaml)


def test_resources_hold_no_copy_of_a_variable_backed_value(raw_synth):
    """Every configured value a variable stands for is read from it, nowhere written."""
    text = json.dumps(_without_variables(raw_synth(CHANGED)))
    for literal in ("eu-central-1", '"1.32"', "research-hp", "p4d.24xlarge", "reserved", "ml.p5.48xlarge",
                    "example.com/pool", "16384"):
        assert literal not in text, literal
    for name in REQUIRED:
        assert f"var.{name}" in text, f"nothing reads var.{name}"


def test_hyperpod_enabled_false_counts_every_hyperpod_resource_out(raw_stack):
    hyperpod = {
        f"{t}.{n}": block
        for section in ("resource", "data")
        for t, blocks in raw_stack.get(section, {}).items()
        for n, block in blocks.items()
        if n.startswith("hyperpod_")  # addresses follow construct paths: hyperpod/...
    }
    assert len(hyperpod) > 30
    for address, block in hyperpod.items():
        assert block["count"].startswith("${var.hyperpod_enabled"), address
    off = planned(raw_stack, {"hyperpod_enabled": False})
    remaining = json.dumps(_without_variables(off))
    assert "hyperpod" not in json.dumps(off.get("resource", {})).replace("var.hyperpod", "")
    assert "aws_cloudcontrolapi_resource" not in remaining
    assert all(off["output"][name]["value"] is None for name in (
        "hyperpod_cluster_arn", "hyperpod_cluster_name", "hyperpod_cluster_status",
        "hyperpod_execution_role_arn", "lifecycle_scripts_bucket"))


def test_helm_dependencies_and_training_operator_follow_their_variables(raw_stack):
    without_helm = planned(raw_stack, {"hyperpod_install_helm_dependencies": False,
                                       "hyperpod_enable_training_operator": False})
    assert "hyperpod_helm_dependencies_release" not in without_helm["resource"]["helm_release"]
    assert not [n for n in without_helm["resource"]["aws_eks_addon"] if "training_operator" in n]
    default = planned(raw_stack)
    assert "hyperpod_addons_training_operator_addon" in default["resource"]["aws_eks_addon"]


def test_gpu_pool_values_read_the_variables(raw_stack):
    import yaml

    from modules.karpenter.pools import platform_pools

    release = raw_stack["resource"]["helm_release"]["karpenter_node_pools"]
    assert "${jsonencode(var.karpenter_gpu_instance_types)}" in release["values"][0]
    for overrides in ({}, CHANGED):
        config = parse_config(overrides)
        planned_values = planned(raw_stack, tfvars_for(overrides))["resource"]["helm_release"]["karpenter_node_pools"]
        expected = platform_pools(config.karpenter, "ml-platform", "ml-platform-karpenter-node", config.tags).values()
        assert yaml.safe_load(planned_values["values"][0]) == expected


def test_tfvars_values_take_effect_in_a_deep_copy_only(raw_stack):
    before = copy.deepcopy(raw_stack)
    planned(raw_stack, {"region": "eu-west-1"})
    assert raw_stack == before
