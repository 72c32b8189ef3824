"""The root configuration's Terraform variables, declared from the Python configuration.

Each variable's default is the synthesized configuration's value, and its validation
rules repeat the configuration's (``modules/config/``) as Terraform conditions built with
``modules.core.hcl_expr``, so the tests evaluate them against the same cases the Python
validation refuses. Setting a variable in terraform.tfvars changes what is deployed as
the same key in the YAML would: the resources read the variables, not copies of values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import TerraformStack, TerraformVariable, TerraformVariableValidationConfig, Token
from constructs import Construct
from pydantic.fields import PydanticUndefined

from modules.config.hyperpod import (
    AVAILABILITY_ZONE_PATTERN,
    DEEP_HEALTH_CHECKS,
    HYPERPOD_NAME_PATTERN,
    LABEL_KEY_PATTERN,
    LABEL_VALUE_PATTERN,
    MAX_TAINTS,
    InstanceGroupConfig,
)
from modules.config.hyperpod_instance_types import INSTANCE_TYPES
from modules.config.karpenter import GPU_INSTANCE_SHAPES, INSTANCE_TYPE_PATTERN
from modules.config.platform import REGION_PATTERN, PlatformConfig
from modules.config.support_calendar import EKS_SUPPORT_CALENDAR
from modules.core.hcl_expr import (
    Cond,
    Expr,
    ForList,
    ForPairs,
    Lit,
    Not,
    Op,
    Sym,
    Var,
    all_of,
    call,
    every,
    matches,
    null_or,
    one_of,
)
from modules.core.stack import ReadableStack
from modules.hyperpod.desired_state import group_values

CAPACITY_TYPES = ("spot", "on-demand", "reserved")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_RECOVERY = ("Automatic", "None")
GROUP_CAPACITY = ("on-demand", "spot")


@dataclass(frozen=True)
class Validation:
    condition: Expr
    error_message: str


@dataclass(frozen=True)
class InputSpec:
    name: str
    type: str
    """A Terraform type constraint."""
    description: str
    default: Any
    config_key: str
    """The key of the YAML configuration the variable stands for."""
    validations: tuple[Validation, ...] = ()


# Terraform types of the instance group fields; optional() gives the configuration's default.
GROUP_FIELD_TYPES: dict[str, str] = {
    "name": "string",
    "instance_type": "string",
    "instance_count": "number",
    "min_instance_count": "number",
    "ebs_volume_gb": "number",
    "deep_health_checks": "list(string)",
    "threads_per_core": "number",
    "labels": "map(string)",
    "taints": "list(object({ key = string, value = optional(string), effect = string }))",
    "capacity": "string",
    "availability_zone": "string",
}


def group_field_default(field: str) -> Any:
    """The configuration's default of an instance group field (PydanticUndefined: required)."""
    info = InstanceGroupConfig.model_fields[field]
    if info.default_factory is not None:
        return info.default_factory()
    return info.default


