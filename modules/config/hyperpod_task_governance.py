"""``hyperpod.task_governance.*``: the policies of HyperPod task governance, each a
CloudFormation resource type the HyperPod module creates through Cloud Control like the
cluster: the cluster policy (``AWS::SageMaker::ClusterSchedulerConfig``: task priorities
and how idle compute is shared) and one compute allocation per team
(``AWS::SageMaker::ComputeQuota``).

Limits come from the two published schemas kept in ``data/`` (``cfn.SCHEDULER_CONFIG``,
``cfn.COMPUTE_QUOTA``); each field's ``Cfn`` mark says where it goes in its resource's
desired state (``modules/hyperpod/task_governance.py`` renders them). The task governance
add-on (``hyperpod.enable_task_governance``) runs the Kueue queues these policies become.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import annotated_types as at

from pydantic import Field, field_validator, model_validator

from .base import Section
from .hyperpod_checks import SAGEMAKER_NAME_HINT, repeated
from .cfn import COMPUTE_QUOTA, SCHEDULER_CONFIG, Cfn, regions_source, regions_with
from .hyperpod_instance_types import MIG_MEMORY_SHARE, facts_of, partitionable_types

_QUOTA = COMPUTE_QUOTA
_POLICY = SCHEDULER_CONFIG
_TEAM_HINT = "lowercase letters, digits and hyphens, starting and ending with a letter or digit (e.g. research)"
# The schema: a team "is materialized as Kubernetes namespace 'hyperpod-ns-<TeamName>'", and a
# namespace name is an RFC 1123 label of at most 63 characters (the pattern bounds no length).
TEAM_NAMESPACE_PREFIX = "hyperpod-ns-"
MAX_TEAM_NAME = 63 - len(TEAM_NAMESPACE_PREFIX)
EntityName = Annotated[str, *_QUOTA.limits("Name", hint=SAGEMAKER_NAME_HINT)]
TeamName = Annotated[str, *_QUOTA.limits("ComputeQuotaTarget.TeamName", hint=_TEAM_HINT), at.MaxLen(MAX_TEAM_NAME)]
Description = Annotated[str, *_QUOTA.limits("Description", hint="letters, marks, spaces, symbols, digits and punctuation")]
Switch = Literal["Enabled", "Disabled"]
# HyperPod's documented range for BorrowLimit (percent of the team's idle quota others may
# borrow); the schema's own bound (0-10000) is wider, its description names 1-500.
BORROW_LIMIT_RANGE = (1, 500)


# A type the region's CloudFormation registry does not publish: Cloud Control refuses to
# create it there. Said by synth (PlatformConfig) and by the module's precondition at plan.
TYPE_NOT_IN_REGION = (
    "{type_name} is not in the CloudFormation registry of {region} ({source}), so Cloud Control cannot create it "
    "there: use a region that has it ({regions}), or remove the policy and set it in the SageMaker console"
)


def type_not_in_region(type_name: str, region: str) -> str | None:
    regions = regions_with(type_name)
    if region in regions:
        return None
    return TYPE_NOT_IN_REGION.format(type_name=type_name, region=region, source=regions_source(), regions=", ".join(regions))


def _instance_type(value: str) -> str:
    allowed = _QUOTA.enum("ComputeQuotaResourceConfig.InstanceType")
    if value not in allowed:
        raise ValueError(
            f"{value!r} is not an instance type {_QUOTA.type_name} accepts (ml.*, the types HyperPod offers; "
            "docs/hyperpod-instance-types.md)"
        )
    return value


class AcceleratorPartitionConfig(Section):
    """Slices of MIG-partitioned GPUs (GPU partitioning) allocated to the team."""

    type: Annotated[str, Cfn("Type")] = Field(description="MIG profile of a slice, e.g. mig-1g.10gb.")
    count: Annotated[int, *_QUOTA.limits("AcceleratorPartitionConfig.Count"), Cfn("Count")] = Field(
        description="Slices of that profile."
    )

    @field_validator("type")
    @classmethod
    def _profile(cls, value: str) -> str:
        allowed = _QUOTA.enum("AcceleratorPartitionConfig.Type")
        if value not in allowed:
            raise ValueError(f"{value!r} is not a MIG profile {_QUOTA.type_name} accepts, such as mig-1g.10gb")
        return value

    def problem_on(self, instance_type: str) -> str | None:
        """Why the service would refuse this profile on ``instance_type`` (the schema: "rejects
        MIG profiles that the chosen InstanceType does not support"), as far as the platform
        knows the type's GPUs."""
        facts = facts_of(instance_type)
        if facts is None:
            return None
        if not facts.partitionable:
            return (
                f"the GPUs of {instance_type} ({facts.family.device or 'none'}) cannot be partitioned with MIG; "
                f"use one of {', '.join(partitionable_types())}"
            )
        compute, gigabytes = re.fullmatch(r"mig-(\d)g\.(\d+)gb", self.type).groups()
        memory = facts.family.memory_per_device_gib
        share = MIG_MEMORY_SHARE.get(int(compute))
        if share is None or int(gigabytes) != memory // share:
            fits = f"{memory // share}gb" if share else "no such slice"
            return f"{compute}g slices of a {memory} GiB {facts.family.device} hold {fits}, not {gigabytes}gb"
        return None


class QuotaResourceConfig(Section):
    """Compute of one instance type: whole instances (``count``) or part of them
    (accelerators, vCPUs, memory, MIG slices; HyperPod fills in the rest in proportion)."""

    instance_type: Annotated[str, Cfn("InstanceType")] = Field(description="HyperPod instance type (ml.*).")
    count: Annotated[int | None, *_QUOTA.limits("ComputeQuotaResourceConfig.Count"), Cfn("Count")] = Field(
        default=None, description="Whole instances."
    )
    accelerators: Annotated[
        int | None, *_QUOTA.limits("ComputeQuotaResourceConfig.Accelerators"), Cfn("Accelerators")
    ] = Field(default=None, description="GPUs or Trainium devices.")
    vcpu: Annotated[float | None, *_QUOTA.limits("ComputeQuotaResourceConfig.VCpu"), Cfn("VCpu")] = Field(
        default=None, description="vCPUs."
    )
    memory_gib: Annotated[
        float | None, *_QUOTA.limits("ComputeQuotaResourceConfig.MemoryInGiB"), Cfn("MemoryInGiB")
    ] = Field(default=None, description="Memory in GiB.")
    accelerator_partition: Annotated[AcceleratorPartitionConfig | None, Cfn("AcceleratorPartition")] = Field(
        default=None, description="MIG slices (the type's GPUs must be partitioned: GPU partitioning)."
    )

    @field_validator("instance_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _instance_type(value)

    @model_validator(mode="after")
    def _some_amount(self) -> "QuotaResourceConfig":
        amounts = (self.count, self.accelerators, self.vcpu, self.memory_gib, self.accelerator_partition)
        if all(amount is None for amount in amounts):
            raise ValueError(
                "allocates nothing: set count, accelerators, vcpu, memory_gib or accelerator_partition"
            )
        if self.accelerator_partition is not None:
            problem = self.accelerator_partition.problem_on(self.instance_type)
            if problem:
                raise ValueError(f"accelerator_partition {self.accelerator_partition.type}: {problem}")
        return self


class ResourceSharingConfig(Section):
    """How the team lends its idle quota and borrows others'."""

    strategy: Annotated[
        Literal[_QUOTA.enum("ResourceSharingConfig.Strategy")], Cfn("Strategy")  # type: ignore[valid-type]
    ] = Field(default="LendAndBorrow", description="Lend, DontLend or LendAndBorrow.")
    borrow_limit: Annotated[int | None, *_QUOTA.limits("ResourceSharingConfig.BorrowLimit"), Cfn("BorrowLimit")] = Field(
        default=None, description="Percent of idle compute the team may borrow (1-500; HyperPod's default 50)."
    )
    absolute_borrow_limits: Annotated[
        list[QuotaResourceConfig], *_QUOTA.limits("ResourceSharingConfig.AbsoluteBorrowLimits"), Cfn("AbsoluteBorrowLimits")
    ] = Field(default_factory=list, description="Caps, per instance type, on what the team may borrow.")

    @field_validator("borrow_limit")
    @classmethod
    def _documented_range(cls, value: int | None) -> int | None:
        low, high = BORROW_LIMIT_RANGE
        if value is not None and not low <= value <= high:
            raise ValueError(f"borrow_limit is a percentage from {low} to {high} (HyperPod task governance), not {value}")
        return value

    @model_validator(mode="after")
    def _borrowing(self) -> "ResourceSharingConfig":
        borrows = self.strategy == "LendAndBorrow"
        if not borrows and (self.borrow_limit is not None or self.absolute_borrow_limits):
            raise ValueError(
                f"borrow_limit and absolute_borrow_limits limit borrowing, which strategy {self.strategy} does not do: "
                "use LendAndBorrow or remove them"
            )
        return self


class ComputeQuotaConfig(Section):
    """A team's compute allocation (``AWS::SageMaker::ComputeQuota``): the team's tasks run
    in the namespace ``hyperpod-ns-<team>`` within this quota, and lend or borrow idle compute."""

    team: Annotated[TeamName, Cfn("ComputeQuotaTarget.TeamName")] = Field(
        description="Team name; HyperPod creates the namespace hyperpod-ns-<team> for its tasks."
    )
    name: Annotated[EntityName | None, Cfn("Name")] = Field(
        default=None, description="Name of the allocation (unset: <platform name>-<team>)."
    )
    description: Annotated[Description | None, Cfn("Description")] = None
    fair_share_weight: Annotated[
        int | None, *_QUOTA.limits("ComputeQuotaTarget.FairShareWeight"), Cfn("ComputeQuotaTarget.FairShareWeight")
    ] = Field(default=None, description="0-100: the team's share of idle compute under fair share (HyperPod's default 0).")
    resources: Annotated[
        list[QuotaResourceConfig],
        # The schema takes an empty list; an allocation of nothing would leave the required
        # ComputeQuotaConfig empty, so at least one entry.
        *[m for m in _QUOTA.limits("ComputeQuotaConfig.ComputeQuotaResources") if not isinstance(m, at.MinLen)],
        at.MinLen(1),
        Cfn("ComputeQuotaConfig.ComputeQuotaResources"),
    ] = Field(description="The compute allocated, per instance type (at least one).")
    sharing: Annotated[ResourceSharingConfig | None, Cfn("ComputeQuotaConfig.ResourceSharingConfig")] = Field(
        default=None, description="Lending and borrowing of idle compute (unset: HyperPod's LendAndBorrow, 50 %)."
    )
    preempt_team_tasks: Annotated[
        Literal[_QUOTA.enum("ComputeQuotaConfig.PreemptTeamTasks")] | None,  # type: ignore[valid-type]
        Cfn("ComputeQuotaConfig.PreemptTeamTasks"),
    ] = Field(default=None, description="LowerPriority lets the team's tasks preempt its own lower-priority ones.")
    activation: Annotated[Switch, Cfn("ActivationState")] = Field(
        default="Enabled", description="Disabled keeps the allocation without enforcing it."
    )

    @field_validator("resources")
    @classmethod
    def _one_entry_per_type(cls, resources: list[QuotaResourceConfig]) -> list[QuotaResourceConfig]:
        twice = repeated([r.instance_type for r in resources])
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once; give each instance type one entry")
        return resources


class PriorityClassConfig(Section):
    name: Annotated[str, *_POLICY.limits("PriorityClass.Name", hint=_TEAM_HINT), Cfn("Name")] = Field(
        description="Priority class a task names (kueue.x-k8s.io/priority-class: <name>-priority)."
    )
    weight: Annotated[int, *_POLICY.limits("PriorityClass.Weight"), Cfn("Weight")] = Field(
        description="0-100: higher runs first (and may preempt lower ones)."
    )


class SchedulerPolicyConfig(Section):
    """The cluster policy (``AWS::SageMaker::ClusterSchedulerConfig``, one per cluster): how
    tasks are prioritized and how idle compute is shared between teams."""

    name: Annotated[EntityName | None, Cfn("Name")] = Field(
        default=None, description="Name of the policy (unset: <platform name>-policy)."
    )
    description: Annotated[Description | None, Cfn("Description")] = None
    priority_classes: Annotated[
        list[PriorityClassConfig],
        *_POLICY.limits("SchedulerConfig.PriorityClasses"),
        Cfn("SchedulerConfig.PriorityClasses"),
    ] = Field(default_factory=list, description="Task ranking: classes and their weights (unset: first come, first served).")
    fair_share: Annotated[Switch | None, Cfn("SchedulerConfig.FairShare")] = Field(
        default=None, description="Enabled: teams borrow idle compute by fair_share_weight; Disabled: first come."
    )
    idle_resource_sharing: Annotated[Switch | None, Cfn("SchedulerConfig.IdleResourceSharing")] = Field(
        default=None, description="Whether teams may use each other's idle compute at all."
    )

    @field_validator("priority_classes")
    @classmethod
    def _unique_classes(cls, classes: list[PriorityClassConfig]) -> list[PriorityClassConfig]:
        twice = repeated([c.name for c in classes])
        if twice:
            raise ValueError(f"names priority class {', '.join(twice)} twice; give each class its own name")
        return classes

    @model_validator(mode="after")
    def _sets_something(self) -> "SchedulerPolicyConfig":
        if not self.priority_classes and self.fair_share is None and self.idle_resource_sharing is None:
            raise ValueError("sets nothing: give priority_classes, fair_share or idle_resource_sharing, or remove scheduler")
        return self


class TaskGovernanceConfig(Section):
    """The task governance policies of the cluster (the add-on: hyperpod.enable_task_governance)."""

    scheduler: SchedulerPolicyConfig | None = Field(
        default=None, description="The cluster policy: task priorities and idle-compute sharing."
    )
    compute_quotas: list[ComputeQuotaConfig] = Field(default_factory=list, description="One compute allocation per team.")

    @field_validator("compute_quotas")
    @classmethod
    def _one_per_team(cls, quotas: list[ComputeQuotaConfig]) -> list[ComputeQuotaConfig]:
        for what, values in (("team", [q.team for q in quotas]), ("name", [q.name for q in quotas if q.name])):
            twice = repeated(values)
            if twice:
                reason = "a team has one allocation (its namespace hyperpod-ns-<team>)" if what == "team" else "names are unique"
                raise ValueError(f"{what} {', '.join(twice)} appears in two compute_quotas: {reason}")
        return quotas

    @property
    def configured(self) -> bool:
        return self.scheduler is not None or bool(self.compute_quotas)

    def resource_types(self) -> list[str]:
        """The CloudFormation types these policies create."""
        return [
            *([_POLICY.type_name] if self.scheduler is not None else []),
            *([_QUOTA.type_name] if self.compute_quotas else []),
        ]
