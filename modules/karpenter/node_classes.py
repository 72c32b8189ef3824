"""EC2NodeClasses (karpenter.k8s.aws/v1): how Karpenter's nodes are built.

Both classes run Bottlerocket (``bottlerocket@latest`` resolves to the NVIDIA variant, with
its device plugin, on GPU instance types), select subnets and the node security group by
``karpenter.sh/discovery``, require IMDSv2 with one hop and encrypt their volumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    cluster_name: str
    node_role_name: str
    data_volume_gb: int
    user_data: BottlerocketUserData
    tags: dict[str, str] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        discovery = [{"tags": {DISCOVERY_TAG: self.cluster_name}}]
        spec: dict[str, Any] = {
            "amiSelectorTerms": [{"alias": AMI_ALIAS}],
            "role": self.node_role_name,
            "subnetSelectorTerms": discovery,
            "securityGroupSelectorTerms": discovery,
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
