"""The platform's node classes and pools, built from ``karpenter.pools``: each pool gets its
own EC2NodeClass, so its SOCI tuning, data volume, EFA group, capacity reservations and
placement group are its own."""

from __future__ import annotations

from dataclasses import dataclass

from modules.config.ec2_instance_types import GPU_INSTANCES
from modules.config.karpenter import GPU_RESOURCE, KarpenterConfig, PoolConfig
from modules.core.helm_values import TerraformValue, render_values

from .bottlerocket import BottlerocketUserData, SociParallelPull, ephemeral_storage_on_instance_store
from .node_classes import DISCOVERY_TAG, NodeClass
from .node_pools import EFA_LABEL, NodePool, Requirement, Taint

ZONE_LABEL = "topology.kubernetes.io/zone"


@dataclass(frozen=True)
class GpuPoolInputs:
    """Terraform expressions (variables) that give the tfvars pool's choices at apply time
    (``KarpenterConfig.tfvars_pool``: the first GPU pool)."""

    instance_types: str
    capacity_types: str
    pool_name: str | None = None
    """The pool's name as a Terraform template when it is derived from the instance types."""
    node_class_name: str | None = None


@dataclass(frozen=True)
class NodeWiring:
    """What every node class names that is not a pool setting."""

    node_role_name: str
    discovery: dict[str, str] | TerraformValue
    tags: dict[str, str]
    efa_security_group_id: str | None = None
    """The self-referencing group of EFA nodes (created only when a pool has EFA)."""


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
    *,
    discovery: dict[str, str] | TerraformValue | None = None,
    efa_security_group_id: str | None = None,
) -> Pools:
    """The classes and pools of ``config``; ``discovery`` defaults to the cluster's
    ``karpenter.sh/discovery`` tag."""
    wiring = NodeWiring(node_role_name, discovery or {DISCOVERY_TAG: cluster_name}, tags, efa_security_group_id)
    if config.efa_pools and efa_security_group_id is None:
        raise ValueError("a pool has EFA: its nodes need the EFA security group (efa_security_group_id)")
    tfvars = config.tfvars_pool
    pools = [(pool, gpu_inputs if tfvars and index == tfvars[0] else None) for index, pool in enumerate(config.pools)]
    return Pools(
        node_classes=tuple(node_class(pool, wiring, inputs) for pool, inputs in pools),
        node_pools=tuple(node_pool(pool, inputs) for pool, inputs in pools),
    )


def node_class(pool: PoolConfig, wiring: NodeWiring, inputs: GpuPoolInputs | None = None) -> NodeClass:
    placement = pool.placement_group.model_dump(exclude_none=True) if pool.placement_group else None
    return NodeClass(
        name=(inputs and inputs.node_class_name) or pool.node_class_name,
        discovery=wiring.discovery,
        node_role_name=wiring.node_role_name,
        data_volume_gb=pool.data_volume_gb,
        user_data=user_data(pool),
        tags=wiring.tags,
        # EFA traffic flows only between members of one group that admits all of it.
        security_group_ids=(wiring.efa_security_group_id,) if pool.efa and wiring.efa_security_group_id else (),
        capacity_reservations=tuple(term.manifest() for term in pool.capacity_reservations),
        placement_group=placement,
    )


def user_data(pool: PoolConfig) -> BottlerocketUserData:
    soci = SociParallelPull.from_config(pool.soci)
    if pool.kind == "gpu" and all(GPU_INSTANCES[t].instance_store for t in pool.instance_types):
        # p5.48xlarge carries 8 x 3.84 TB of NVMe instance store. Images of tens of GB, the
        # SOCI layer store and pod scratch space belong there, not on EBS. Bottlerocket's own
        # bootstrap commands do it (RAID0 the disks, bind the directories) instead of
        # `instanceStorePolicy: RAID0`, because the commands Karpenter generates for RAID0
        # bind only containerd, kubelet and pod logs, leaving the SOCI store
        # (/var/lib/soci-snapshotter) on EBS, and a node whose user data repeats those
        # commands next to RAID0 fails to boot. The cost: Karpenter sizes ephemeral-storage
        # from the EBS data volume when it chooses an instance, which matters only to pods
        # requesting more than that volume holds. A pool with an EBS-only type (p3) keeps its
        # data on EBS: the essential bootstrap command would fail the boot there.
        return BottlerocketUserData(soci, (ephemeral_storage_on_instance_store(),))
    return BottlerocketUserData(soci)


def node_pool(pool: PoolConfig, inputs: GpuPoolInputs | None = None) -> NodePool:
    capacity_types = TerraformValue(inputs.capacity_types) if inputs else tuple(pool.capacity_types)
    if pool.kind == "general":
        requirements = (
            Requirement("karpenter.k8s.aws/instance-category", "In", tuple(pool.instance_categories)),
            Requirement("karpenter.k8s.aws/instance-cpu", "Gt", (str(pool.min_vcpu - 1),)),
            Requirement("karpenter.k8s.aws/instance-cpu", "Lt", (str(pool.max_vcpu + 1),)),
            Requirement("karpenter.sh/capacity-type", "In", capacity_types),
            Requirement("kubernetes.io/arch", "In", tuple(pool.architectures)),
            Requirement("kubernetes.io/os", "In", ("linux",)),
        )
        limits = {"cpu": str(pool.limits.cpu), "memory": f"{pool.limits.memory_gi}Gi"}
    else:
        instance_types = TerraformValue(inputs.instance_types) if inputs else tuple(pool.instance_types)
        requirements = (
            Requirement("node.kubernetes.io/instance-type", "In", instance_types),
            Requirement("karpenter.sh/capacity-type", "In", capacity_types),
            Requirement("kubernetes.io/os", "In", ("linux",)),
        )
        limits = {"cpu": str(pool.limits.cpu), "memory": f"{pool.limits.memory_gi}Gi", GPU_RESOURCE: str(pool.limits.gpus)}
    if pool.zones:
        requirements += (Requirement(ZONE_LABEL, "In", tuple(pool.zones)),)
    return NodePool(
        name=(inputs and inputs.pool_name) or pool.pool_name,
        node_class=(inputs and inputs.node_class_name) or pool.node_class_name,
        requirements=requirements,
        limits=limits,
        disruption=pool.disruption,
        expire_after=pool.expire_after,
        taints=tuple(Taint(t.key, t.value, t.effect) for t in pool.taints),
        labels={EFA_LABEL: "true"} if pool.efa else {},
    )
