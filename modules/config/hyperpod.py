"""``hyperpod.*``: the SageMaker HyperPod cluster attached to the EKS cluster.

Limits come from the published schema of ``AWS::SageMaker::Cluster`` (``cfn.limits``), so a
mistake is reported here with its key path instead of after a long apply, and each field
says once, with ``Cfn``, where it goes in the cluster's desired state. The Terraform
variables of the HyperPod module are derived from these models (``terraform.py``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, Literal

import annotated_types as at
from pydantic import Field, field_validator, model_validator

from .aws_api import api_limits, hyperpod_instance_types, source_of
from .base import Section
from .hyperpod_checks import SAGEMAKER_NAME_HINT, repeated
from .cfn import Cfn, enum, limits
from .hyperpod_node_pools import SCALABLE_GROUP, HyperPodNodePoolConfig
from .hyperpod_zones import AvailabilityZone
from .hyperpod_task_governance import TaskGovernanceConfig
from .hyperpod_instance_types import INSTANCE_TYPES, MIG_LABEL, facts_of, known_families, partitionable_types
from .kubernetes import LabelKey, LabelValue, TaintEffect
from .state import S3BucketName
from .terraform import TerraformRule

# The cluster's name when hyperpod.cluster_name is unset: the platform's name and this.
CLUSTER_NAME_SUFFIX = "-hyperpod"
HyperPodName = Annotated[str, *limits("ClusterName", hint=SAGEMAKER_NAME_HINT)]
InstanceGroupName = Annotated[str, *limits("InstanceGroupName", hint=SAGEMAKER_NAME_HINT)]
# A group pinned to a zone the VPC has no private subnet in: one description, said by synth
# (``PlatformConfig``, which knows the region and vpc.max_azs) and by the HyperPod module's
# precondition at plan (which knows the zones the VPC's subnets are in).
ZONE_WITHOUT_SUBNET = (
    "instance group {group} is pinned to availability_zone {zone}, where the VPC has no private subnet "
    "(it has one in each of {zones}): pin the group to one of those zones or leave availability_zone unset"
)


def zone_without_subnet(group: str, zone: str, zones: str) -> str:
    """``ZONE_WITHOUT_SUBNET`` for ``group``; the arguments are text (values at synth, or
    Terraform template interpolations in the module's precondition)."""
    return ZONE_WITHOUT_SUBNET.format(group=group, zone=zone, zones=zones)


def first_zones(region: str, max_azs: int) -> str:
    """The zones the VPC gets subnets in, as synth can name them: the region's zones in
    name order (the VPC takes the first ``vpc.max_azs`` of them)."""
    if max_azs == 1:
        return f"the first zone of {region} in name order ({region}a)"
    return f"the first {max_azs} zones of {region} in name order ({region}a, {region}b, ...)"


def zone_beyond_first(zone: str, region: str, max_azs: int) -> bool:
    """True when ``zone`` cannot be one of the VPC's zones: another region's, or a letter
    past the first ``max_azs`` (the VPC takes the region's zones in name order)."""
    return zone[:-1] != region or ord(zone[-1]) - ord("a") >= max_azs


DeepHealthCheck = Literal[enum("DeepHealthCheckType")]  # type: ignore[valid-type]
DEEP_HEALTH_CHECKS: tuple[str, ...] = enum("DeepHealthCheckType")


def _deep_check_types() -> str:
    return json.dumps(sorted(t for t, facts in INSTANCE_TYPES.items() if facts.deep_health_checks_apply))


class TaintConfig(Section):
    key: Annotated[LabelKey, Cfn("Key")]
    value: Annotated[LabelValue | None, Cfn("Value")] = None
    effect: Annotated[TaintEffect, Cfn("Effect")]


class CapacitySizeConfig(Section):
    """How many instances a rolling update takes at a time."""

    # The schema gives this as the pattern INSTANCE_COUNT|CAPACITY_PERCENTAGE.
    type: Annotated[Literal["INSTANCE_COUNT", "CAPACITY_PERCENTAGE"], Cfn("Type")] = Field(
        description="INSTANCE_COUNT: value instances; CAPACITY_PERCENTAGE: value percent of the group."
    )
    value: Annotated[int, *limits("CapacitySizeConfig.Value"), Cfn("Value")] = Field(
        description="Instances, or percent of the group (1-100)."
    )

    TERRAFORM_RULES: ClassVar[tuple[TerraformRule, ...]] = (
        TerraformRule(
            '$value.type == "CAPACITY_PERCENTAGE" ? $value.value <= 100 : true',
            "a CAPACITY_PERCENTAGE batch size is at most 100.",
        ),
    )

    @model_validator(mode="after")
    def _percent(self) -> "CapacitySizeConfig":
        if self.type == "CAPACITY_PERCENTAGE" and self.value > 100:
            raise ValueError(f"a CAPACITY_PERCENTAGE batch size is at most 100, not {self.value}")
        return self


AlarmName = Annotated[str, *limits("AlarmDetails.AlarmName")]


class ScheduledUpdateConfig(Section):
    """When HyperPod rolls the group onto a new AMI, how many instances at a time, and
    which CloudWatch alarms roll it back."""

    schedule: Annotated[
        str,
        *limits("ScheduledUpdateConfig.ScheduleExpression", hint="a cron expression such as cron(0 3 ? * SUN *)"),
        Cfn("ScheduleExpression"),
    ] = Field(description="cron(minutes hours day-of-month month day-of-week year), UTC.")
    batch_size: Annotated[
        CapacitySizeConfig | None, Cfn("DeploymentConfig.RollingUpdatePolicy.MaximumBatchSize")
    ] = Field(default=None, description="Instances updated at a time (unset: HyperPod's default).")
    rollback_batch_size: Annotated[
        CapacitySizeConfig | None, Cfn("DeploymentConfig.RollingUpdatePolicy.RollbackMaximumBatchSize")
    ] = Field(default=None, description="Instances rolled back at a time (needs batch_size).")
    wait_interval_seconds: Annotated[
        int | None, *limits("DeploymentConfig.WaitIntervalInSeconds"), Cfn("DeploymentConfig.WaitIntervalInSeconds")
    ] = Field(default=None, description="Seconds between batches (0-3600).")
    rollback_alarms: Annotated[
        list[AlarmName], Cfn("DeploymentConfig.AutoRollbackConfiguration", item_key="AlarmName")
    ] = Field(default_factory=list, description="CloudWatch alarms whose ALARM state rolls the update back.")

    TERRAFORM_RULES: ClassVar[tuple[TerraformRule, ...]] = (
        TerraformRule(
            "$value.rollback_batch_size == null ? true : $value.batch_size != null",
            "scheduled_update.rollback_batch_size needs batch_size (the rolling update policy requires it).",
        ),
    )

    @model_validator(mode="after")
    def _policy_complete(self) -> "ScheduledUpdateConfig":
        if self.rollback_batch_size is not None and self.batch_size is None:
            raise ValueError(
                "rollback_batch_size needs batch_size: the rolling update policy requires a maximum batch size"
            )
        return self


class InstanceGroupConfig(Section):
    """One instance group; each field's ``Cfn`` mark says where it goes in the group's
    ``InstanceGroups`` entry (``modules/hyperpod/desired_state.py`` renders it)."""

    name: Annotated[InstanceGroupName, Cfn("InstanceGroupName")] = Field(
        description="Instance group name, unique in the cluster."
    )
    instance_type: Annotated[str, Cfn("InstanceType")] = Field(
        description="HyperPod instance type (ml.*), see docs/hyperpod-instance-types.md."
    )
    instance_count: Annotated[
        int, *limits("ClusterInstanceGroup.InstanceCount"), *api_limits("ClusterInstanceCount"), Cfn("InstanceCount")
    ] = Field(
        description="Instances HyperPod keeps in the group."
    )
    min_instance_count: Annotated[
        int | None,
        *limits("ClusterInstanceGroup.MinInstanceCount"),
        *api_limits("ClusterInstanceCount"),
        Cfn("MinInstanceCount"),
    ] = Field(default=None, description="Instances needed for the group to be InService (<= instance_count).")
    ebs_volume_gb: Annotated[
        int,
        *limits("ClusterEbsVolumeConfig.VolumeSizeInGB"),
        Cfn("InstanceStorageConfigs[].EbsVolumeConfig.VolumeSizeInGB"),
    ] = Field(default=500, description="Extra EBS volume per instance, mounted at /opt/sagemaker.")
    deep_health_checks: Annotated[list[DeepHealthCheck], Cfn("OnStartDeepHealthChecks")] = Field(
        default_factory=list,
        description="On-start deep health checks (InstanceStress, InstanceConnectivity); GPU and Trainium only.",
    )
    threads_per_core: Annotated[int, *limits("ClusterInstanceGroup.ThreadsPerCore"), Cfn("ThreadsPerCore")] = Field(
        default=2, description="2 keeps simultaneous multithreading on, 1 turns it off."
    )
    labels: Annotated[
        dict[Annotated[LabelKey, *api_limits("ClusterKubernetesLabelKey")], LabelValue],
        *api_limits("ClusterKubernetesLabels"),
        Cfn("KubernetesConfig.Labels"),
    ] = Field(
        default_factory=dict, description="Kubernetes labels of the nodes."
    )
    taints: Annotated[list[TaintConfig], *api_limits("ClusterKubernetesTaints"), Cfn("KubernetesConfig.Taints")] = Field(
        default_factory=list, description="Kubernetes taints of the nodes."
    )
    capacity: Annotated[
        Literal["on-demand", "spot"] | None,
        Cfn("CapacityRequirements", values=(("on-demand", "OnDemand"), ("spot", "Spot")), as_key=True),
    ] = Field(default=None, description="Capacity type; unset lets HyperPod use on-demand.")
    availability_zone: AvailabilityZone | None = Field(
        default=None, description="Pin the group to the private subnet of one AZ of the region (e.g. us-west-2a)."
    )
    training_plan_arn: Annotated[
        str | None,
        *limits("ClusterInstanceGroup.TrainingPlanArn"),
        Cfn("TrainingPlanArn"),
    ] = Field(default=None, description="SageMaker training plan whose reserved capacity the group runs on.")
    image_id: Annotated[
        str | None, *limits("ImageId", hint="ami- and 8-17 hex digits, or default"), Cfn("ImageId")
    ] = Field(default=None, description="Custom AMI built from a HyperPod AMI (ami-...); unset or default: HyperPod's.")
    volume_kms_key_id: Annotated[
        str | None,
        *limits("ClusterEbsVolumeConfig.VolumeKmsKeyId", hint="a KMS key id, ARN or alias"),
        Cfn("InstanceStorageConfigs[].EbsVolumeConfig.VolumeKmsKeyId"),
    ] = Field(
        default=None,
        description="Customer managed KMS key of the group's EBS volume (/opt/sagemaker); unset: an AWS owned key.",
    )
    scheduled_update: Annotated[ScheduledUpdateConfig | None, Cfn("ScheduledUpdateConfig")] = Field(
        default=None, description="Scheduled rolling AMI updates of the group."
    )

    # The cross-field rules of the validators below, for the Terraform variables.
    TERRAFORM_RULES: ClassVar[tuple[TerraformRule, ...]] = (
        TerraformRule(
            "$value.min_instance_count == null ? true : $value.min_instance_count <= $value.instance_count",
            "min_instance_count must not exceed instance_count.",
        ),
        TerraformRule(
            lambda: f"contains({json.dumps(sorted(INSTANCE_TYPES))}, $value.instance_type)",
            "instance_type must be a HyperPod instance type this platform knows (docs/hyperpod-instance-types.md).",
        ),
        TerraformRule(
            lambda: f"length($value.deep_health_checks) == 0 ? true : contains({_deep_check_types()}, $value.instance_type)",
            "deep_health_checks run only on GPU and Trainium instance types.",
        ),
        TerraformRule(
            "length(distinct($value.deep_health_checks)) == length($value.deep_health_checks)",
            "deep_health_checks lists each check at most once.",
        ),
        TerraformRule(
            lambda: f'lookup($value.labels, "{MIG_LABEL}", null) == null ? true : '
            f"contains({json.dumps(partitionable_types())}, $value.instance_type)",
            f"a {MIG_LABEL} label (GPU partitioning) needs an instance type whose GPUs MIG can partition "
            "(A100, H100: docs/hyperpod-instance-types.md).",
        ),
    )

    @field_validator("instance_type")
    @classmethod
    def _known_instance_type(cls, value: str) -> str:
        if not value.startswith("ml."):
            raise ValueError(f"HyperPod instance types start with ml.: did you mean ml.{value}?")
        if value not in hyperpod_instance_types():
            raise ValueError(f"the SageMaker API offers no HyperPod instance type {value} ({source_of('sagemaker_api.json')})")
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

    @model_validator(mode="after")
    def _consistent(self) -> "InstanceGroupConfig":
        if self.min_instance_count is not None and self.min_instance_count > self.instance_count:
            raise ValueError(
                f"min_instance_count ({self.min_instance_count}) must not exceed instance_count "
                f"({self.instance_count}): lower min_instance_count or raise instance_count"
            )
        facts = facts_of(self.instance_type)
        profile = self.labels.get(MIG_LABEL)
        if profile is not None and facts is not None:
            if not facts.partitionable:
                raise ValueError(
                    f"labels {MIG_LABEL}: the GPUs of {self.instance_type} ({facts.family.device}) cannot be "
                    f"partitioned with MIG; use one of {', '.join(partitionable_types())} or remove the label"
                )
            problem = facts.mig_profile_problem(profile)
            if problem:
                raise ValueError(f"labels {MIG_LABEL} {profile!r}: {problem}")
        if self.deep_health_checks and facts is not None and not facts.deep_health_checks_apply:
            raise ValueError(
                f"deep_health_checks run only on GPU and Trainium instances, not on {self.instance_type} "
                "(a CPU type): remove deep_health_checks from this group"
            )
        return self

    @property
    def taint_keys(self) -> list[str]:
        return [taint.key for taint in self.taints]

    @property
    def scalable_by_karpenter(self) -> bool:
        """What HyperPod's Karpenter scales (``SCALABLE_GROUP``)."""
        return self.instance_count == 0 and self.training_plan_arn is None and not self.deep_health_checks

    @property
    def partitions_gpus(self) -> bool:
        return self.labels.get(MIG_LABEL, "all-disabled") != "all-disabled"


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


class TieredStorageConfig(Section):
    """Managed tiered checkpointing: a share of each instance's memory holds checkpoints."""

    mode: Annotated[Literal[enum("TieredStorageConfig.Mode")], Cfn("Mode")] = Field(  # type: ignore[valid-type]
        default="Enable", description="Enable installs the memory-management daemon; Disable removes it."
    )
    instance_memory_percentage: Annotated[
        int | None,
        *api_limits("ClusterInstanceMemoryAllocationPercentage"),
        Cfn("InstanceMemoryAllocationPercentage"),
    ] = Field(default=None, description="Percent of instance memory for checkpoints (unset: HyperPod's default).")


class AutoScalingConfig(Section):
    """HyperPod's managed Karpenter scales the instance groups (the module creates the
    cluster role it assumes)."""

    mode: Annotated[Literal[enum("ClusterAutoScalingConfig.Mode")], Cfn("Mode")] = Field(  # type: ignore[valid-type]
        default="Enable", description="Enable or Disable autoscaling."
    )
    autoscaler_type: Annotated[
        Literal[enum("ClusterAutoScalingConfig.AutoScalerType")], Cfn("AutoScalerType")  # type: ignore[valid-type]
    ] = Field(default="Karpenter", description="The autoscaler (Karpenter is the one HyperPod offers).")
    node_pools: list[HyperPodNodePoolConfig] = Field(
        default_factory=list,
        description="NodePools and HyperpodNodeClasses of HyperPod's Karpenter (installed once autoscaling runs).",
    )

    @field_validator("node_pools")
    @classmethod
    def _unique_pool_names(cls, pools: list[HyperPodNodePoolConfig]) -> list[HyperPodNodePoolConfig]:
        twice = repeated([pool.name for pool in pools])
        if twice:
            raise ValueError(f"node pool {', '.join(twice)} appears twice; give each pool its own name")
        return pools

    @property
    def scaled_group_names(self) -> list[str]:
        """The instance groups some node pool names, in order, each once."""
        return list(dict.fromkeys(name for pool in self.node_pools for name in pool.instance_groups))


class FsxLustreConfig(Section):
    size_gib: Annotated[int, *limits("FSxLustreConfig.SizeInGiB"), Cfn("SizeInGiB")] = Field(
        description="Capacity of the group's FSx for Lustre file system (GiB)."
    )
    throughput_mb_per_tib: Annotated[
        int, *limits("FSxLustreConfig.PerUnitStorageThroughput"), Cfn("PerUnitStorageThroughput")
    ] = Field(description="Throughput per TiB of storage (MB/s).")


class RestrictedInstanceGroupConfig(Section):
    """A restricted instance group (RIG: Amazon Nova customization), with the FSx for Lustre
    file system HyperPod creates for it. RIG nodes run no lifecycle scripts: run
    lifecycle_scripts/install_rig_dependencies.sh against the EKS cluster first."""

    name: Annotated[InstanceGroupName, Cfn("InstanceGroupName")] = Field(description="Group name, unique in the cluster.")
    instance_type: Annotated[str, Cfn("InstanceType")] = Field(description="HyperPod instance type (ml.*).")
    instance_count: Annotated[int, *api_limits("ClusterInstanceCount"), Cfn("InstanceCount")] = Field(
        description="Instances HyperPod keeps in the group."
    )
    ebs_volume_gb: Annotated[
        int, *limits("ClusterEbsVolumeConfig.VolumeSizeInGB"), Cfn("InstanceStorageConfigs[].EbsVolumeConfig.VolumeSizeInGB")
    ] = Field(default=500, description="Extra EBS volume per instance.")
    threads_per_core: Annotated[int, *limits("ClusterRestrictedInstanceGroup.ThreadsPerCore"), Cfn("ThreadsPerCore")] = 2
    deep_health_checks: Annotated[list[DeepHealthCheck], Cfn("OnStartDeepHealthChecks")] = Field(default_factory=list)
    training_plan_arn: Annotated[
        str | None, *limits("ClusterRestrictedInstanceGroup.TrainingPlanArn"), Cfn("TrainingPlanArn")
    ] = None
    fsx_lustre: Annotated[FsxLustreConfig, Cfn("EnvironmentConfig.FSxLustreConfig")] = Field(
        description="The group's FSx for Lustre file system."
    )

    @field_validator("instance_type")
    @classmethod
    def _known_instance_type(cls, value: str) -> str:
        return InstanceGroupConfig._known_instance_type(value)


MetricLevel = Literal["BASIC", "ADVANCED"]


class ObservabilityConfig(Section):
    """What the observability add-on collects (its ``metricsProvider`` and ``logging``
    configuration keys); each metric family at BASIC (the default dashboards) or ADVANCED
    (every metric its exporter offers: more series in the Prometheus workspace)."""

    training_metrics: MetricLevel = Field(default="BASIC", description="Training job metrics.")
    inference_metrics: MetricLevel = Field(default="BASIC", description="Inference endpoint metrics.")
    task_governance_metrics: MetricLevel = Field(default="BASIC", description="Kueue quota and queue metrics.")
    scaling_metrics: MetricLevel = Field(default="BASIC", description="Autoscaling metrics (KEDA, Karpenter).")
    custom_metrics: MetricLevel = Field(default="BASIC", description="Cluster-level custom metrics.")
    node_metrics: MetricLevel = Field(default="BASIC", description="Node exporter metrics (CPU, memory, disk).")
    accelerated_compute_metrics: MetricLevel = Field(default="BASIC", description="GPU (DCGM) and Neuron metrics.")
    network_metrics: MetricLevel = Field(default="BASIC", description="EFA and network metrics.")
    logging: bool = Field(default=True, description="Send pod and node logs to CloudWatch Logs (/aws/sagemaker/Clusters/...).")

    # The add-on's metricsProvider key of each field.
    METRICS_KEYS: ClassVar[dict[str, str]] = {
        "training_metrics": "trainingMetrics",
        "inference_metrics": "inferenceMetrics",
        "task_governance_metrics": "taskGovernanceMetrics",
        "scaling_metrics": "scalingMetrics",
        "custom_metrics": "customMetrics",
        "node_metrics": "nodeMetrics",
        "accelerated_compute_metrics": "acceleratedComputeMetrics",
        "network_metrics": "networkMetrics",
    }
    # Seconds between scrapes, as the published reference configures every family.
    SCRAPE_INTERVAL_SECONDS: ClassVar[int] = 30

    def addon_configuration(self) -> dict[str, Any]:
        """The add-on's ``metricsProvider`` and ``logging`` configuration values."""
        return {
            "metricsProvider": {
                key: {"level": getattr(self, field), "scrapeInterval": self.SCRAPE_INTERVAL_SECONDS}
                for field, key in self.METRICS_KEYS.items()
            },
            "logging": {"enabled": self.logging},
        }


class InferenceOperatorConfig(Section):
    """What the inference operator's role may read besides JumpStart's own bucket."""

    model_buckets: list[S3BucketName] = Field(
        default_factory=list,
        description="S3 buckets (names) the operator may read model weights from "
        "(InferenceEndpointConfig s3Storage.bucketName); JumpStart's bucket of the region is always readable.",
    )

    @field_validator("model_buckets")
    @classmethod
    def _bucket_names(cls, buckets: list[str]) -> list[str]:
        if len(set(buckets)) != len(buckets):
            raise ValueError("names a bucket twice; list each once")
        return buckets


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
    enabled: bool = Field(default=True, description="false deploys nothing of HyperPod.")
    cluster_name: HyperPodName | None = Field(
        default=None,
        description=f"HyperPod cluster name; unset, it is <name>{CLUSTER_NAME_SUFFIX}, so two stacks in one account "
        "and region never share one.",
    )
    node_recovery: Literal[enum("NodeRecovery")] = Field(  # type: ignore[valid-type]
        default="Automatic", description="Automatic replaces or reboots faulty nodes; None only labels them."
    )
    node_provisioning_mode: Annotated[
        Literal[enum("NodeProvisioningMode")] | None, Cfn("NodeProvisioningMode")  # type: ignore[valid-type]
    ] = Field(
        default="Continuous",
        description="Continuous provisions nodes as capacity appears; null keeps HyperPod's standard mode.",
    )
    tiered_storage: Annotated[TieredStorageConfig | None, Cfn("TieredStorageConfig")] = Field(
        default=None, description="Managed tiered checkpointing in instance memory (TieredStorageConfig)."
    )
    autoscaling: Annotated[AutoScalingConfig | None, Cfn("AutoScaling")] = Field(
        default=None,
        description="Autoscaling of the instance groups by HyperPod's managed Karpenter (needs continuous "
        "provisioning and automatic node recovery).",
    )
    restricted_instance_groups: Annotated[
        list[RestrictedInstanceGroupConfig],
        # The API's minimum of 1 holds when the list is sent; an empty list is left out.
        *[m for m in api_limits("ClusterRestrictedInstanceGroupSpecifications") if not isinstance(m, at.MinLen)],
        Cfn("RestrictedInstanceGroups"),
    ] = Field(default_factory=list, description="Restricted instance groups (Amazon Nova customization).")
    install_helm_dependencies: bool = Field(
        default=True,
        description="Install the HyperPod dependencies chart (fetch it first: scripts/fetch-hyperpod-chart.sh).",
    )
    helm_subcharts: HelmSubchartsConfig = HelmSubchartsConfig()
    enable_training_operator: bool = Field(default=True, description="HyperPod training operator add-on.")
    enable_task_governance: bool = Field(default=False, description="HyperPod task governance add-on (Kueue).")
    task_governance: TaskGovernanceConfig = Field(
        default_factory=TaskGovernanceConfig,
        description="Task governance policies: the cluster policy and the teams' compute allocations.",
    )
    enable_observability: bool = Field(
        default=False, description="HyperPod observability add-on with an Amazon Managed Prometheus workspace."
    )
    observability: ObservabilityConfig = ObservabilityConfig()
    inference_operator: InferenceOperatorConfig = InferenceOperatorConfig()
    enable_inference_operator: bool = Field(
        default=False,
        description="HyperPod inference operator add-on (JumpStartModel, InferenceEndpointConfig), "
        "with its pod identity role and TLS certificate bucket.",
    )
    instance_groups: Annotated[
        list[InstanceGroupConfig],
        *limits("ClusterInstanceGroupsList"),
        *api_limits("ClusterInstanceGroupSpecifications"),
        TerraformRule(
            "length(distinct([for group in $value : group.name])) == length($value)",
            "Each instance group needs its own name.",
        ),
    ] = Field(default_factory=_default_instance_groups, description="HyperPod instance groups.")

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
        if self.task_governance.configured and not self.enable_task_governance:
            raise ValueError(
                "task_governance policies need the task governance add-on, whose Kueue queues enforce them: set "
                "enable_task_governance to true, or remove task_governance"
            )
        if self.autoscaling is not None and self.autoscaling.mode == "Enable":
            if self.node_provisioning_mode != "Continuous" or self.node_recovery != "Automatic":
                raise ValueError(
                    "autoscaling by HyperPod's Karpenter needs node_provisioning_mode Continuous and node_recovery "
                    "Automatic: set both, or remove autoscaling"
                )
        if self.autoscaling is not None and self.autoscaling.node_pools:
            if self.autoscaling.mode != "Enable":
                raise ValueError("autoscaling.node_pools need autoscaling.mode Enable: HyperPod's Karpenter reads them")
            groups = {group.name: group for group in self.instance_groups}
            for name in self.autoscaling.scaled_group_names:
                group = groups.get(name)
                if group is None or not group.scalable_by_karpenter:
                    found = "no such group" if group is None else f"instance_count {group.instance_count}" + (
                        ", a training plan" if group.training_plan_arn else ""
                    ) + (", deep health checks" if group.deep_health_checks else "")
                    raise ValueError(f"{SCALABLE_GROUP}; {name!r} has {found}")
        if self.restricted_instance_groups:
            if self.node_provisioning_mode == "Continuous":
                raise ValueError(
                    "restricted_instance_groups cannot be created with continuous provisioning: set "
                    "node_provisioning_mode to null, or remove the restricted groups"
                )
            names = [g.name for g in self.instance_groups] + [g.name for g in self.restricted_instance_groups]
            if len(set(names)) != len(names):
                raise ValueError("an instance group and a restricted instance group share a name; names are unique in a cluster")
        wants_deep_checks = any(group.deep_health_checks for group in self.instance_groups)
        if wants_deep_checks and self.install_helm_dependencies and not self.helm_subcharts.deep_health_check:
            raise ValueError(
                "an instance group requests deep_health_checks but helm_subcharts.deep_health_check is "
                "false: enable the sub-chart or remove the checks"
            )
        return self

    def cluster_name_for(self, name: str) -> str:
        """The cluster's name in a platform called ``name`` (the module's Terraform
        derives the same from ``var.name``)."""
        return self.cluster_name or f"{name}{CLUSTER_NAME_SUFFIX}"

    @property
    def installs_cert_manager(self) -> bool:
        """The training and inference operators' webhooks need cert-manager; the dependencies
        chart brings it."""
        return self.install_helm_dependencies and (self.enable_training_operator or self.enable_inference_operator)
