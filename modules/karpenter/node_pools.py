"""NodePools (karpenter.sh/v1): which instances Karpenter may launch for which pods."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modules.config.karpenter import DisruptionConfig
from modules.core.helm_values import TerraformValue

API_VERSION = "karpenter.sh/v1"
KIND = "NodePool"
POOL_LABEL = "ml-platform/pool"
# On the nodes of pools with EFA: the EFA device plugin runs only there.
EFA_LABEL = "ml-platform/efa"


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] | TerraformValue = ()
    """The values, or a Terraform expression that gives them at apply time."""

    def manifest(self) -> dict[str, Any]:
        body: dict[str, Any] = {"key": self.key, "operator": self.operator}
        if isinstance(self.values, TerraformValue):
            body["values"] = self.values
        elif self.values:
            body["values"] = list(self.values)
        return body


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str

    def manifest(self) -> dict[str, str]:
        # A taint without a value matches tolerations on its key alone.
        return {"key": self.key, **({"value": self.value} if self.value else {}), "effect": self.effect}

    def toleration(self) -> dict[str, str]:
        """The toleration that admits a pod onto nodes with this taint."""
        if self.value:
            return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}
        return {"key": self.key, "operator": "Exists", "effect": self.effect}


@dataclass(frozen=True)
class NodePool:
    name: str
    node_class: str
    requirements: tuple[Requirement, ...]
    limits: dict[str, str]
    disruption: DisruptionConfig
    expire_after: str
    taints: tuple[Taint, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    """Node labels besides the pool label."""

    def manifest(self) -> dict[str, Any]:
        template_spec: dict[str, Any] = {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": self.node_class},
            "requirements": [requirement.manifest() for requirement in self.requirements],
            "expireAfter": self.expire_after,
        }
        if self.taints:
            template_spec["taints"] = [taint.manifest() for taint in self.taints]
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": self.name},
            "spec": {
                "template": {"metadata": {"labels": {POOL_LABEL: self.name, **self.labels}}, "spec": template_spec},
                "limits": self.limits,
                "disruption": {
                    "consolidationPolicy": self.disruption.consolidation_policy,
                    "consolidateAfter": self.disruption.consolidate_after,
                },
            },
        }
