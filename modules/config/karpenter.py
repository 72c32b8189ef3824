"""``karpenter.*``: the Karpenter release and the node pools it manages.

``karpenter.pools`` is a list; each pool is a ``general`` pool (c/m/r instances chosen by
category, vCPU range and architecture) or a ``gpu`` pool (named GPU instance types, tainted
so that only GPU workloads land there). The default is the two seed pools: ``default``
(general, spot and on-demand) and ``p5-gpu-h100`` (p5.48xlarge H100 nodes, spot). Every
field a kind does not set takes that kind's default (``POOL_DEFAULTS``); a pool without a
name is named after what it runs (``PoolConfig.pool_name``). Each pool has its own
Bottlerocket node class, with the tuning of the SOCI parallel pull its nodes use.

GPU pools can also attach EFA interfaces (``efa``), stay in chosen zones (``zones``), use a
placement group (``placement_group``) and launch into On-Demand Capacity Reservations and
Capacity Blocks (``capacity_reservations`` with the ``reserved`` capacity type).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from annotated_types import Len
from pydantic import Field, field_validator, model_validator

from .base import Section
from .ec2_instance_types import EFA_INSTANCE_TYPES, GPU_INSTANCES
from .hyperpod_zones import AvailabilityZone
from .kubernetes import DNS_LABEL_PATTERN, DnsLabel, LabelKey, LabelValue, TaintEffect
from .patterns import described
from .terraform import TerraformRule

CapacityType = Literal["spot", "on-demand", "reserved"]
Architecture = Literal["amd64", "arm64"]
ConsolidationPolicy = Literal["WhenEmpty", "WhenEmptyOrUnderutilized"]
PoolKind = Literal["general", "gpu"]

# Karpenter's own duration syntax (NodePool consolidateAfter and expireAfter).
DURATION_PATTERN = re.compile(r"^(([0-9]+(s|m|h))+|Never)$")
# Byte sizes Bottlerocket accepts for concurrent-download-chunk-size.
BYTE_SIZE_PATTERN = re.compile(r"^[1-9][0-9]*(b|kb|kib|mb|mib|gb|gib)$")
SEMVER_PATTERN = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
INSTANCE_TYPE_PATTERN = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"
Ec2InstanceType = Annotated[str, described(INSTANCE_TYPE_PATTERN, "an EC2 instance type such as p5.48xlarge")]
GpuInstanceType = Annotated[
    Ec2InstanceType,
    TerraformRule(
        lambda: f"contains({json.dumps(sorted(GPU_INSTANCES))}, $value)",
        "each instance type of the GPU pool must be a GPU instance type the platform knows "
        "(modules/config/ec2_instance_types.py).",
    ),
]
# A pool's and a node class's name is the value of the karpenter.sh/nodepool label (and
# the EC2NodeClass's name): a label value, lowercase, as Kubernetes object names are.
# Pool and node class names are Kubernetes object names of the DNS-label kind.
POOL_NAME_PATTERN = DNS_LABEL_PATTERN
PoolName = DnsLabel
# What the EC2NodeClass CRD of the pinned chart accepts.
CAPACITY_RESERVATION_ID_PATTERN = r"^cr-[0-9a-z]+$"
PLACEMENT_GROUP_ID_PATTERN = r"^pg-[0-9a-z]+$"
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
MAX_CAPACITY_RESERVATION_TERMS = 30
MAX_SELECTOR_TAGS = 20

# Names of the seed pools and node classes (scripts and examples select them).
DEFAULT_POOL = "default"
DEFAULT_NODE_CLASS = "default"
GPU_POOL = "p5-gpu-h100"
GPU_NODE_CLASS = "h100-gpu"

# Karpenter 1.5 is the first release that supports Kubernetes 1.33.
MINIMUM_CHART_VERSION = (1, 5, 0)
# Capacity reservations are on by default (the ReservedCapacity feature gate) from 1.6.
RESERVED_CAPACITY_CHART_VERSION = (1, 6, 0)
# EC2NodeClass.spec.placementGroupSelector arrived in 1.11.
PLACEMENT_GROUP_CHART_VERSION = (1, 11, 0)

# The pool's limits must admit at least one whole instance, or Karpenter never launches one.
GPU_INSTANCE_SHAPES: dict[str, tuple[int, int, int]] = {
    name: (facts.vcpus, facts.memory_gib, facts.gpus) for name, facts in GPU_INSTANCES.items()
}
# Bottlerocket's NVIDIA variant runs the device plugin that advertises this resource.
GPU_RESOURCE = "nvidia.com/gpu"


def check_duration(value: str) -> str:
    if not DURATION_PATTERN.fullmatch(value):
        raise ValueError('must be a duration such as "30s", "10m", "1h30m" or "Never"')
    return value


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class SociParallelPullConfig(Section):
    """Bottlerocket's ``settings.container-runtime-plugins.soci-snapshotter.parallel-pull-unpack``."""

    max_concurrent_downloads_per_image: int = Field(default=10, ge=1, le=100)
    concurrent_download_chunk_size: str = Field(
        default="16mb", description='Bytes per ranged download, e.g. "16mb" or "32mb".'
    )
    max_concurrent_unpacks_per_image: int = Field(default=10, ge=1, le=100)
    discard_unpacked_layers: bool = Field(
        default=True, description="Delete compressed layers once unpacked (halves disk use)."
    )

    @field_validator("concurrent_download_chunk_size")
    @classmethod
    def _is_a_byte_size(cls, value: str) -> str:
        if not BYTE_SIZE_PATTERN.fullmatch(value):
            raise ValueError('must be a byte size in lowercase such as "16mb", "512kib" or "1gb"')
        return value


