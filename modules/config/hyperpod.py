"""``hyperpod.*``: the SageMaker HyperPod cluster attached to the EKS cluster.

Limits mirror what ``AWS::SageMaker::Cluster`` accepts, so a mistake is reported here with
its key path instead of after a long apply.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Section
from .hyperpod_instance_types import facts_of, known_families

# HyperPod's names: letters, digits and single or repeated hyphens inside, at most 63.
HYPERPOD_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
AVAILABILITY_ZONE_PATTERN = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$")
# Kubernetes label keys: an optional DNS-subdomain prefix and a name of at most 63 characters.
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LABEL_KEY_PATTERN = re.compile(rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}$")
LABEL_VALUE_PATTERN = re.compile(rf"^({_LABEL_NAME})?$")

DeepHealthCheck = Literal["InstanceStress", "InstanceConnectivity"]
DEEP_HEALTH_CHECKS: tuple[str, ...] = ("InstanceStress", "InstanceConnectivity")
MAX_TAINTS = 50


def _hyperpod_name(value: str, what: str) -> str:
    if not HYPERPOD_NAME_PATTERN.match(value):
        raise ValueError(
            f"{what} must be 1-63 letters, digits and hyphens, starting and ending with a "
            "letter or digit (e.g. gpu-workers)"
        )
    return value


class TaintConfig(Section):
    key: str
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

    @field_validator("key")
    @classmethod
    def _key_is_a_label_key(cls, value: str) -> str:
        if not LABEL_KEY_PATTERN.match(value):
            raise ValueError("must be a Kubernetes key such as nvidia.com/gpu or dedicated")
        return value

    @field_validator("value")
    @classmethod
    def _value_is_a_label_value(cls, value: str | None) -> str | None:
        if value is not None and not LABEL_VALUE_PATTERN.match(value):
            raise ValueError("must be at most 63 letters, digits, '-', '_' or '.'")
        return value


class InstanceGroupConfig(Section):
    name: str = Field(description="Instance group name, unique in the cluster.")
    instance_type: str = Field(description="HyperPod instance type (ml.*), see docs/hyperpod-instance-types.md.")
    instance_count: int = Field(ge=0, description="Instances HyperPod keeps in the group.")
    min_instance_count: int | None = Field(
        default=None, ge=0, description="Instances needed for the group to be InService (<= instance_count)."
    )
    ebs_volume_gb: int = Field(
        default=500, ge=1, le=16384, description="Extra EBS volume per instance, mounted at /opt/sagemaker."
    )
    deep_health_checks: list[DeepHealthCheck] = Field(
        default_factory=list,
        description="On-start deep health checks (InstanceStress, InstanceConnectivity); GPU and Trainium only.",
    )
    threads_per_core: Literal[1, 2] = Field(
        default=2, description="2 keeps simultaneous multithreading on, 1 turns it off."
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes labels of the nodes.")
    taints: list[TaintConfig] = Field(default_factory=list, max_length=MAX_TAINTS)
    capacity: Literal["on-demand", "spot"] | None = Field(
        default=None, description="Capacity type; unset lets HyperPod use on-demand."
    )
    availability_zone: str | None = Field(
        default=None, description="Pin the group to the private subnet of one AZ of the region (e.g. us-west-2a)."
    )

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        return _hyperpod_name(value, "an instance group name")

    @field_validator("instance_type")
    @classmethod
    def _known_instance_type(cls, value: str) -> str:
        if not value.startswith("ml."):
            raise ValueError(f"HyperPod instance types start with ml.: did you mean ml.{value}?")
        if facts_of(value) is None:
            raise ValueError(
                f"not a HyperPod instance type this platform knows; families: {', '.join(known_families())} "
                "(sizes in docs/hyperpod-instance-types.md; new types go in modules/config/hyperpod_instance_types.py)"
            )
        return value

    @field_validator("deep_health_checks")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a check twice; use each of InstanceStress, InstanceConnectivity at most once")
        return value

    @field_validator("labels")
    @classmethod
    def _labels_are_kubernetes_labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, label in value.items():
            if not LABEL_KEY_PATTERN.match(key):
                raise ValueError(f"label key {key!r} must be a Kubernetes key such as example.com/team or team")
            if not LABEL_VALUE_PATTERN.match(label):
                raise ValueError(f"label {key!r} value {label!r} must be at most 63 letters, digits, '-', '_' or '.'")
        return value

    @field_validator("availability_zone")
    @classmethod
    def _zone_shape(cls, value: str | None) -> str | None:
        if value is not None and not AVAILABILITY_ZONE_PATTERN.match(value):
            raise ValueError("must be an availability zone name such as us-west-2a")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "InstanceGroupConfig":
        if self.min_instance_count is not None and self.min_instance_count > self.instance_count:
            raise ValueError(
                f"min_instance_count ({self.min_instance_count}) must not exceed instance_count "
                f"({self.instance_count}): lower min_instance_count or raise instance_count"
            )
        facts = facts_of(self.instance_type)
        if self.deep_health_checks and facts is not None and not facts.deep_health_checks_apply:
            raise ValueError(
                f"deep_health_checks run only on GPU and Trainium instances, not on {self.instance_type} "
                "(a CPU type): remove deep_health_checks from this group"
            )
        return self

    @property
    def taint_keys(self) -> list[str]:
        return [taint.key for taint in self.taints]


class HelmSubchartsConfig(Section):
    """Which parts of the HyperPod dependencies chart are installed."""

    health_monitoring_agent: bool = Field(default=True, description="Node health monitoring (node recovery needs it).")
    deep_health_check: bool = Field(default=True, description="Runs the deep health checks instance groups request.")
    job_auto_restart: bool = Field(default=True, description="Restarts training jobs after a node is replaced.")
    training_operators: bool = Field(default=True, description="Kubeflow training operator (PyTorchJob...).")
    mpi_operator: bool = Field(default=True, description="MPI operator (MPIJob).")
    nvidia_device_plugin: bool = Field(default=True)
    neuron_device_plugin: bool = Field(default=True)
    efa_device_plugin: bool = Field(default=True)


def _default_instance_groups() -> list[InstanceGroupConfig]:
    return [
        InstanceGroupConfig(
            name="gpu-workers",
            instance_type="ml.g5.xlarge",
            instance_count=2,
            deep_health_checks=list(DEEP_HEALTH_CHECKS),
        )
    ]


class HyperPodConfig(Section):
    enabled: bool = Field(default=True, description="false synthesizes nothing of HyperPod.")
    cluster_name: str = Field(default="ml-platform-hyperpod", description="HyperPod cluster name.")
    node_recovery: Literal["Automatic", "None"] = Field(
        default="Automatic", description="Automatic replaces or reboots faulty nodes; None only labels them."
    )
    node_provisioning_mode: Literal["Continuous"] | None = Field(
        default="Continuous",
        description="Continuous provisions nodes as capacity appears; null keeps HyperPod's standard mode.",
    )
    install_helm_dependencies: bool = Field(
        default=True,
        description="Install the HyperPod dependencies chart (fetch it first: scripts/fetch-hyperpod-chart.sh).",
    )
    helm_subcharts: HelmSubchartsConfig = HelmSubchartsConfig()
    enable_training_operator: bool = Field(default=True, description="HyperPod training operator add-on.")
    enable_task_governance: bool = Field(default=False, description="HyperPod task governance add-on (Kueue).")
    enable_observability: bool = Field(
        default=False, description="HyperPod observability add-on with an Amazon Managed Prometheus workspace."
    )
    enable_inference_operator: bool = Field(
        default=False,
        description="HyperPod inference operator add-on (JumpStartModel, InferenceEndpointConfig), "
        "with its pod identity role and TLS certificate bucket.",
    )
    instance_groups: list[InstanceGroupConfig] = Field(default_factory=_default_instance_groups, min_length=1)

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name_shape(cls, value: str) -> str:
        return _hyperpod_name(value, "the HyperPod cluster name")

    @field_validator("instance_groups")
    @classmethod
    def _unique_group_names(cls, groups: list[InstanceGroupConfig]) -> list[InstanceGroupConfig]:
        seen: set[str] = set()
        for group in groups:
            if group.name in seen:
                raise ValueError(f"instance group name {group.name!r} is used twice; give each group its own name")
            seen.add(group.name)
        return groups

    @model_validator(mode="after")
    def _dependencies_present(self) -> "HyperPodConfig":
        if self.enable_training_operator and not self.install_helm_dependencies:
            raise ValueError(
                "enable_training_operator needs cert-manager, which this platform installs with the "
                "HyperPod helm dependencies: set install_helm_dependencies to true or "
                "enable_training_operator to false"
            )
        if self.enable_inference_operator and not self.install_helm_dependencies:
            raise ValueError(
                "enable_inference_operator needs cert-manager for its webhooks, which this platform "
                "installs with the HyperPod helm dependencies: set install_helm_dependencies to true or "
                "enable_inference_operator to false"
            )
        wants_deep_checks = any(group.deep_health_checks for group in self.instance_groups)
        if wants_deep_checks and self.install_helm_dependencies and not self.helm_subcharts.deep_health_check:
            raise ValueError(
                "an instance group requests deep_health_checks but helm_subcharts.deep_health_check is "
                "false: enable the sub-chart or remove the checks"
            )
        return self

    @property
    def installs_cert_manager(self) -> bool:
        """The training and inference operators' webhooks need cert-manager; the dependencies
        chart brings it."""
        return self.install_helm_dependencies and (self.enable_training_operator or self.enable_inference_operator)
