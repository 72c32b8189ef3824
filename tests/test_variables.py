"""The Terraform variables an HCL team sets in terraform.tfvars, checked with Terraform
itself (the offline stand-ins):

1. each variable's type, default (the YAML configuration's value), description and
   validations are derived from the configuration models (``modules.config.terraform``);
2. each invalid value makes ``terraform plan`` fail with the project's message;
3. tfvars that switch HyperPod off, change the instance groups or the GPU pool plan and
   deploy what the same YAML change does;
4. a field added to the instance-group model reaches the variable's type, its validation
   and the desired state's CloudFormation key with no other edit;
5. one apply-update-destroy cycle, whose outputs feed the status script.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
import yaml
from pydantic import BaseModel, Field, ValidationError

from main import HYPERPOD_SETTINGS, KARPENTER_SETTINGS
from modules import hyperpod as hyperpod_module
from modules.config import ConfigError, parse_config
from modules.config.cfn import Cfn, limits
from modules.config.hyperpod import HyperPodConfig, InstanceGroupConfig
from modules.config.karpenter import PoolConfig
from modules.config.platform import PlatformConfig
from modules.config.terraform import terraform_type, validations
from modules.hyperpod.desired_state import Entry, instance_groups
from modules.hyperpod.module import setting_rules
from tests.stacks import Deployed, Synthesized
from tests.test_hyperpod_desired_state import RICH, WRITABLE, problems

HP = "hyperpod"
CLUSTER = ("aws_cloudcontrolapi_resource", "cluster")
# The root module's variables: what an HCL team sets for the whole platform.
REQUIRED = (
    "region",
    "kubernetes_version",
    "hyperpod_enabled",
    *HYPERPOD_SETTINGS,
    *KARPENTER_SETTINGS,
)
BOOLEANS = {"hyperpod_enabled", "hyperpod_install_helm_dependencies", "hyperpod_enable_training_operator"}

# Every variable-backed setting away from its default, and nothing else: the YAML and a
# terraform.tfvars can say all of it.
CHANGED = {
    "region": "eu-central-1",
    "kubernetes_version": "1.32",
    "karpenter": {"pools": [{"kind": "general"}, {"kind": "gpu", "instance_types": ["p4d.24xlarge"], "capacity_types": ["on-demand", "spot"]}]},
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
OFF = {"hyperpod": {"enabled": False}}


def tfvars_for(overrides: dict[str, Any]) -> dict[str, Any]:
    """What an HCL team writes in terraform.tfvars for the same settings (optional group
    fields left out, as a person would: the variable's type gives their defaults)."""
    config = parse_config(overrides)
    hyperpod = hyperpod_module.root_setting_values(config)
    _, pool = config.karpenter.tfvars_pool
    gpu_pool = pool.model_dump(mode="json")
    return {
        "region": config.region,
        "kubernetes_version": config.kubernetes_version,
        "hyperpod_enabled": config.hyperpod.enabled,
        **{name: hyperpod[field] for name, field in HYPERPOD_SETTINGS.items()},
        **{name: gpu_pool[field] for name, field in KARPENTER_SETTINGS.items()},
    }


def said(error) -> str:
    """Terraform's diagnostics on one line (it wraps long messages)."""
    return " ".join(error.stderr.split())


# --- 1. declared from the models ------------------------------------------------------------


def _declared(variable: dict[str, Any]) -> tuple[list[str], list[str]]:
    checks = variable.get("validation", [])
    return [v["condition"] for v in checks], [v["error_message"] for v in checks]


def _derived(name: str, model: type[BaseModel], field: str, rules=()) -> tuple[list[str], list[str]]:
    found = validations(name, model.model_fields[field], name, rules)
    return ["${" + v.condition + "}" for v in found], [v.error_message for v in found]


def _description(model: type[BaseModel], field: str, yaml_key: str) -> str:
    return f"{model.model_fields[field].description.rstrip('.')}. YAML: {yaml_key}."


@pytest.mark.parametrize("overrides", [{}, RICH], ids=["defaults", "rich"])
def test_module_variables_are_derived_from_the_models(synth, overrides):
    """Type, description, default and validations of each setting variable of the HyperPod
    and Karpenter modules are what ``modules.config.terraform`` derives from its field."""
    stack, config = synth(overrides), parse_config(overrides)
    hyperpod = config.hyperpod.model_dump(mode="json", exclude_none=True)
    rules = setting_rules(config.hyperpod)
    for field in hyperpod_module.SETTINGS:
        variable = stack.modules["hyperpod"]["variable"][field]
        assert variable["type"] == terraform_type(HyperPodConfig.model_fields[field].annotation), field
        assert variable["description"] == _description(HyperPodConfig, field, f"hyperpod.{field}")
        assert variable["default"] == hyperpod.get(field), field
        assert _declared(variable) == _derived(field, HyperPodConfig, field, rules.get(field, ())), field
    index, gpu_pool = config.karpenter.tfvars_pool
    key = f"karpenter.pools[{index}]"
    for field in KARPENTER_SETTINGS.values():
        variable = stack.modules["karpenter"]["variable"][f"gpu_pool_{field}"]
        rules = gpu_pool.instance_type_rules(key) if field == "instance_types" else gpu_pool.capacity_type_rules(key)
        assert variable["type"] == terraform_type(PoolConfig.model_fields[field].annotation), field
        assert variable["description"] == _description(PoolConfig, field, f"{key}.{field}")
        assert variable["default"] == gpu_pool.model_dump(mode="json")[field], field
        assert _declared(variable) == _derived(f"gpu_pool_{field}", PoolConfig, field, rules), field


@pytest.mark.parametrize("overrides", [{}, CHANGED], ids=["defaults", "changed"])
def test_root_variables_pass_the_settings_through_with_the_yaml_defaults(synth, overrides):
    stack, config = synth(overrides), parse_config(overrides)
    variables = stack.root["variable"]
    assert {name: variables[name]["default"] for name in REQUIRED} == tfvars_for(overrides)
    for name, field in HYPERPOD_SETTINGS.items():
        module = stack.modules["hyperpod"]["variable"][field]
        assert {k: variables[name][k] for k in ("type", "description")} == {k: module[k] for k in ("type", "description")}
        assert "validation" not in variables[name], "the module validates it, naming its own variable"
        assert stack.root["module"]["hyperpod"][field] == f"${{var.{name}}}"
    for name, field in KARPENTER_SETTINGS.items():
        assert stack.root["module"]["karpenter"][f"gpu_pool_{field}"] == f"${{var.{name}}}"
    for name in ("region", "kubernetes_version"):
        assert variables[name]["description"] == _description(PlatformConfig, name, name)
        assert _declared(variables[name]) == _derived(name, PlatformConfig, name)
    assert variables["hyperpod_enabled"]["default"] is config.hyperpod.enabled


def test_every_root_variable_is_declared_with_type_and_description(stack):
    variables = stack.root["variable"]
    assert set(REQUIRED) <= set(variables)
    module_variables = {f"hyperpod_{k}": v for k, v in stack.modules["hyperpod"]["variable"].items()}
    module_variables |= {f"karpenter_gpu_{k.removeprefix('gpu_pool_')}": v for k, v in stack.modules["karpenter"]["variable"].items()}
    for name in REQUIRED:
        assert variables[name]["type"] and variables[name]["description"], name
        assert variables[name]["nullable"] is False, name
        if name not in BOOLEANS:
            checked = variables[name].get("validation") or module_variables.get(name, {}).get("validation")
            assert checked, f"{name} is validated, at the root or in the module it reaches"


def test_instance_groups_type_has_every_configured_field_with_its_default(stack):
    group_type = stack.modules["hyperpod"]["variable"]["instance_groups"]["type"]
    for field in InstanceGroupConfig.model_fields:
        assert f" {field} = " in group_type, field
    for needed in ("name = string", "instance_count = number", "min_instance_count = optional(number)",
                   "ebs_volume_gb = optional(number, 500)", "threads_per_core = optional(number, 2)",
                   'deep_health_checks = optional(list(string), [])', "labels = optional(map(string), {",
                   "value = optional(string)", "capacity = optional(string)", "availability_zone = optional(string)"):
        assert needed in group_type, needed


# --- 2. invalid values refused by terraform plan --------------------------------------------

GROUP = {"instance_type": "ml.g5.xlarge", "instance_count": 1}


def group(name: str, **changes: Any) -> dict[str, Any]:
    return {"name": name, **GROUP, **changes}


# The start of each message: the variable (or the group attribute) and what it must be;
# the limits in them are derived, so the tests name the rule rather than restate limits.
MESSAGES = {
    "region": "region must be an AWS region code such as us-west-2 or eu-central-1.",
    "kubernetes_version": "kubernetes_version must be an EKS version still in standard or extended support",
    "cluster_name": "cluster_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit",
    "node_recovery": "node_recovery must be one of Automatic, None.",
    "no groups": "instance_groups must have at least 1 item",
    "group name": "instance_groups: each name must be:",
    "instance_type": "instance_groups: instance_type must be a HyperPod instance type this platform knows",
    "instance_count": "instance_groups: each instance_count must be: a whole number, at least 0",
    "min above count": "instance_groups: min_instance_count must not exceed instance_count.",
    "ebs": "instance_groups: each ebs_volume_gb must be: a whole number, at least 1, at most 16384.",
    "threads": "instance_groups: each threads_per_core must be: a whole number, at least 1, at most 2.",
    "check name": "instance_groups: each deep_health_checks must be: items one of InstanceStress, InstanceConnectivity.",
    "repeated check": "instance_groups: deep_health_checks lists each check at most once.",
    "checks on cpu": "instance_groups: deep_health_checks run only on GPU and Trainium instance types.",
    "labels": "instance_groups: each labels must be:",
    "taints": "instance_groups: each taints must be: at most 50 items",
    "capacity": "instance_groups: each capacity must be: one of on-demand, spot.",
    "zone shape": "instance_groups: each availability_zone must be: an availability zone name such as us-west-2a.",
    "duplicate names": "Each instance group needs its own name.",
    "operator without helm": "enable_training_operator needs cert-manager, which this platform installs with the "
    "HyperPod helm dependencies",
    "gpu type shape": "gpu_pool_instance_types must be items an EC2 instance type such as p5.48xlarge.",
    "no gpu types": "gpu_pool_instance_types must be at least 1 item",
    "gpu capacity": "gpu_pool_capacity_types must be items one of spot, on-demand, reserved.",
    "no gpu capacity": "gpu_pool_capacity_types must be at least 1 item",
    "reserved without reservations": "reserved needs capacity reservations to launch into: add them to karpenter.pools[1].capacity_reservations.",
}

# (case, YAML overrides, the same as tfvars, the message). Each batch is one plan: its
# cases set different variables, or different groups whose faults have different messages.
BATCHES: dict[str, list[tuple[str, dict[str, Any], dict[str, Any], str]]] = {
    "first": [
        ("region shape", {"region": "Oregon"}, {"region": "Oregon"}, "region"),
        ("unknown kubernetes version", {"kubernetes_version": "1.99"}, {"kubernetes_version": "1.99"}, "kubernetes_version"),
        ("cluster name", {"hyperpod": {"cluster_name": "-bad"}}, {"hyperpod_cluster_name": "-bad"}, "cluster_name"),
        ("node recovery", {"hyperpod": {"node_recovery": "Manual"}}, {"hyperpod_node_recovery": "Manual"}, "node_recovery"),
        ("group name", {}, {"groups": [group("gpu_1")]}, "group name"),
        ("unknown type", {}, {"groups": [group("b", instance_type="ml.x9.huge")]}, "instance_type"),
        ("negative count", {}, {"groups": [group("c", instance_count=-1)]}, "instance_count"),
        ("min above count", {}, {"groups": [group("d", min_instance_count=2)]}, "min above count"),
        ("volume too large", {}, {"groups": [group("e", ebs_volume_gb=16385)]}, "ebs"),
        ("threads", {}, {"groups": [group("f", threads_per_core=3)]}, "threads"),
        ("unknown check", {}, {"groups": [group("h", deep_health_checks=["Burn"])]}, "check name"),
        ("repeated check", {}, {"groups": [group("i", deep_health_checks=["InstanceStress"] * 2)]}, "repeated check"),
        ("checks on cpu", {}, {"groups": [group("j", instance_type="ml.m5.large", deep_health_checks=["InstanceStress"])]},
         "checks on cpu"),
        ("label key", {}, {"groups": [group("k", labels={"Bad Key": "x"})]}, "labels"),
        ("taint effect", {}, {"groups": [group("l", taints=[{"key": "k", "effect": "Never"}])]}, "taints"),
        ("capacity", {}, {"groups": [group("m", capacity="reserved")]}, "capacity"),
        ("zone shape", {}, {"groups": [group("n", availability_zone="west")]}, "zone shape"),
        ("duplicate names", {}, {"groups": [group("dup"), group("dup")]}, "duplicate names"),
        ("operator without helm", {"hyperpod": {"install_helm_dependencies": False, "enable_training_operator": True}},
         {"hyperpod_install_helm_dependencies": False, "hyperpod_enable_training_operator": True}, "operator without helm"),
        ("gpu type shape", {"karpenter": {"pools": [{"kind": "gpu", "instance_types": ["P5"]}]}},
         {"karpenter_gpu_instance_types": ["P5"]}, "gpu type shape"),
        ("capacity type", {"karpenter": {"pools": [{"kind": "gpu", "capacity_types": ["cheap"]}]}},
         {"karpenter_gpu_capacity_types": ["cheap"]}, "gpu capacity"),
    ],
    "second": [
        ("ended kubernetes version", {"kubernetes_version": "1.30"}, {"kubernetes_version": "1.30"}, "kubernetes_version"),
        ("volume zero", {}, {"groups": [group("a", ebs_volume_gb=0)]}, "ebs"),
        ("label value", {}, {"groups": [group("b", labels={"team": "a b"})]}, "labels"),
        ("taint value", {}, {"groups": [group("c", taints=[{"key": "k", "value": "a b", "effect": "NoSchedule"}])]}, "taints"),
        ("no gpu types", {"karpenter": {"pools": [{"kind": "gpu", "instance_types": []}]}},
         {"karpenter_gpu_instance_types": []}, "no gpu types"),
        ("no capacity types", {"karpenter": {"pools": [{"kind": "gpu", "capacity_types": []}]}},
         {"karpenter_gpu_capacity_types": []}, "no gpu capacity"),
    ],
    "third": [
        ("reserved without reservations", {"karpenter": {"pools": [{"kind": "gpu", "capacity_types": ["reserved", "spot"]}]}},
         {"karpenter_gpu_capacity_types": ["reserved", "spot"]}, "reserved without reservations"),
        ("too many taints", {}, {"groups": [group("a", taints=[{"key": f"k{i}", "effect": "NoSchedule"} for i in range(51)])]},
         "taints"),
    ],
    "fourth": [
        ("no groups", {"hyperpod": {"instance_groups": []}}, {"hyperpod_instance_groups": []}, "no groups"),
    ],
}
CASES = [case for cases in BATCHES.values() for case in cases]


def _tfvars(cases) -> dict[str, Any]:
    """One tfvars of a batch: the groups of its cases in one list, the rest as given."""
    tfvars: dict[str, Any] = {}
    for _, _, values, _ in cases:
        values = dict(values)
        if "groups" in values:
            tfvars.setdefault("hyperpod_instance_groups", []).extend(values.pop("groups"))
        assert not set(values) & set(tfvars), "a variable is set once per batch"
        tfvars.update(values)
    return tfvars


def _yaml(overrides: dict[str, Any], tfvars: dict[str, Any]) -> dict[str, Any]:
    """A case's YAML: given, or its groups under hyperpod.instance_groups."""
    return overrides or {"hyperpod": {"instance_groups": tfvars["groups"]}}


@pytest.mark.parametrize("case, overrides, tfvars, message", CASES, ids=[c[0] for c in CASES])
def test_the_configuration_refuses_each_case(case, overrides, tfvars, message):
    """The cases are what the YAML refuses too: the two refuse the same settings."""
    with pytest.raises(ConfigError):
        parse_config(_yaml(overrides, tfvars))


@pytest.mark.parametrize("batch", list(BATCHES))
def test_terraform_plan_refuses_each_invalid_value_with_the_project_message(workspace, batch):
    from tooling.offline import TerraformError

    cases = BATCHES[batch]
    with pytest.raises(TerraformError) as refused:
        workspace({}, 3, "plan").plan(vars=_tfvars(cases))
    text = said(refused.value)
    missing = [case for case, _, _, message in cases if MESSAGES[message] not in text]
    assert not missing, f"no message for {missing} in:\n{text}"
    assert text.count("Error: ") == text.count("Error: Invalid value for variable"), "validations refuse, nothing breaks"


def test_a_zone_outside_the_vpc_is_refused_at_plan(plan):
    """A zone of another region has no private subnet: the cluster's precondition says so
    in terraform plan (a variable cannot know the zones the VPC found)."""
    from tooling.offline import TerraformError

    with pytest.raises(ConfigError):
        parse_config({"hyperpod": {"instance_groups": [group("a", availability_zone="eu-west-1a")]}})
    with pytest.raises(TerraformError) as refused:
        plan({}, {"hyperpod_instance_groups": [group("a", availability_zone="eu-west-1a")]})
    assert "instance group a is pinned to availability_zone eu-west-1a, where the VPC has no private subnet" in said(
        refused.value
    )


def test_rules_rendered_from_yaml_only_settings_refuse_tfvars(plan):
    """RICH lowers the GPU pool's limits to one p4d.24xlarge and turns the deep-health-check
    sub-chart off: a tfvars asking for p5.48xlarge, or for deep health checks, is refused."""
    from tooling.offline import TerraformError

    config = parse_config(RICH)
    with pytest.raises(ConfigError):
        parse_config({**RICH, "karpenter": {"pools": [{**RICH["karpenter"]["pools"][0], "instance_types": ["p5.48xlarge"]}]}})
    checked = {**RICH["hyperpod"]["instance_groups"][1], "instance_type": "ml.g5.xlarge", "deep_health_checks": ["InstanceStress"]}
    with pytest.raises(ConfigError):
        parse_config({**RICH, "hyperpod": {**RICH["hyperpod"], "instance_groups": [checked]}})
    with pytest.raises(TerraformError) as refused:
        plan(RICH, {"karpenter_gpu_instance_types": ["p5.48xlarge"], "hyperpod_instance_groups": [checked]})
    text = said(refused.value)
    limits = config.karpenter.pools[0].limits
    assert f"the GPU pool's limits (cpu {limits.cpu}, memory_gi {limits.memory_gi}, gpus {limits.gpus}) cannot hold" in text
    assert "an instance group requests deep_health_checks but helm_subcharts.deep_health_check is false" in text
    assert text.count("Error: ") == text.count("Error: Invalid value for variable") == 2


def test_validations_accept_what_the_configuration_accepts(deployed, deploy, planned):
    """The default and RICH values pass the module's validations as their variables'
    defaults (both applied); CHANGED passes them as tfvars (planned below)."""
    for applied in (deployed, deploy(RICH)):
        assert applied.find(*CLUSTER, module=HP)
    assert planned({}, tfvars_for(CHANGED)).find(*CLUSTER, module=HP)


# --- 3. tfvars plan what the YAML plans -----------------------------------------------------


def test_tfvars_switching_hyperpod_off_plan_what_the_yaml_plans(planned):
    from_tfvars, from_yaml = planned({}, {"hyperpod_enabled": False}), planned(OFF)
    assert not [a for a in from_tfvars.values if a.startswith("module.hyperpod")]
    assert from_tfvars.values == from_yaml.values
    assert from_tfvars.outputs == from_yaml.outputs


@pytest.fixture(scope="module")
def changed_by_tfvars(planned) -> Deployed:
    """The default synth planned with CHANGED as terraform.tfvars."""
    return planned({}, tfvars_for(CHANGED))


def test_tfvars_changing_groups_and_the_gpu_pool_plan_what_the_yaml_plans(changed_by_tfvars, plan):
    """The same resources with the same values, and the same ones left to know at apply
    (the desired state among them: the cycle below applies a group change from tfvars)."""
    from_yaml = plan(CHANGED)
    assert changed_by_tfvars.values == Deployed.from_plan(from_yaml).values
    assert changed_by_tfvars.outputs == Deployed.from_plan(from_yaml).outputs
    from_tfvars = plan({}, tfvars_for(CHANGED))
    unknown = {rc["address"]: rc["change"]["after_unknown"] for rc in from_tfvars.resource_changes}
    assert unknown == {rc["address"]: rc["change"]["after_unknown"] for rc in from_yaml.resource_changes}


def test_tfvars_reach_the_cluster_the_charts_and_the_add_ons(changed_by_tfvars):
    """What the comparison above compared is the change itself, not two defaults."""
    planned = changed_by_tfvars
    assert planned.find("aws_eks_cluster", "eks_control_plane_cluster")["version"] == "1.32"
    assert planned.outputs["region"] == "eu-central-1"
    zones = {s["availability_zone"] for a, s in planned.of_type("aws_subnet").items() if "private_subnets" in a}
    assert "eu-central-1a" in zones, "the zone the trainium group is pinned to (its precondition held)"
    release = planned.find("helm_release", "helm_dependencies_release", HP)
    assert yaml.safe_load(release["values"][0])["cert-manager"] == {"enabled": False}, "for the training operator only"
    assert planned.of_type("aws_eks_addon", HP) == {}, "the training operator add-on is counted out"


@pytest.mark.parametrize("which", ["defaults", "changed"])
def test_gpu_pool_values_read_the_variables(which, deployed, changed_by_tfvars):
    from modules.karpenter.pools import platform_pools

    overrides, applied = ({}, deployed) if which == "defaults" else (CHANGED, changed_by_tfvars)
    config = parse_config(overrides)
    release = applied.find("helm_release", "node_pools", "karpenter")
    expected = platform_pools(config.karpenter, "ml-platform", "ml-platform-karpenter-node", config.tags).values()
    assert yaml.safe_load(release["values"][0]) == expected


def test_helm_dependencies_and_training_operator_follow_their_variables(planned, deployed):
    without = planned({}, {"hyperpod_install_helm_dependencies": False, "hyperpod_enable_training_operator": False})
    assert without.of_type("helm_release", HP) == {}
    assert without.of_type("aws_eks_addon", HP) == {}
    assert deployed.find("helm_release", "helm_dependencies_release", HP)
    assert deployed.find("aws_eks_addon", "addons_training_operator_addon", HP)


def test_resources_hold_no_copy_of_a_variable_backed_value(synth):
    """Every configured value a variable stands for is read from it, written only as the
    variables' defaults."""
    stack = synth(CHANGED)
    # Locals hold tables of the platform (every GPU type's model, for derived pool names).
    text = json.dumps({name: {k: v for k, v in doc.items() if k not in ("variable", "locals", "//")}
                       for name, doc in stack.all_documents().items()})
    for literal in ("eu-central-1", '"1.32"', "research-hp", "p4d.24xlarge", "reserved", "ml.trn1.32xlarge",
                    "example.com/team", "16384"):
        assert literal not in text, literal
    root = json.dumps({k: v for k, v in stack.root.items() if k != "variable"})
    for name in REQUIRED:
        assert f"var.{name}" in root, f"nothing reads var.{name}"


def test_planning_with_tfvars_never_writes_the_synthesized_folder(plan, stack):
    plan({}, {"hyperpod_enabled": False})
    again = Synthesized.read(stack.folder)
    assert (again.root, again.modules) == (stack.root, stack.modules)
    assert not list(stack.folder.rglob(".terraform*")) and not list(stack.folder.rglob("*.tfstate"))


# --- 4. a new instance-group field is one edit ----------------------------------------------


class PlannedGroup(InstanceGroupConfig):
    """A test-only instance group with one more field, written as a real one would be: its
    limits from the published schema, its place in the desired state with Cfn."""

    training_plan_arn: Annotated[
        str | None, *limits("ClusterInstanceGroup.TrainingPlanArn"), Cfn("TrainingPlanArn")
    ] = Field(default=None, description="Training plan whose reserved capacity the group uses.")


class PlannedSettings(BaseModel):
    instance_groups: Annotated[
        list[PlannedGroup], *HyperPodConfig.model_fields["instance_groups"].metadata
    ] = Field(description="HyperPod instance groups.")


PLAN_ARN = "arn:aws:sagemaker:us-west-2:123456789012:training-plan/research-h100-reservation"
# What the module adds to every group, as fixed values.
SHARED = [
    Entry(("ExecutionRole",), '"arn:aws:iam::123456789012:role/ml-platform-hyperpod-execution"'),
    Entry(("LifeCycleConfig", "SourceS3Uri"), '"s3://sagemaker-ml-platform-scripts"'),
    Entry(("LifeCycleConfig", "OnCreate"), '"on_create.sh"'),
]


def test_a_new_field_is_typed_and_validated_from_its_metadata():
    field = PlannedSettings.model_fields["instance_groups"]
    assert "training_plan_arn = optional(string)" in terraform_type(field.annotation)
    [check] = [v for v in validations("instance_groups", field, "instance_groups") if "training_plan_arn" in v.condition]
    assert check.error_message.startswith("instance_groups: each training_plan_arn must be: at least 50 characters, "
                                          "at most 2048 characters, matching ^arn:aws")
    PlannedGroup(name="a", instance_type="ml.p5.48xlarge", instance_count=1, training_plan_arn=PLAN_ARN)
    with pytest.raises(ValidationError, match="training_plan_arn"):
        PlannedGroup(name="a", instance_type="ml.p5.48xlarge", instance_count=1, training_plan_arn="arn:too-short")


def test_a_new_field_reaches_the_desired_state(tmp_path, workspace):
    """A configuration of just the derived variable and the rendered ``for`` expression,
    run by Terraform: the group's entry carries TrainingPlanArn (valid for the published
    schema) when set, and leaves it out when not; a bad ARN is refused by the validation."""
    from tooling.offline import TerraformError, Workspace

    workspace({}, 3, "plan")  # skips when terraform is missing
    field = PlannedSettings.model_fields["instance_groups"]
    expression = instance_groups("var.instance_groups", PlannedGroup, SHARED)
    assert "TrainingPlanArn = group.training_plan_arn" in expression
    document = {
        "variable": {
            "instance_groups": {
                "type": terraform_type(field.annotation),
                "validation": [
                    {"condition": "${" + v.condition + "}", "error_message": v.error_message}
                    for v in validations("instance_groups", field, "instance_groups")
                ],
            }
        },
        "output": {"instance_groups": {"value": "${" + expression + "}"}},
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(document, indent=2))
    groups = [group("reserved", instance_type="ml.p5.48xlarge", training_plan_arn=PLAN_ARN), group("on-demand")]
    with Workspace(tmp_path) as ws:
        rendered = ws.plan(vars={"instance_groups": groups}).outputs["instance_groups"]
        with pytest.raises(TerraformError) as refused:
            ws.plan(vars={"instance_groups": [group("bad", training_plan_arn="arn:too-short")]})
    reserved, on_demand = rendered
    assert reserved["TrainingPlanArn"] == PLAN_ARN and "TrainingPlanArn" not in on_demand
    for entry in rendered:
        assert problems({"InstanceGroups": [entry]}, WRITABLE) == [], entry
    assert "instance_groups: each training_plan_arn must be: at least 50 characters" in said(refused.value)


# --- 5. apply, update, switch off, destroy --------------------------------------------------


def _changes(plan) -> dict[str, list[str]]:
    """Address -> actions of what a plan changes (no-ops and reads left out)."""
    return {rc["address"]: rc["change"]["actions"] for rc in plan.resource_changes
            if rc["change"]["actions"] not in (["no-op"], ["read"])}


def test_apply_update_switch_off_and_destroy(workspace, deployed, tmp_path):
    """Apply the default; change a group's count in tfvars (the cluster updates in place,
    nothing else changes); switch HyperPod off (only its resources go); destroy (all goes,
    each resource before what it waits for). The applied outputs feed the status script.

    The cycle starts from the session's apply of the default (``deployed``: its plan
    created everything, nothing else), in a workspace of its own."""
    from scripts.deployment_outputs import OutputsError, read_outputs
    from scripts.hyperpod_status import target_from_outputs
    from tooling.analysis import from_dot

    ws = workspace({}, 3, "cycle")
    cluster = f"module.hyperpod[0].{CLUSTER[0]}.{CLUSTER[1]}"
    report: list[str] = []

    def applied(name: str, plan) -> dict[str, list[str]]:
        ws.apply(plan)
        changes = _changes(plan)
        kinds: dict[str, int] = {}
        for actions in changes.values():
            kinds["/".join(actions)] = kinds.get("/".join(actions), 0) + 1
        report.append(f"{name}: {plan.summary} {kinds}")
        return changes

    ws.state_file.parent.mkdir(parents=True, exist_ok=True)
    ws.state_file.write_text(json.dumps(deployed.state))  # the update's plan proves it is the default's
    ws.init()
    report.append(f"apply the default: {len(deployed.values)} resources and data sources in the state")
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(ws.run("output", "-json", "-no-color").stdout)
    target = target_from_outputs(read_outputs(outputs_file))
    arn = ws.resource_values(cluster)["id"]
    assert (target.cluster, target.region, target.eks_cluster) == (arn, "us-west-2", "ml-platform")

    groups = tfvars_for({})["hyperpod_instance_groups"]
    bigger = {"hyperpod_instance_groups": [{**groups[0], "instance_count": 3}]}
    updated = applied("instance_count 2 -> 3", ws.plan(vars=bigger))
    assert updated == {cluster: ["update"]}, "the cluster updates in place, and nothing else changes"
    state = json.loads(ws.resource_values(cluster)["desired_state"])
    assert state["InstanceGroups"][0]["InstanceCount"] == 3
    assert ws.resource_values(cluster)["id"] == arn, "the same cluster"

    hyperpod = {a for a in ws.state_list() if a.startswith("module.hyperpod") and ".data." not in a}
    switched_off = applied("hyperpod_enabled = false", ws.plan(vars={**bigger, "hyperpod_enabled": False}))
    assert switched_off == {address: ["delete"] for address in hyperpod}, "only HyperPod's resources are destroyed"
    assert not [a for a in ws.state_list() if a.startswith("module.hyperpod")]
    outputs_file.write_text(ws.run("output", "-json", "-no-color").stdout)
    with pytest.raises(OutputsError, match="hyperpod.enabled"):
        target_from_outputs(read_outputs(outputs_file))

    graph = from_dot(ws.run("graph", "-type=plan").stdout)
    remaining = ws.state_list()
    destroyed = ws.destroy(vars={**bigger, "hyperpod_enabled": False})
    report.append(f"destroy: {destroyed.summary}")
    assert ws.state_list() == [], "everything goes"
    assert destroyed.summary == f"Destroy complete! Resources: {len([a for a in remaining if '.data.' not in f'.{a}'])} destroyed."
    _assert_destroyed_in_dependency_order(destroyed.stdout, graph)
    report.append("seconds: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in ws.timings))
    print("\n".join(report))


def _assert_destroyed_in_dependency_order(log: str, graph) -> None:
    """Whatever waits for a resource is gone before Terraform starts destroying it."""
    started: dict[str, int] = {}
    finished: dict[str, int] = {}
    for number, line in enumerate(log.splitlines()):
        address, _, event = line.partition(": ")
        address = ".".join(part.split("[")[0] for part in address.split("."))  # no instance keys
        if event.startswith("Destroying..."):
            started.setdefault(address, number)
        elif event.startswith("Destruction complete"):
            finished[address] = number
    assert started, "the destroy log lists what it destroyed"
    checked = 0
    for waiting, needed in graph.edges.items():
        for dependency in needed:
            if waiting in finished and dependency in started:
                assert finished[waiting] < started[dependency], f"{dependency} went before {waiting}"
                checked += 1
    assert checked > 100, "the order of most dependencies was seen"
