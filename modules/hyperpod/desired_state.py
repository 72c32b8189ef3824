"""The desired state of ``AWS::SageMaker::Cluster``, built from typed data.

Each class renders its part with the CloudFormation field names; ``ClusterSpec.render``
gives the whole document, which the cluster construct JSON-encodes with Terraform's
``jsonencode`` so references (role ARN, subnet IDs) resolve at apply time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from modules.config.hyperpod import InstanceGroupConfig

from .instance_group_fields import ON_CREATE_SCRIPT, GroupContext, render_group

__all__ = ["ON_CREATE_SCRIPT", "ClusterSpec", "GroupContext", "InstanceGroupSpec", "VpcPlacement", "group_values"]



@dataclass(frozen=True)
class VpcPlacement:
    subnet_ids: list[str]
    security_group_ids: list[str]

    def render(self) -> dict[str, Any]:
        return {"SecurityGroupIds": self.security_group_ids, "Subnets": self.subnet_ids}


def group_values(group: InstanceGroupConfig) -> dict[str, Any]:
    """The group's fields as the Terraform object ``var.hyperpod_instance_groups`` holds."""
    values = group.model_dump(mode="json")
    values["labels"] = dict(sorted(group.labels.items()))
    return values


@dataclass(frozen=True)
class InstanceGroupSpec:
    config: InstanceGroupConfig
    context: GroupContext
    """The Terraform references every group shares."""
    references: dict[str, Any]
    """What each reference of ``context`` resolves to (a value, or a cdktf token)."""
    matchkeys: Callable[..., Any] | None = None
    """Replaces Terraform's matchkeys when the subnets are known only at apply."""

    def render(self) -> dict[str, Any]:
        functions = {"matchkeys": self.matchkeys} if self.matchkeys else {}
        return render_group(group_values(self.config), self.context, self.references, **functions)


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    eks_cluster_arn: str
    placement: VpcPlacement
    node_recovery: str
    node_provisioning_mode: str | None
    instance_groups: tuple[InstanceGroupSpec, ...]
    tags: dict[str, str]

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ClusterName": self.name,
            "Orchestrator": {"Eks": {"ClusterArn": self.eks_cluster_arn}},
            "VpcConfig": self.placement.render(),
            "NodeRecovery": self.node_recovery,
            "InstanceGroups": [group.render() for group in self.instance_groups],
        }
        if self.node_provisioning_mode is not None:
            body["NodeProvisioningMode"] = self.node_provisioning_mode
        if self.tags:
            body["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(self.tags.items())]
        return body
