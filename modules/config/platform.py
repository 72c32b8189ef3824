"""The root of the configuration: one typed model with embedded defaults.

Each subsystem owns a section (``vpc``, ``eks``, and later ``karpenter``, ``hyperpod``);
a new subsystem adds its section here and nowhere else.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .base import Section
from .eks import EksConfig
from .hyperpod import HyperPodConfig, first_zones, zone_beyond_first, zone_without_subnet
from .hyperpod_task_governance import type_not_in_region
from .karpenter import KarpenterConfig
from .network import VpcConfig
from .state import StateConfig
from .storage import StorageConfig
from .aws_api import regions, source_of
from .cfn import definition, limits
from .patterns import described
from .support_calendar import EKS_SUPPORT_CALENDAR, SupportPhase, creatable_versions, standard_versions, support_phase
from .terraform import TerraformRule, hcl_literal

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"
MAX_TAGS = definition("Tags")["maxItems"]
KNOWN_REGION = TerraformRule(
    lambda: f"contains({json.dumps(sorted(regions()))}, $value)",
    f"region must be a region AWS has ({source_of('aws_regions.json')}).",
)
Region = Annotated[str, described(REGION_PATTERN, "an AWS region code such as us-west-2 or eu-central-1"), KNOWN_REGION]
# AWS tag rules, as the published HyperPod schema states them (every resource takes them).
_TAG_TEXT = "Unicode letters, digits, spaces and _ . : / = + - @"
TagKey = Annotated[str, *limits("Tag.Key", hint=_TAG_TEXT)]
TagValue = Annotated[str, *limits("Tag.Value", hint=_TAG_TEXT)]


SUPPORTED_VERSION_MESSAGE = (
    "kubernetes_version must be an EKS version still in standard or extended support "
    "(modules/config/support_calendar.py)."
)


def _supported_version_condition() -> str:
    """The calendar as a Terraform condition: a known version whose extended support has
    not ended at plan time."""
    ends = {v: f"{entry.end_of_extended_support.isoformat()}T23:59:59Z" for v, entry in EKS_SUPPORT_CALENDAR.items()}
    return f"contains(keys({hcl_literal(ends)}), $value) ? timecmp(plantimestamp(), {hcl_literal(ends)}[$value]) <= 0 : false"


def today_from(info: ValidationInfo) -> _dt.date:
    """The date support rules are judged on: injected by tests, else the real date."""
    context = info.context or {}
    return context.get("today") or _dt.date.today()


class PlatformConfig(Section):
    name: str = Field(
        default="ml-platform",
        description="Stack name, EKS cluster name and prefix of every named resource.",
    )
    region: Region = Field(default="us-west-2", description="AWS region to deploy into.")
    kubernetes_version: Annotated[str, TerraformRule(_supported_version_condition, SUPPORTED_VERSION_MESSAGE)] = Field(
        default="1.33", description="EKS Kubernetes version."
    )
    vpc: VpcConfig = VpcConfig()
    eks: EksConfig = EksConfig()
    karpenter: KarpenterConfig = KarpenterConfig()
    hyperpod: HyperPodConfig = HyperPodConfig()
    storage: StorageConfig = StorageConfig()
    state: StateConfig = StateConfig()
    tags: dict[TagKey, TagValue] = Field(
        default_factory=lambda: {"project": "ml-platform", "managed-by": "cdktf"},
        description="Tags applied to every taggable resource (provider default_tags).",
    )

    @field_validator("name")
    @classmethod
    def _name_is_dns_safe(cls, value: str) -> str:
        if not NAME_PATTERN.fullmatch(value):
            raise ValueError(
                "must be 3-32 characters of lowercase letters, digits and hyphens, start with "
                "a letter and end with a letter or digit (it names buckets and IAM roles)"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region_exists(cls, value: str) -> str:
        if value not in regions():
            close = sorted(r for r in regions() if r.split("-")[0] == value.split("-")[0])[:6]
            raise ValueError(
                f"no AWS region {value} in {source_of('aws_regions.json')}"
                + (f"; regions nearby: {', '.join(close)}" if close else "")
                + " (a region AWS opened since: python -m scripts.refresh_reference_data)"
            )
        return value

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _version_is_a_string(cls, value: object) -> object:
        if isinstance(value, (int, float)):
            raise ValueError(
                f'must be a quoted string such as "1.33" (YAML reads {value} as a number)'
            )
        return value

    @field_validator("kubernetes_version")
    @classmethod
    def _version_is_supported(cls, value: str, info: ValidationInfo) -> str:
        today = today_from(info)
        allowed = creatable_versions(today)
        if value not in EKS_SUPPORT_CALENDAR:
            raise ValueError(f"unknown EKS version; one of {', '.join(allowed)}")
        if support_phase(value, today) is SupportPhase.ENDED:
            ended = EKS_SUPPORT_CALENDAR[value].end_of_extended_support
            raise ValueError(
                f"extended support ended on {ended.isoformat()}, EKS no longer creates it; "
                f"one of {', '.join(allowed)}"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _no_reserved_tag_prefix(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} must not start with aws: (AWS reserves it)")
        if len(value) > MAX_TAGS:
            raise ValueError(f"{len(value)} tags; AWS resources take at most {MAX_TAGS}")
        return value

    @model_validator(mode="after")
    def _upgrade_policy_keeps_version(self, info: ValidationInfo) -> "PlatformConfig":
        phase = support_phase(self.kubernetes_version, today_from(info))
        if phase is SupportPhase.EXTENDED and self.eks.upgrade_policy.support_type == "STANDARD":
            raise ValueError(
                f"eks.upgrade_policy.support_type is STANDARD but kubernetes_version "
                f"{self.kubernetes_version} is past standard support, so EKS would upgrade the "
                'cluster on its own: set support_type to "EXTENDED" or choose a newer version'
            )
        return self

    @model_validator(mode="after")
    def _hyperpod_zones_have_a_subnet(self) -> "PlatformConfig":
        # The HyperPod module's precondition says the same at plan (hyperpod.zone_without_subnet).
        for index, group in enumerate(self.hyperpod.instance_groups):
            zone = group.availability_zone
            if zone is not None and zone_beyond_first(zone, self.region, self.vpc.max_azs):
                raise ValueError(
                    f"hyperpod.instance_groups[{index}].availability_zone: "
                    + zone_without_subnet(group.name, zone, first_zones(self.region, self.vpc.max_azs))
                )
        return self

    @model_validator(mode="after")
    def _hyperpod_node_pools_apart(self) -> "PlatformConfig":
        # NodePools are cluster-wide objects of one API (karpenter.sh/v1) for both Karpenters:
        # a shared name would be one object that the two releases overwrite.
        autoscaling = self.hyperpod.autoscaling
        platform_pools = {pool.pool_name for pool in self.karpenter.pools}
        for index, pool in enumerate(autoscaling.node_pools if autoscaling else []):
            if pool.name in platform_pools:
                raise ValueError(
                    f"hyperpod.autoscaling.node_pools[{index}].name {pool.name!r} is also a pool of karpenter.pools; "
                    "NodePools share one namespace-less API: give the HyperPod pool another name"
                )
        return self

    @model_validator(mode="after")
    def _task_governance_types_in_region(self) -> "PlatformConfig":
        # The HyperPod module's preconditions say the same at plan (the region is a variable).
        for type_name in self.hyperpod.task_governance.resource_types():
            problem = type_not_in_region(type_name, self.region)
            if problem:
                raise ValueError(f"hyperpod.task_governance: {problem}")
        return self

    @model_validator(mode="after")
    def _inference_operator_has_its_drivers(self) -> "PlatformConfig":
        # The add-on refuses to start without the CSIDrivers fsx.csi.aws.com and s3.csi.aws.com
        # (it mounts model weights from FSx or S3): the storage section installs them.
        hyperpod, storage = self.hyperpod, self.storage
        if hyperpod.enabled and hyperpod.enable_inference_operator:
            missing = [key for key, on in (("storage.fsx_lustre.enabled", storage.fsx_lustre.enabled),
                                           ("storage.s3.enabled", storage.s3.enabled)) if not on]
            if missing:
                raise ValueError(
                    "hyperpod.enable_inference_operator needs the FSx for Lustre and Mountpoint for S3 CSI drivers, "
                    f"which the add-on refuses to start without: set {' and '.join(missing)} to true "
                    "(storage.s3 with the buckets models are read from)"
                )
        return self

    @model_validator(mode="after")
    def _zones_in_region(self) -> "PlatformConfig":
        """Every zone a setting names is a zone of the configured region (one check, one
        message, for HyperPod's node pools, Karpenter pools and the FSx training zone; HyperPod
        groups have their own, which also knows the VPC's zones)."""
        named = [
            *((f"hyperpod.autoscaling.node_pools[{i}].zones", zone)
              for i, pool in enumerate(self.hyperpod.autoscaling.node_pools if self.hyperpod.autoscaling else [])
              for zone in pool.zones),
            *((f"karpenter.pools[{i}].zones", zone) for i, pool in enumerate(self.karpenter.pools) for zone in pool.zones),
            ("storage.fsx_lustre.availability_zone", self.storage.fsx_lustre.availability_zone),
        ]
        for key, zone in named:
            if zone is not None and zone[:-1] != self.region:
                raise ValueError(f"{key} {zone!r} is not in region {self.region}: use a zone such as {self.region}a")
        return self

    @property
    def cluster_name(self) -> str:
        return self.name

    def warnings(self, today: _dt.date | None = None) -> list[str]:
        """Things that are allowed but cost money or weaken security, said at synth time."""
        today = today or _dt.date.today()
        notes = []
        entry = EKS_SUPPORT_CALENDAR[self.kubernetes_version]
        if support_phase(self.kubernetes_version, today) is SupportPhase.EXTENDED:
            notes.append(
                f"Kubernetes {self.kubernetes_version} left EKS standard support on "
                f"{entry.end_of_standard_support.isoformat()} and is in extended support "
                f"(billed extra) until {entry.end_of_extended_support.isoformat()}; plan an upgrade "
                f"to a version in standard support: {', '.join(standard_versions(today))}."
            )
        fsx = self.storage.fsx_lustre
        pinned = sorted({g.availability_zone for g in self.hyperpod.instance_groups if g.availability_zone} - {fsx.availability_zone})
        if self.hyperpod.enabled and fsx.file_system and fsx.availability_zone and pinned:
            notes.append(
                f"The FSx for Lustre file system is in {fsx.availability_zone} but HyperPod groups are pinned to "
                f"{', '.join(pinned)}: reads cross zones (slower, billed per GB); set "
                "storage.fsx_lustre.availability_zone to the training zone."
            )
        if self.eks.public_endpoint_open_to_world:
            notes.append(
                "The EKS public endpoint accepts connections from 0.0.0.0/0 (IAM still "
                "authenticates every call); narrow eks.public_access_cidrs to your network."
            )
        return notes
