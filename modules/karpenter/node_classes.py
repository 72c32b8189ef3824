"""EC2NodeClasses (karpenter.k8s.aws/v1): how Karpenter's nodes are built.

Every class runs Bottlerocket (``bottlerocket@latest`` resolves to the NVIDIA variant, with
its device plugin, on GPU instance types), selects subnets and the node security group by
the discovery tag (``karpenter.sh/discovery=<cluster>`` unless the module is told another),
requires IMDSv2 with one hop and encrypts its volumes. A class may add a security group by
id (EFA's), select capacity reservations and a placement group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modules.core.helm_values import TerraformValue

from .bottlerocket import BottlerocketUserData

API_VERSION = "karpenter.k8s.aws/v1"
KIND = "EC2NodeClass"
AMI_ALIAS = "bottlerocket@latest"
DISCOVERY_TAG = "karpenter.sh/discovery"

# Karpenter writes these tags itself and rejects a node class that sets them.
RESERVED_TAG_KEYS = ("eks:eks-cluster-name", "karpenter.sh/nodepool", "karpenter.sh/nodeclaim", "karpenter.k8s.aws/ec2nodeclass")
RESERVED_TAG_PREFIX = "kubernetes.io/cluster"

# Bottlerocket boots from /dev/xvda and keeps images and pod data on /dev/xvdb.
OS_VOLUME = ("/dev/xvda", 4)


@dataclass(frozen=True)
class NodeClass:
    name: str
    discovery: dict[str, str] | TerraformValue
    """The tags that mark the subnets and security groups to use (a map, or a Terraform
    expression that gives it)."""
    node_role_name: str
    data_volume_gb: int
    user_data: BottlerocketUserData
    tags: dict[str, str] = field(default_factory=dict)
    security_group_ids: tuple[str, ...] = ()
    """Groups the nodes join besides the discovered ones (EFA's self-referencing group)."""
    capacity_reservations: tuple[dict[str, Any], ...] = ()
    """``capacityReservationSelectorTerms`` entries."""
    placement_group: dict[str, str] | None = None

    def manifest(self) -> dict[str, Any]:
        discovery = [{"tags": self.discovery}]
        spec: dict[str, Any] = {
            "amiSelectorTerms": [{"alias": AMI_ALIAS}],
            "role": self.node_role_name,
            "subnetSelectorTerms": discovery,
            "securityGroupSelectorTerms": discovery + [{"id": group} for group in self.security_group_ids],
            # Pods use Pod Identity; one hop keeps them away from the node's credentials.
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": 1,
                "httpTokens": "required",
            },
            "blockDeviceMappings": [
                _encrypted_gp3(*OS_VOLUME),
                _encrypted_gp3("/dev/xvdb", self.data_volume_gb),
            ],
            "userData": self.user_data.render(),
        }
        if self.capacity_reservations:
            spec["capacityReservationSelectorTerms"] = list(self.capacity_reservations)
        if self.placement_group:
            spec["placementGroupSelector"] = self.placement_group
        tags = instance_tags(self.tags)
        if tags:
            spec["tags"] = tags
        return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": self.name}, "spec": spec}


def _encrypted_gp3(device: str, size_gb: int) -> dict[str, Any]:
    return {
        "deviceName": device,
        "ebs": {"volumeSize": f"{size_gb}Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True},
    }


def instance_tags(tags: dict[str, str]) -> dict[str, str]:
    """The platform's tags for the instances, volumes and launch templates Karpenter creates
    (provider default tags do not reach them), less the keys Karpenter reserves."""
    return {
        key: value
        for key, value in sorted(tags.items())
        if key not in RESERVED_TAG_KEYS and not key.startswith(RESERVED_TAG_PREFIX)
    }
