"""How an instance group of ``hyperpod.instance_groups`` becomes an ``InstanceGroups`` entry
of the cluster's desired state: one table, rendered two ways.

``GROUP_FIELDS`` maps each configuration field to its CloudFormation key, when the key is
present, and the shape of its value. From it come both the Python rendering of a
configured group (``render_group``, used for the synth-time schema check and the tests)
and the Terraform ``for`` expression over ``var.hyperpod_instance_groups`` that the
synthesized cluster reads (``instance_groups_expression``): the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from modules.core.hcl_expr import (
    DynamicKeyObj,
    Env,
    Expr,
    ForList,
    ListOf,
    Lit,
    Obj,
    OmitUnless,
    Op,
    Ref,
    Sym,
    Template,
    Var,
    call,
    every,
    null_or,
)

ON_CREATE_SCRIPT = "on_create.sh"
CAPACITY_FIELDS = {"on-demand": "OnDemand", "spot": "Spot"}
INSTANCE_GROUPS_VARIABLE = "hyperpod_instance_groups"

Presence = Literal["always", "unless_null", "unless_empty"]


@dataclass(frozen=True)
class GroupField:
    key: str
    """The CloudFormation key."""
    source: str
    """The field of ``InstanceGroupConfig`` (and attribute of the Terraform object)."""
    presence: Presence = "always"
    shape: Callable[[Expr], Expr] = lambda value: value


def _volume(size: Expr) -> Expr:
    return ListOf((Obj.of(EbsVolumeConfig=Obj.of(VolumeSizeInGB=size)),))


def _capacity(capacity: Expr) -> Expr:
    return DynamicKeyObj(call("lookup", Lit(CAPACITY_FIELDS), capacity), Obj(()))


def _taints(taints: Expr) -> Expr:
    taint = Sym("taint")
    return ForList(
        "taint",
        taints,
        call(
            "merge",
            Obj.of(Key=taint.attr("key"), Effect=taint.attr("effect")),
            OmitUnless("Value", taint.attr("value"), _not_null),
        ),
    )


def _not_null(value: Expr) -> Expr:
    return Op("!=", value, Lit(None))


def _not_empty(value: Expr) -> Expr:
    return Op(">", call("length", value), Lit(0))


GROUP_FIELDS: tuple[GroupField, ...] = (
    GroupField("InstanceGroupName", "name"),
    GroupField("InstanceType", "instance_type"),
    GroupField("InstanceCount", "instance_count"),
    GroupField("ThreadsPerCore", "threads_per_core"),
    GroupField("InstanceStorageConfigs", "ebs_volume_gb", shape=_volume),
    GroupField("MinInstanceCount", "min_instance_count", "unless_null"),
    GroupField("OnStartDeepHealthChecks", "deep_health_checks", "unless_empty"),
    GroupField("CapacityRequirements", "capacity", "unless_null", shape=_capacity),
)
# Fields inside KubernetesConfig, which is itself present only when one of them is.
KUBERNETES_FIELDS: tuple[GroupField, ...] = (
    GroupField("Labels", "labels", "unless_empty"),
    GroupField("Taints", "taints", "unless_empty", shape=_taints),
)
# Placement is rendered from the group's zone and the platform's subnets (see placement).
ZONE_FIELD = "availability_zone"
MAPPED_SOURCES = frozenset({f.source for f in (*GROUP_FIELDS, *KUBERNETES_FIELDS)} | {ZONE_FIELD})

_KEEP = {"unless_null": _not_null, "unless_empty": _not_empty}


@dataclass(frozen=True)
class GroupContext:
    """What every group shares, as Terraform references (rendered) or values (evaluated)."""

    execution_role_arn: Ref
    scripts_bucket_name: Ref
    security_group_id: Ref
    private_subnet_ids: Ref
    private_subnet_zones: Ref


def _fields(group: Expr, fields: tuple[GroupField, ...]) -> tuple[dict[str, Expr], list[Expr]]:
    always: dict[str, Expr] = {}
    optional: list[Expr] = []
    for item in fields:
        value = group.attr(item.source)
        if item.presence == "always":
            always[item.key] = item.shape(value)
        else:
            optional.append(OmitUnless(item.key, value, _KEEP[item.presence], item.shape))
    return always, optional


def group_expression(group: Expr, context: GroupContext) -> Expr:
    """The ``InstanceGroups`` entry of one group (an object expression)."""
    always, optional = _fields(group, GROUP_FIELDS)
    always["ExecutionRole"] = context.execution_role_arn
    always["LifeCycleConfig"] = Obj.of(
        SourceS3Uri=Template(("s3://", context.scripts_bucket_name)), OnCreate=Lit(ON_CREATE_SCRIPT)
    )
    _, kubernetes = _fields(group, KUBERNETES_FIELDS)

    def placement(zone: Expr) -> Expr:
        # The private subnet of the group's zone (subnets spread over zones found at apply).
        return Obj.of(
            SecurityGroupIds=ListOf((context.security_group_id,)),
            Subnets=call("matchkeys", context.private_subnet_ids, context.private_subnet_zones, ListOf((zone,))),
        )

    return call(
        "merge",
        Obj(tuple(always.items())),
        *optional,
        OmitUnless("KubernetesConfig", call("merge", *kubernetes), _not_empty),
        OmitUnless("OverrideVpcConfig", group.attr(ZONE_FIELD), _not_null, placement),
    )


def instance_groups_expression(context: GroupContext) -> Expr:
    """``[for group in var.hyperpod_instance_groups : {...}]``."""
    return ForList("group", Var(INSTANCE_GROUPS_VARIABLE), group_expression(Sym("group"), context))


def zones_have_a_subnet(context: GroupContext) -> Expr:
    """True when every group pinned to a zone finds a private subnet there."""
    ids, zones = context.private_subnet_ids, context.private_subnet_zones

    def has_a_subnet(zone: Expr) -> Expr:
        return Op(">=", call("length", call("matchkeys", ids, zones, ListOf((zone,)))), Lit(1))

    return every("pinned", Var(INSTANCE_GROUPS_VARIABLE), lambda g: null_or(g.attr(ZONE_FIELD), has_a_subnet(g.attr(ZONE_FIELD))))


def render_group(values: dict[str, Any], context: GroupContext, references: dict[str, Any], **functions: Any) -> dict:
    """The entry of one group given its field values (Python's rendering of the same table).
    ``functions`` replaces Terraform functions whose inputs are known only at apply."""
    env = Env(references=references, functions=functions).bind(group=values)
    return group_expression(Sym("group"), context).evaluate(env)


def evaluate_instance_groups(
    groups: list[dict[str, Any]], context: GroupContext, references: dict[str, Any], **functions: Any
) -> list:
    """What Terraform computes for ``instance_groups_expression`` from ``groups``."""
    env = Env(variables={INSTANCE_GROUPS_VARIABLE: groups}, references=references, functions=functions)
    return instance_groups_expression(context).evaluate(env)
