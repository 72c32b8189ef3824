"""``eks.*``: the cluster's endpoint, logging and system node group."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Section, check_log_retention
from .ec2_instance_types import architecture

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# EKS refuses control-plane subnets in these AZ IDs (too little capacity there).
CONTROL_PLANE_EXCLUDED_AZ_IDS = ("use1-az3", "usw1-az2", "cac1-az3")
# The system node group's AMI: Bottlerocket for x86_64 instance types.
SYSTEM_NODE_AMI_TYPE = "BOTTLEROCKET_x86_64"
SYSTEM_NODE_ARCHITECTURE = "x86_64"



class SystemNodeGroupConfig(Section):
    """The small managed node group that runs Karpenter and the core add-ons."""

    instance_types: list[str] = Field(
        default=["m5.large"], min_length=1, description="EC2 instance types (x86_64)."
    )
    desired_size: int = Field(default=2, ge=1, le=10)
    min_size: int = Field(default=2, ge=1, le=10)
    max_size: int = Field(default=3, ge=1, le=10)
    disk_size_gb: int = Field(default=50, ge=20, le=1000, description="Bottlerocket data volume size.")

    @field_validator("instance_types")
    @classmethod
    def _looks_like_ec2_types(cls, value: list[str]) -> list[str]:
        for instance_type in value:
            family, _, size = instance_type.partition(".")
            if not family or not size or instance_type.startswith("ml."):
                raise ValueError(
                    f"{instance_type!r} is not an EC2 instance type (expected e.g. m5.large)"
                )
            if architecture(instance_type) != SYSTEM_NODE_ARCHITECTURE:
                raise ValueError(
                    f"{instance_type} is an {architecture(instance_type)} (Graviton) type; the system nodes run "
                    f"{SYSTEM_NODE_AMI_TYPE}: choose an x86_64 type such as m5.large"
                )
        return value

    @model_validator(mode="after")
    def _sizes_are_ordered(self) -> "SystemNodeGroupConfig":
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"sizes must satisfy min_size <= desired_size <= max_size, got "
                f"{self.min_size} <= {self.desired_size} <= {self.max_size}"
            )
        return self


class UpgradePolicyConfig(Section):
    support_type: Literal["STANDARD", "EXTENDED"] = Field(
        default="EXTENDED",
        description=(
            "EXTENDED keeps the cluster on its version after standard support ends (billed); "
            "STANDARD lets EKS upgrade it automatically at that date."
        ),
    )


class EksConfig(Section):
    endpoint_public_access: bool = Field(
        default=True, description="Reach the API server from outside the VPC (needed to deploy from a laptop or CI)."
    )
    endpoint_private_access: bool = Field(
        default=True, description="Reach the API server from inside the VPC (nodes use this path)."
    )
    public_access_cidrs: list[str] = Field(
        default=["0.0.0.0/0"],
        min_length=1,
        description="Source CIDRs allowed to reach the public endpoint; narrow it to your network.",
    )
    log_retention_days: int = Field(default=365, description="Control-plane log retention (days).")
    upgrade_policy: UpgradePolicyConfig = UpgradePolicyConfig()
    system_node_group: SystemNodeGroupConfig = SystemNodeGroupConfig()

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs_are_ipv4(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError as err:
                raise ValueError(f"{cidr!r} is not an IPv4 CIDR such as 203.0.113.0/24 ({err})") from None
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention_is_accepted(cls, value: int) -> int:
        return check_log_retention(value)

    @model_validator(mode="after")
    def _some_endpoint(self) -> "EksConfig":
        if not (self.endpoint_public_access or self.endpoint_private_access):
            raise ValueError(
                "endpoint_public_access and endpoint_private_access are both false: "
                "enable at least one (private access is recommended)"
            )
        return self

    @property
    def public_endpoint_open_to_world(self) -> bool:
        return self.endpoint_public_access and "0.0.0.0/0" in self.public_access_cidrs