class PoolLimits(Section):
    """The most a pool may hold in total; Karpenter stops launching at these."""

    cpu: int = Field(ge=1, description="vCPUs.")
    memory_gi: int = Field(ge=1, description="Memory in GiB.")
    gpus: int | None = Field(default=None, ge=1, description="nvidia.com/gpu devices (GPU pools).")


class DisruptionConfig(Section):
    consolidation_policy: ConsolidationPolicy
    consolidate_after: str

    @field_validator("consolidate_after")
    @classmethod
    def _is_a_duration(cls, value: str) -> str:
        return check_duration(value)


class PoolTaint(Section):
    key: LabelKey
    value: LabelValue = ""
    effect: TaintEffect


class CapacityReservationTerm(Section):
    """One ``capacityReservationSelectorTerms`` entry: a reservation (or a Capacity Block)
    by id, or every reservation with these tags (of ``owner_id``'s account, when shared)."""

    id: Annotated[str, described(CAPACITY_RESERVATION_ID_PATTERN, "a capacity reservation id such as cr-0123456789abcdef0")] | None = None
    tags: dict[Annotated[str, Len(1, 128)], Annotated[str, Len(1, 256)]] | None = Field(
        default=None, max_length=MAX_SELECTOR_TAGS, description='Tags to match; "*" matches any value of a key.'
    )
    owner_id: Annotated[str, described(ACCOUNT_ID_PATTERN, "a 12-digit AWS account id")] | None = None
    instance_match_criteria: Literal["open", "targeted"] | None = None

    @model_validator(mode="after")
    def _one_way_of_selecting(self) -> "CapacityReservationTerm":
        if self.id is not None and (self.tags is not None or self.owner_id or self.instance_match_criteria):
            raise ValueError("id selects one reservation on its own: leave out tags, owner_id and instance_match_criteria")
        if self.id is None and not self.tags and self.instance_match_criteria is None:
            raise ValueError("give id, tags or instance_match_criteria")
        return self

    def manifest(self) -> dict[str, Any]:
        """The term as the EC2NodeClass CRD spells it."""
        names = {"id": "id", "tags": "tags", "owner_id": "ownerID", "instance_match_criteria": "instanceMatchCriteria"}
        return {names[k]: v for k, v in self.model_dump(exclude_none=True).items()}


class PlacementGroupConfig(Section):
    """An existing placement group, by name or by id (a cluster placement group keeps EFA
    nodes on one network spine; it lives in one zone, so pin the pool to that zone)."""

    name: Annotated[str, Len(1, 255)] | None = None
    id: Annotated[str, described(PLACEMENT_GROUP_ID_PATTERN, "a placement group id such as pg-0123456789abcdef0")] | None = None

    @model_validator(mode="after")
    def _name_or_id(self) -> "PlacementGroupConfig":
        if (self.name is None) == (self.id is None):
            raise ValueError("give exactly one of name and id")
        return self


