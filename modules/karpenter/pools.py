"""The platform's node classes and pools, built from ``karpenter.*`` configuration."""

from __future__ import annotations

from dataclasses import dataclass

from modules.config.karpenter import (
    DEFAULT_NODE_CLASS,
    DEFAULT_POOL,
    GPU_NODE_CLASS,
    GPU_POOL,
    DefaultPoolConfig,
    GpuPoolConfig,
    KarpenterConfig,
)
from modules.core.helm_values import TerraformValue, render_values

from .bottlerocket import BottlerocketUserData, SociParallelPull, ephemeral_storage_on_instance_store
from .node_classes import NodeClass
from .node_pools import NodePool, Requirement, Taint

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT = Taint(GPU_RESOURCE, "true", "NoSchedule")


@dataclass(frozen=True)
class GpuPoolInputs:
    """Terraform expressions (variables) that give the GPU pool's choices at apply time."""

    instance_types: str
    capacity_types: str


@dataclass(frozen=True)
class Pools:
    node_classes: tuple[NodeClass, ...]
    node_pools: tuple[NodePool, ...]

    def values(self) -> dict[str, list[dict]]:
        """The values of the node-pools chart: the manifests it emits, in order."""
        return {
            "nodeClasses": [node_class.manifest() for node_class in self.node_classes],
            "nodePools": [node_pool.manifest() for node_pool in self.node_pools],
        }

    def values_yaml(self) -> str:
        return render_values(self.values())


def platform_pools(
    config: KarpenterConfig,
    cluster_name: str,
    node_role_name: str,
    tags: dict[str, str],
    gpu_inputs: GpuPoolInputs | None = None,
) -> Pools:
    def node_class(name: str, data_volume_gb: int, user_data: BottlerocketUserData) -> NodeClass:
        return NodeClass(name, cluster_name, node_role_name, data_volume_gb, user_data, tags)

    default, gpu = config.default_pool, config.gpu_pool
    return Pools(
        node_classes=(
            node_class(DEFAULT_NODE_CLASS, default.data_volume_gb, default_user_data(default)),
            node_class(GPU_NODE_CLASS, gpu.data_volume_gb, gpu_user_data(gpu)),
        ),
        node_pools=(default_pool(default), gpu_pool(gpu, gpu_inputs)),
    )


def default_user_data(config: DefaultPoolConfig) -> BottlerocketUserData:
    return BottlerocketUserData(SociParallelPull.from_config(config.soci))


def gpu_user_data(config: GpuPoolConfig) -> BottlerocketUserData:
    # p5.48xlarge carries 8 x 3.84 TB of NVMe instance store. Images of tens of GB, the SOCI
    # layer store and pod scratch space belong there, not on EBS. Bottlerocket's own
    # bootstrap commands do it (RAID0 the disks, bind the directories) instead of
    # `instanceStorePolicy: RAID0`, because the commands Karpenter generates for RAID0 bind
    # only containerd, kubelet and pod logs, leaving the SOCI store (/var/lib/soci-snapshotter)
    # on EBS, and a node whose user data repeats those commands next to RAID0 fails to boot.
    # The cost: Karpenter sizes ephemeral-storage from the EBS data volume when it chooses
    # an instance, which matters only to pods requesting more than that volume holds.
    return BottlerocketUserData(SociParallelPull.from_config(config.soci), (ephemeral_storage_on_instance_store(),))


def default_pool(config: DefaultPoolConfig) -> NodePool:
    return NodePool(
        name=DEFAULT_POOL,
        node_class=DEFAULT_NODE_CLASS,
        requirements=(
            Requirement("karpenter.k8s.aws/instance-category", "In", tuple(config.instance_categories)),
            Requirement("karpenter.k8s.aws/instance-cpu", "Gt", (str(config.min_vcpu - 1),)),
            Requirement("karpenter.k8s.aws/instance-cpu", "Lt", (str(config.max_vcpu + 1),)),
            Requirement("karpenter.sh/capacity-type", "In", tuple(config.capacity_types)),
            Requirement("kubernetes.io/arch", "In", tuple(config.architectures)),
            Requirement("kubernetes.io/os", "In", ("linux",)),
        ),
        limits={"cpu": str(config.limits.cpu), "memory": f"{config.limits.memory_gi}Gi"},
        disruption=config.disruption,
        expire_after=config.expire_after,
    )


def gpu_pool(config: GpuPoolConfig, inputs: GpuPoolInputs | None = None) -> NodePool:
    # Bottlerocket's NVIDIA variant runs the device plugin that advertises nvidia.com/gpu;
    # no other device plugin is installed.
    instance_types = TerraformValue(inputs.instance_types) if inputs else tuple(config.instance_types)
    capacity_types = TerraformValue(inputs.capacity_types) if inputs else tuple(config.capacity_types)
    return NodePool(
        name=GPU_POOL,
        node_class=GPU_NODE_CLASS,
        requirements=(
            Requirement("node.kubernetes.io/instance-type", "In", instance_types),
            Requirement("karpenter.sh/capacity-type", "In", capacity_types),
            Requirement("kubernetes.io/os", "In", ("linux",)),
        ),
        limits={
            "cpu": str(config.limits.cpu),
            "memory": f"{config.limits.memory_gi}Gi",
            GPU_RESOURCE: str(config.limits.gpus),
        },
        disruption=config.disruption,
        expire_after=config.expire_after,
        taints=(GPU_TAINT,),
    )