def with_optional_defaults(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The groups as Terraform converts them to the variable's type: each optional attribute
    that is absent takes its default (null when it has none)."""
    converted = []
    for group in groups:
        full = {}
        for field in GROUP_FIELD_TYPES:
            default = group_field_default(field)
            full[field] = group[field] if field in group else (None if default is PydanticUndefined else default)
        full["taints"] = [{"key": t["key"], "value": t.get("value"), "effect": t["effect"]} for t in full["taints"]]
        converted.append(full)
    return converted


def instance_group_type() -> str:
    attributes = []
    for field, field_type in GROUP_FIELD_TYPES.items():
        default = group_field_default(field)
        if default is PydanticUndefined:
            attributes.append(f"{field} = {field_type}")
        elif default is None:
            attributes.append(f"{field} = optional({field_type})")
        else:
            attributes.append(f"{field} = optional({field_type}, {_hcl_literal(default)})")
    return "list(object({ " + ", ".join(attributes) + " }))"


def _hcl_literal(value: Any) -> str:
    return Lit(value).hcl()


def _instance_types() -> tuple[list[str], list[str]]:
    known = list(INSTANCE_TYPES)
    return known, [name for name, facts in INSTANCE_TYPES.items() if facts.deep_health_checks_apply]


def _pattern(compiled) -> str:
    return compiled.pattern


def instance_group_validations(config: PlatformConfig) -> tuple[Validation, ...]:
    groups = Var("hyperpod_instance_groups")
    known, deep_check_types = _instance_types()
    validations = [
        Validation(Op(">=", call("length", groups), Lit(1)), "hyperpod_instance_groups needs at least one group."),
        Validation(
            every("g", groups, lambda g: matches(_pattern(HYPERPOD_NAME_PATTERN), g.attr("name"))),
            "Instance group names must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit.",
        ),
        Validation(
            Op(
                "==",
                call("length", call("distinct", _names(groups))),
                call("length", groups),
            ),
            "Each instance group needs its own name.",
        ),
        Validation(
            every("g", groups, lambda g: one_of(known, g.attr("instance_type"))),
            "instance_type must be a HyperPod instance type this platform knows (docs/hyperpod-instance-types.md).",
        ),
        Validation(
            every(
                "g",
                groups,
                lambda g: all_of(
                    Op(">=", g.attr("instance_count"), Lit(0)),
                    null_or(
                        g.attr("min_instance_count"),
                        all_of(
                            Op(">=", g.attr("min_instance_count"), Lit(0)),
                            Op("<=", g.attr("min_instance_count"), g.attr("instance_count")),
                        ),
                    ),
                ),
            ),
            "instance_count must be 0 or more, and min_instance_count between 0 and instance_count.",
        ),
        Validation(
            every(
                "g",
                groups,
                lambda g: all_of(Op(">=", g.attr("ebs_volume_gb"), Lit(1)), Op("<=", g.attr("ebs_volume_gb"), Lit(16384))),
            ),
            "ebs_volume_gb must be between 1 and 16384.",
        ),
        Validation(
            every("g", groups, lambda g: one_of([1, 2], g.attr("threads_per_core"))),
            "threads_per_core must be 1 (multithreading off) or 2.",
        ),
        Validation(
            every(
                "g",
                groups,
                lambda g: all_of(
                    every("c", g.attr("deep_health_checks"), lambda c: one_of(DEEP_HEALTH_CHECKS, c)),
                    Op(
                        "==",
                        call("length", call("distinct", g.attr("deep_health_checks"))),
                        call("length", g.attr("deep_health_checks")),
                    ),
                ),
            ),
            "deep_health_checks lists each of InstanceStress, InstanceConnectivity at most once.",
        ),
        Validation(
            every(
                "g",
                groups,
                lambda g: Cond(
                    Op("==", call("length", g.attr("deep_health_checks")), Lit(0)),
                    Lit(True),
                    one_of(deep_check_types, g.attr("instance_type")),
                ),
            ),
            "deep_health_checks run only on GPU and Trainium instance types.",
        ),
        Validation(
            every(
                "g",
                groups,
                lambda g: call(
                    "alltrue",
                    _for_pairs(
                        g.attr("labels"),
                        lambda key, value: all_of(
                            matches(_pattern(LABEL_KEY_PATTERN), key), matches(_pattern(LABEL_VALUE_PATTERN), value)
                        ),
                    ),
                ),
            ),
            "Labels must be Kubernetes labels (keys such as example.com/team, values of at most 63 characters).",
        ),
        Validation(
            every(
                "g",
                groups,
                lambda g: all_of(
                    Op("<=", call("length", g.attr("taints")), Lit(MAX_TAINTS)),
                    every(
                        "t",
                        g.attr("taints"),
                        lambda t: all_of(
                            matches(_pattern(LABEL_KEY_PATTERN), t.attr("key")),
                            null_or(t.attr("value"), matches(_pattern(LABEL_VALUE_PATTERN), t.attr("value"))),
                            one_of(TAINT_EFFECTS, t.attr("effect")),
                        ),
                    ),
                ),
            ),
            f"At most {MAX_TAINTS} taints per group, each with a Kubernetes key and value and an effect of "
            "NoSchedule, PreferNoSchedule or NoExecute.",
        ),
        Validation(
            every("g", groups, lambda g: null_or(g.attr("capacity"), one_of(GROUP_CAPACITY, g.attr("capacity")))),
            "capacity must be null, on-demand or spot.",
        ),
        Validation(
            every(
                "g",
                groups,
                lambda g: null_or(
                    g.attr("availability_zone"),
                    all_of(
                        matches(_pattern(AVAILABILITY_ZONE_PATTERN), g.attr("availability_zone")),
                        call("startswith", g.attr("availability_zone"), Var("region")),
                    ),
                ),
            ),
            "availability_zone must be a zone of var.region such as us-west-2a.",
        ),
    ]
    subcharts = config.hyperpod.helm_subcharts
    if not subcharts.deep_health_check:
        # The sub-chart choice stays in the Python configuration; the rule follows it.
        validations.append(
            Validation(
                Not(
                    all_of(
                        call("anytrue", _deep_checks_requested(groups)),
                        Var("hyperpod_install_helm_dependencies"),
                    )
                ),
                "An instance group requests deep_health_checks but the deep-health-check sub-chart is off.",
            )
        )
    return tuple(validations)


def _names(groups: Expr) -> Expr:
    return ForList("g", groups, Sym("g").attr("name"))


def _deep_checks_requested(groups: Expr) -> Expr:
    return ForList("g", groups, Op(">", call("length", Sym("g").attr("deep_health_checks")), Lit(0)))


def _for_pairs(collection: Expr, body) -> Expr:
    return ForPairs("k", "v", collection, body(Sym("k"), Sym("v")))


def _kubernetes_version_validation() -> Validation:
    version = Var("kubernetes_version")
    ends = {v: f"{entry.end_of_extended_support.isoformat()}T23:59:59Z" for v, entry in EKS_SUPPORT_CALENDAR.items()}
    return Validation(
        Cond(
            one_of(list(ends), version),
            Op("<=", call("timecmp", call("plantimestamp"), call("lookup", Lit(ends), version)), Lit(0)),
            Lit(False),
        ),
        f"kubernetes_version must be an EKS version still in standard or extended support ({', '.join(ends)}; "
        "see modules/config/support_calendar.py).",
    )


def _gpu_pool_validations(config: PlatformConfig) -> tuple[tuple[Validation, ...], tuple[Validation, ...]]:
    limits = config.karpenter.gpu_pool.limits
    have = (limits.cpu, limits.memory_gi, limits.gpus)
    too_large = sorted(t for t, shape in GPU_INSTANCE_SHAPES.items() if any(h < n for h, n in zip(have, shape)))
    types = Var("karpenter_gpu_instance_types")
    instance_types = (
        Validation(Op(">=", call("length", types), Lit(1)), "karpenter_gpu_instance_types needs at least one type."),
        Validation(
            every("t", types, lambda t: matches(_pattern(INSTANCE_TYPE_PATTERN), t)),
            "karpenter_gpu_instance_types holds EC2 instance types such as p5.48xlarge.",
        ),
        Validation(
            every("t", types, lambda t: Not(one_of(too_large, t))),
            f"The GPU pool's limits (cpu {limits.cpu}, memory_gi {limits.memory_gi}, gpus {limits.gpus}) cannot "
            "hold one instance of a listed type: raise karpenter.gpu_pool.limits.",
        ),
    )
    capacity = Var("karpenter_gpu_capacity_types")
    capacity_types = (
        Validation(Op(">=", call("length", capacity), Lit(1)), "karpenter_gpu_capacity_types needs at least one."),
        Validation(
            every("c", capacity, lambda c: one_of(CAPACITY_TYPES, c)),
            "karpenter_gpu_capacity_types holds spot, on-demand or reserved.",
        ),
    )
    return instance_types, capacity_types


def platform_inputs(config: PlatformConfig) -> tuple[InputSpec, ...]:
    hyperpod = config.hyperpod
    gpu = config.karpenter.gpu_pool
    gpu_types, gpu_capacity = _gpu_pool_validations(config)
    return (
        InputSpec(
            "region",
            "string",
            "AWS region to deploy into.",
            config.region,
            "region",
            (Validation(matches(REGION_PATTERN.pattern, Var("region")), "region must be an AWS region code such as us-west-2."),),
        ),
        InputSpec(
            "kubernetes_version",
            "string",
            "EKS Kubernetes version.",
            config.kubernetes_version,
            "kubernetes_version",
            (_kubernetes_version_validation(),),
        ),
        InputSpec("hyperpod_enabled", "bool", "false removes every HyperPod resource.", hyperpod.enabled, "hyperpod.enabled"),
        InputSpec(
            "hyperpod_cluster_name",
            "string",
            "HyperPod cluster name.",
            hyperpod.cluster_name,
            "hyperpod.cluster_name",
            (
                Validation(
                    matches(_pattern(HYPERPOD_NAME_PATTERN), Var("hyperpod_cluster_name")),
                    "hyperpod_cluster_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit.",
                ),
            ),
        ),
        InputSpec(
            "hyperpod_instance_groups",
            instance_group_type(),
            "HyperPod instance groups; each becomes an InstanceGroups entry of the cluster.",
            [group_values(group) for group in hyperpod.instance_groups],
            "hyperpod.instance_groups",
            instance_group_validations(config),
        ),
        InputSpec(
            "hyperpod_node_recovery",
            "string",
            "Automatic replaces or reboots faulty nodes; None only labels them.",
            hyperpod.node_recovery,
            "hyperpod.node_recovery",
            (Validation(one_of(NODE_RECOVERY, Var("hyperpod_node_recovery")), "hyperpod_node_recovery is Automatic or None."),),
        ),
        InputSpec(
            "hyperpod_install_helm_dependencies",
            "bool",
            "Install the HyperPod dependencies chart (fetch it first: scripts/fetch-hyperpod-chart.sh).",
            hyperpod.install_helm_dependencies,
            "hyperpod.install_helm_dependencies",
        ),
        InputSpec(
            "hyperpod_enable_training_operator",
            "bool",
            "HyperPod training operator add-on (needs the helm dependencies, which bring cert-manager).",
            hyperpod.enable_training_operator,
            "hyperpod.enable_training_operator",
            (
                Validation(
                    Op("||", Not(Var("hyperpod_enable_training_operator")), Var("hyperpod_install_helm_dependencies")),
                    "hyperpod_enable_training_operator needs cert-manager, which hyperpod_install_helm_dependencies installs: "
                    "set that to true or this to false.",
                ),
            ),
        ),
        InputSpec(
            "karpenter_gpu_instance_types",
            "list(string)",
            "Instance types of the Karpenter GPU pool.",
            list(gpu.instance_types),
            "karpenter.gpu_pool.instance_types",
            gpu_types,
        ),
        InputSpec(
            "karpenter_gpu_capacity_types",
            "list(string)",
            "Capacity types of the Karpenter GPU pool (spot, on-demand, reserved).",
            list(gpu.capacity_types),
            "karpenter.gpu_pool.capacity_types",
            gpu_capacity,
        ),
    )


class Inputs:
    """The declared variables, read as tokens by the constructs that use them."""

    def __init__(self, variables: dict[str, TerraformVariable]):
        self._variables = variables

    def string(self, name: str) -> str:
        return self._variables[name].string_value

    def list(self, name: str) -> list[str]:
        return self._variables[name].list_value

    def reference(self, name: str) -> str:
        """``var.<name>``, for expressions written as text."""
        self._variables[name]  # noqa: B018 - fails for a variable that is not declared
        return f"var.{name}"

    def any(self, name: str) -> Any:
        return Token.as_any(self._variables[name].value)


def declare_inputs(stack: TerraformStack, specs: tuple[InputSpec, ...]) -> Inputs:
    # Grouped under one construct: outputs share some names (region) with the variables.
    scope = Construct(stack, "variables")
    variables = {}
    for spec in specs:
        variables[spec.name] = TerraformVariable(
            scope,
            spec.name,
            type=spec.type,
            description=spec.description,
            default=spec.default,
            nullable=False,
            validation=[
                TerraformVariableValidationConfig(condition="${" + v.condition.hcl() + "}", error_message=v.error_message)
                for v in spec.validations
            ]
            or None,
        )
        if isinstance(stack, ReadableStack):
            stack.write_verbatim(("variable", spec.name, "default"), spec.default)
    return Inputs(variables)