# What a pool of each kind has unless it says otherwise: the two seed pools. A nested
# section given in part (soci) keeps the kind's values of the keys it leaves out.
POOL_DEFAULTS: dict[str, dict[str, Any]] = {
    "general": {
        "instance_categories": ["c", "m", "r"],
        "min_vcpu": 4,
        "max_vcpu": 32,
        "architectures": ["amd64"],
        "capacity_types": ["spot", "on-demand"],
        "limits": {"cpu": 1000, "memory_gi": 4000},
        "disruption": {"consolidation_policy": "WhenEmptyOrUnderutilized", "consolidate_after": "1m"},
        "soci": {},
        "taints": [],
    },
    "gpu": {
        "instance_types": ["p5.48xlarge"],
        "capacity_types": ["spot"],
        "limits": {"cpu": 192, "memory_gi": 2048, "gpus": 8},
        # Training jobs are not moved to pack nodes tighter: only empty nodes are removed.
        "disruption": {"consolidation_policy": "WhenEmpty", "consolidate_after": "10m"},
        # Tuned for p5.48xlarge (3,200 Gbps EFA, 192 vCPU): more and larger parallel fetches.
        "soci": {"max_concurrent_downloads_per_image": 30, "concurrent_download_chunk_size": "32mb", "max_concurrent_unpacks_per_image": 30},
        "taints": [{"key": GPU_RESOURCE, "value": "true", "effect": "NoSchedule"}],
    },
}
MERGED_SECTIONS = ("soci",)
GENERAL_ONLY = ("instance_categories", "min_vcpu", "max_vcpu", "architectures")
GPU_ONLY = ("instance_types", "efa")


