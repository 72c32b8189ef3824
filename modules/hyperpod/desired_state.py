"""The desired state of ``AWS::SageMaker::Cluster``, built from typed data.

Each class renders its part with the CloudFormation field names; ``ClusterSpec.render``
gives the whole document, which the cluster construct JSON-encodes with Terraform's
``jsonencode`` so references (role ARN, subnet IDs) resolve at apply time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modules.config.hyperpod import InstanceGroupConfig

ON_CREATE_SCRIPT = "on_create.sh"
CAPACITY_FIELDS = {"on-demand": "OnDemand", "spot": "Spot"}


@dataclass(frozen=True)
class VpcPlacement:
    subnet_ids: list[str]
    security_group_ids: list[str]

    def render(self) -> dict[str, Any]:
        return {"SecurityGroupIds": self.security_group_ids, "Subnets": self.subnet_ids}


@dataclass(frozen=True)
class InstanceGroupSpec:
    config: InstanceGroupConfig
    execution_role_arn: str
    lifecycle_scripts_uri: str
    zone_placement: VpcPlacement | None = None
    """Set when the group is pinned to one availability zone."""

    def render(self) -> dict[str, Any]:
        group = self.config
        body: dict[str, Any] = {
            "InstanceGroupName": group.name,
            "InstanceType": group.instance_type,
            "InstanceCount": group.instance_count,
            "ExecutionRole": self.execution_role_arn,
            "ThreadsPerCore": group.threads_per_core,
            "LifeCycleConfig": {"SourceS3Uri": self.lifecycle_scripts_uri, "OnCreate": ON_CREATE_SCRIPT},
            "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": group.ebs_volume_gb}}],
        }
        if group.min_instance_count is not None:
            body["MinInstanceCount"] = group.min_instance_count
        if group.deep_health_checks:
            body["OnStartDeepHealthChecks"] = list(group.deep_health_checks)
        kubernetes = self._kubernetes_config()
        if kubernetes:
            body["KubernetesConfig"] = kubernetes
        if group.capacity is not None:
            body["CapacityRequirements"] = {CAPACITY_FIELDS[group.capacity]: {}}
        if self.zone_placement is not None:
            body["OverrideVpcConfig"] = self.zone_placement.render()
        return body

    def _kubernetes_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if self.config.labels:
            config["Labels"] = dict(sorted(self.config.labels.items()))
        if self.config.taints:
            config["Taints"] = [_taint(taint.key, taint.value, taint.effect) for taint in self.config.taints]
        return config


def _taint(key: str, value: str | None, effect: str) -> dict[str, str]:
    return {"Key": key, **({"Value": value} if value is not None else {}), "Effect": effect}


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
