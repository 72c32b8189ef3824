"""The HyperpodNodeClasses and NodePools of HyperPod's managed Karpenter
(``hyperpod.autoscaling.node_pools``), delivered by the small chart in
``charts/hyperpod-nodepools`` of this module.

Each pool is a ``HyperpodNodeClass`` (``karpenter.sagemaker.amazonaws.com/v1``), which names
the instance groups Karpenter may scale, and a ``NodePool`` (``karpenter.sh/v1``) whose
``nodeClassRef`` names it. What keeps them apart from the platform's own Karpenter pools
(``modules/karpenter``: ``EC2NodeClass`` node classes of ``karpenter.k8s.aws``):

- the node class kind: a Karpenter v1 controller acts only on NodePools and NodeClaims whose
  ``nodeClassRef`` group and kind its cloud provider supports, so the platform's controller
  (AWS provider: ``EC2NodeClass``) ignores these and HyperPod's (``HyperpodNodeClass``)
  ignores the platform's;
- names: NodePools are cluster-wide objects of one API, so the names are disjoint (synth
  refuses a HyperPod pool named like one of ``karpenter.pools``);
- requirements: a HyperPod pool takes only the ``ml.*`` types of its instance groups, which
  no EC2 pool offers, so no pod's instance-type constraint fits both kinds of pool;
- the ``ml-platform/pool`` label: each node carries its pool's name, as the platform's do,
  so a workload selects one pool by name.

The types and taints come from the module's ``instance_groups`` variable (a tfvars file may
change a group), so Terraform writes them into the values at apply time; a pool's taints are
those of its groups, which HyperPod puts on the nodes (Karpenter must know them to place
pods).
"""

from __future__ import annotations

import json
from typing import Any

from cdktf import ITerraformDependable, TerraformLocal
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from modules.config.hyperpod_node_pools import HyperPodNodePoolConfig
from modules.core import refs
from modules.core.helm_values import TerraformValue, render_values

# The Karpenter v1 NodePool API both Karpenters read, and the well-known node labels.
NODE_POOL_API_VERSION = "karpenter.sh/v1"
NODE_POOL_KIND = "NodePool"
ZONE_LABEL = "topology.kubernetes.io/zone"
# The platform's pool label (modules/karpenter puts it on its pools' nodes; a test holds the
# two equal), so one node selector picks a pool of either Karpenter by name.
POOL_LABEL = "ml-platform/pool"
NODE_CLASS_GROUP = "karpenter.sagemaker.amazonaws.com"
NODE_CLASS_KIND = "HyperpodNodeClass"
NODE_CLASS_API_VERSION = f"{NODE_CLASS_GROUP}/v1"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
CHART_FOLDER = "charts/hyperpod-nodepools"
RELEASE_NAME = "hyperpod-nodepools"
NAMESPACE = "kube-system"
# HyperPod's guide: nodes of its pools are replaced by HyperPod's own recovery, not by age.
EXPIRE_AFTER = "Never"


def node_class(pool: HyperPodNodePoolConfig) -> dict[str, Any]:
    return {
        "apiVersion": NODE_CLASS_API_VERSION,
        "kind": NODE_CLASS_KIND,
        "metadata": {"name": pool.name},
        "spec": {"instanceGroups": list(pool.instance_groups)},
    }


def _groups_of(pool: HyperPodNodePoolConfig, instance_groups: str) -> str:
    """``[for group in <var> : group if it is one of the pool's]`` as HCL."""
    return f"[for group in {instance_groups} : group if contains({json.dumps(pool.instance_groups)}, group.name)]"


def instance_types_of(pool: HyperPodNodePoolConfig, instance_groups: str) -> str:
    """The HCL list of the pool's groups' instance types."""
    return f"distinct([for group in {_groups_of(pool, instance_groups)} : group.instance_type])"


def taints_of(pool: HyperPodNodePoolConfig, instance_groups: str) -> str:
    """The HCL list of the taints HyperPod puts on the nodes of the pool's groups, as the
    NodePool CRD spells a taint (no value key when the taint has none)."""
    return (
        f"distinct(flatten([for group in {_groups_of(pool, instance_groups)} : [for taint in group.taints : merge("
        "{ key = taint.key, effect = taint.effect }, taint.value == null ? {} : { value = taint.value })]]))"
    )


def node_pool(pool: HyperPodNodePoolConfig, instance_types: Any, taints: Any) -> dict[str, Any]:
    """``instance_types`` and ``taints``: lists, or ``TerraformValue``s that give them."""
    requirements: list[dict[str, Any]] = [{"key": INSTANCE_TYPE_LABEL, "operator": "In", "values": instance_types}]
    if pool.zones:
        requirements.append({"key": ZONE_LABEL, "operator": "In", "values": list(pool.zones)})
    return {
        "apiVersion": NODE_POOL_API_VERSION,
        "kind": NODE_POOL_KIND,
        "metadata": {"name": pool.name},
        "spec": {
            "template": {
                "metadata": {"labels": {POOL_LABEL: pool.name}},
                "spec": {
                    "nodeClassRef": {"group": NODE_CLASS_GROUP, "kind": NODE_CLASS_KIND, "name": pool.name},
                    "expireAfter": EXPIRE_AFTER,
                    "requirements": requirements,
                    "taints": taints,
                },
            }
        },
    }


class HyperPodNodePools(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pools: list[HyperPodNodePoolConfig],
        instance_groups: str,
        chart: str,
        cluster: ITerraformDependable,
    ):
        """``cluster``: the HyperPod cluster, created with autoscaling on: HyperPod installs
        the HyperpodNodeClass CRD for it and its Karpenter reads the pools."""
        super().__init__(scope, construct_id)
        node_pools = []
        for index, pool in enumerate(pools):
            # Locals, not inline: an expression's ": " would make its YAML value a quoted string.
            types = TerraformLocal(self, f"pool_{index}_instance_types", "${" + instance_types_of(pool, instance_groups) + "}")
            taints = TerraformLocal(self, f"pool_{index}_taints", "${" + taints_of(pool, instance_groups) + "}")
            node_pools.append(
                node_pool(
                    pool,
                    TerraformValue(f"local.{types.friendly_unique_id}"),
                    TerraformValue(f"local.{taints.friendly_unique_id}"),
                )
            )
        values = {"nodeClasses": [node_class(pool) for pool in pools], "nodePools": node_pools}
        self.release = Release(
            self,
            "release",
            name=RELEASE_NAME,
            namespace=NAMESPACE,
            chart=chart,
            values=[render_values(values)],
        )
        # Custom resources only (no pods to wait for); their CRD comes with the cluster's
        # autoscaling, and on destroy the pools go first, while HyperPod can still drain
        # the nodes they scaled.
        refs.wait_for(self.release, cluster)