class PoolConfig(Section):
    """One Karpenter NodePool and the EC2NodeClass its nodes are built from."""

    kind: PoolKind = Field(description="general (c/m/r instances by size) or gpu (named GPU instance types).")
    name: PoolName | None = Field(default=None, description="NodePool name; by default named after what the pool runs.")
    node_class: PoolName | None = Field(default=None, description="EC2NodeClass name; by default named after the pool.")
    # general pools
    instance_categories: list[Literal["c", "m", "r"]] | None = Field(default=None, min_length=1)
    min_vcpu: int | None = Field(default=None, ge=1, le=192)
    max_vcpu: int | None = Field(default=None, ge=1, le=192)
    architectures: list[Architecture] | None = Field(default=None, min_length=1)
    # gpu pools
    instance_types: list[GpuInstanceType] | None = Field(
        default=None, min_length=1, description="Instance types of the Karpenter GPU pool."
    )
    efa: bool = Field(default=False, description="Attach every EFA interface of the node to pods that request vpc.amazonaws.com/efa.")
    # every pool
    capacity_types: list[CapacityType] = Field(
        min_length=1, description="Capacity types of the Karpenter GPU pool (spot, on-demand, reserved)."
    )
    limits: PoolLimits
    disruption: DisruptionConfig
    soci: SociParallelPullConfig
    taints: list[PoolTaint] = Field(max_length=50)
    expire_after: str = Field(default="720h", description="Nodes are replaced after this age.")
    data_volume_gb: int = Field(default=100, ge=20, le=16000, description="Bottlerocket data volume (GiB).")
    zones: list[AvailabilityZone] = Field(default=[], description="Zones the pool launches in; empty: every zone of the VPC.")
    capacity_reservations: list[CapacityReservationTerm] = Field(default=[], max_length=MAX_CAPACITY_RESERVATION_TERMS)
    placement_group: PlacementGroupConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        kind = data.get("kind")
        if kind not in POOL_DEFAULTS:
            got = "nothing" if kind is None else repr(kind)
            raise ValueError(f"kind must be general (c/m/r instances) or gpu (named GPU instance types); got {got}")
        other = GPU_ONLY if kind == "general" else GENERAL_ONLY
        stray = [key for key in other if data.get(key) not in (None, False)]
        if stray:
            raise ValueError(
                f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not a setting of a {kind} pool "
                f"(general pools: {', '.join(GENERAL_ONLY)}; gpu pools: {', '.join(GPU_ONLY)})"
            )
        merged = {**POOL_DEFAULTS[kind], **data}
        for section in MERGED_SECTIONS:
            if isinstance(data.get(section), dict):
                merged[section] = {**POOL_DEFAULTS[kind][section], **data[section]}
        return merged

    @field_validator("expire_after")
    @classmethod
    def _is_a_duration(cls, value: str) -> str:
        return check_duration(value)

    @field_validator("instance_types")
    @classmethod
    def _have_gpus(cls, value: list[str] | None) -> list[str] | None:
        for instance_type in value or ():
            if instance_type not in GPU_INSTANCES:
                raise ValueError(
                    f"{instance_type} is not a GPU instance type this platform knows (GPU families: "
                    f"{', '.join(sorted({t.split('.')[0] for t in GPU_INSTANCES}))}; new types go in "
                    "modules/config/ec2_instance_types.py)"
                )
        return value

    @field_validator("capacity_types", "zones", "instance_types", "instance_categories", "architectures")
    @classmethod
    def _each_once(cls, value: list[str] | None) -> list[str] | None:
        repeated = sorted({item for item in value or () if value.count(item) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(repeated)} more than once")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "PoolConfig":
        if self.kind == "general" and self.min_vcpu > self.max_vcpu:
            raise ValueError(f"min_vcpu ({self.min_vcpu}) is larger than max_vcpu ({self.max_vcpu})")
        if self.kind == "gpu":
            self._limits_fit_one_instance()
        elif self.limits.gpus is not None:
            raise ValueError("limits.gpus is a limit of gpu pools; a general pool has no GPUs")
        if self.efa:
            no_efa = [t for t in self.instance_types if t not in EFA_INSTANCE_TYPES]
            if no_efa:
                raise ValueError(
                    f"efa is on but {', '.join(no_efa)} {'has' if len(no_efa) == 1 else 'have'} no EFA interface: "
                    "list only EFA types (modules/config/ec2_instance_types.py) or turn efa off"
                )
        if not re.fullmatch(POOL_NAME_PATTERN, self.pool_name) or not re.fullmatch(POOL_NAME_PATTERN, self.node_class_name):
            raise ValueError(
                f"the names derived from the instance types ({self.pool_name}, {self.node_class_name}) are longer "
                "than 63 characters: set name (and node_class)"
            )
        reserved = "reserved" in self.capacity_types
        if reserved and not self.capacity_reservations:
            raise ValueError(
                "capacity_types has reserved but capacity_reservations is empty: Karpenter launches reserved "
                "nodes only into the reservations the node class selects; add them by id or tags"
            )
        if self.capacity_reservations and not reserved:
            raise ValueError("capacity_reservations are used only by the reserved capacity type: add reserved to capacity_types")
        return self

    def _limits_fit_one_instance(self) -> None:
        if self.limits.gpus is None:
            raise ValueError("limits.gpus is required for a gpu pool (nvidia.com/gpu devices)")
        limits = self.limits
        too_large = self.too_large_for_limits()
        for instance_type in self.instance_types:
            if instance_type in too_large:
                cpu, memory, gpus = GPU_INSTANCE_SHAPES[instance_type]
                raise ValueError(
                    f"limits (cpu {limits.cpu}, memory_gi {limits.memory_gi}, gpus {limits.gpus}) cannot "
                    f"hold one {instance_type} ({cpu} vCPU, {memory} GiB, {gpus} GPUs): raise limits"
                )

    def too_large_for_limits(self) -> list[str]:
        """Known GPU types of which not even one instance fits the pool's limits."""
        have = (self.limits.cpu, self.limits.memory_gi, self.limits.gpus or 0)
        return sorted(t for t, shape in GPU_INSTANCE_SHAPES.items() if any(h < n for h, n in zip(have, shape)))

    def instance_type_rules(self, yaml_key: str) -> list[TerraformRule]:
        """The limits rule on ``instance_types`` for a variable: the limits are not
        variables, so the types they cannot hold are listed from the configured ones."""
        limits = self.limits
        return [
            TerraformRule(
                f"alltrue([for type in $value : !contains({json.dumps(self.too_large_for_limits())}, type)])",
                f"the GPU pool's limits (cpu {limits.cpu}, memory_gi {limits.memory_gi}, gpus {limits.gpus}) cannot "
                f"hold one instance of a listed type: raise {yaml_key}.limits.",
            )
        ]

    def capacity_type_rules(self, yaml_key: str) -> list[TerraformRule]:
        """The reservations rule on ``capacity_types`` for a variable: the reservations are
        not variables, so whether ``reserved`` is right follows from the configured ones."""
        if self.capacity_reservations:
            return [TerraformRule('contains($value, "reserved")', f"the pool selects capacity reservations ({yaml_key}.capacity_reservations): keep reserved among the capacity types.")]
        return [
            TerraformRule(
                '!contains($value, "reserved")',
                f"reserved needs capacity reservations to launch into: add them to {yaml_key}.capacity_reservations.",
            )
        ]

    @property
    def pool_name(self) -> str:
        """The name, or one that says what the pool runs: ``default`` for a general pool,
        ``<families>-gpu-<gpus>`` for a GPU pool (``p5-gpu-h100``, ``g6e-gpu-l40s``)."""
        if self.name:
            return self.name
        if self.kind == "general":
            return DEFAULT_POOL
        families = _distinct(t.split(".")[0] for t in self.instance_types)
        return f"{'-'.join(families)}-gpu-{'-'.join(self.gpu_models)}"

    @property
    def node_class_name(self) -> str:
        """The node class's name, or the seed classes' naming: ``default`` for the pool
        named default, ``<gpus>-gpu`` (``h100-gpu``) for an unnamed GPU pool, else the pool's name."""
        if self.node_class:
            return self.node_class
        if self.kind == "gpu" and not self.name:
            return f"{'-'.join(self.gpu_models)}-gpu"
        return self.pool_name

    @property
    def gpu_models(self) -> list[str]:
        return _distinct(GPU_INSTANCES[t].gpu_model for t in self.instance_types or ())

    def name_expressions(self, instance_types: str) -> tuple[str | None, str | None]:
        """``pool_name`` and ``node_class_name`` as Terraform expressions over the
        expression ``instance_types`` (a variable), for a GPU pool whose names are derived:
        the same rule, so a tfvars that switches GPUs names the pool as the YAML would. None
        where the name is given."""
        models = {name: facts.gpu_model for name, facts in sorted(GPU_INSTANCES.items())}
        families = f'join("-", distinct([for t in {instance_types} : split(".", t)[0]]))'
        gpus = f'join("-", distinct([for t in {instance_types} : {json.dumps(models)}[t]]))'
        pool = None if self.name else f'format("%s-gpu-%s", {families}, {gpus})'
        node_class = None if self.node_class or self.name else f'format("%s-gpu", {gpus})'
        return pool, node_class


def _distinct(items: Any) -> list[str]:
    return list(dict.fromkeys(items))


def _seed_pools() -> list[PoolConfig]:
    return [PoolConfig(kind="general"), PoolConfig(kind="gpu")]


class KarpenterConfig(Section):
    chart_version: str = Field(
        default="1.14.1", description="Karpenter Helm chart (and controller) version, 1.5.0 or newer."
    )
    controller_replicas: int = Field(
        default=2, ge=1, le=3, description="Controller pods, one per system node (anti-affinity)."
    )
    pools: list[PoolConfig] = Field(
        default_factory=_seed_pools, min_length=1, max_length=20, description="The NodePools, each with its own EC2NodeClass."
    )

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, kind in (("default_pool", "general"), ("gpu_pool", "gpu")):
                if old in data:
                    raise ValueError(
                        f"karpenter.{old} is now an entry of karpenter.pools: write its settings as "
                        f"`pools: [{{kind: {kind}, ...}}]` (list every pool you want; the default list is a "
                        "general and a gpu pool)"
                    )
        return data

    @field_validator("chart_version")
    @classmethod
    def _supported_chart(cls, value: str) -> str:
        match = SEMVER_PATTERN.fullmatch(value)
        if not match:
            raise ValueError('must be a release number such as "1.14.1" (no leading "v")')
        if tuple(int(part) for part in match.groups()) < MINIMUM_CHART_VERSION:
            raise ValueError("Karpenter before 1.5.0 does not support Kubernetes 1.33; use 1.5.0 or newer")
        return value

    @model_validator(mode="after")
    def _pools_fit_together(self) -> "KarpenterConfig":
        for what, names in (("pool", [p.pool_name for p in self.pools]), ("node class", [p.node_class_name for p in self.pools])):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(
                    f"two pools have the {what} name {', '.join(repeated)}: give each pool its own "
                    f"{'name' if what == 'pool' else 'node_class'}"
                )
        chart = version_tuple(self.chart_version)
        for index, pool in enumerate(self.pools):
            if "reserved" in pool.capacity_types and chart < RESERVED_CAPACITY_CHART_VERSION:
                raise ValueError(
                    f"pools[{index}] uses reserved capacity, which Karpenter turns on by default from 1.6.0: "
                    f"raise chart_version (now {self.chart_version})"
                )
            if pool.placement_group and chart < PLACEMENT_GROUP_CHART_VERSION:
                raise ValueError(
                    f"pools[{index}].placement_group needs the placementGroupSelector of Karpenter 1.11.0 or newer: "
                    f"raise chart_version (now {self.chart_version})"
                )
        return self

    @property
    def tfvars_pool(self) -> tuple[int, PoolConfig] | None:
        """The first GPU pool, with its index: the pool whose instance and capacity types
        are module variables (``gpu_pool_*``, ``karpenter_gpu_*`` at the root)."""
        return next(((i, p) for i, p in enumerate(self.pools) if p.kind == "gpu"), None)

    @property
    def efa_pools(self) -> list[PoolConfig]:
        return [pool for pool in self.pools if pool.efa]
