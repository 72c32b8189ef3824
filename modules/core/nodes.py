"""What the subsystems agree on about the cluster's nodes: the managed policies every node
role carries, the labels of the system nodes the controllers are scheduled on, and the tag
Karpenter finds the nodes' subnets and security group by."""

from __future__ import annotations

# Karpenter's controller is scheduled on nodes with CONTROLLER_LABEL (its own nodes never
# have it); the other controllers select SYSTEM_ROLE_LABEL.
CONTROLLER_LABEL = "karpenter.sh/controller"
SYSTEM_ROLE_LABEL = "ml-platform/node-role"
SYSTEM_NODE_LABELS = {CONTROLLER_LABEL: "true", SYSTEM_ROLE_LABEL: "system"}

# Karpenter's node classes select subnets and security groups tagged with this key and the
# cluster's name; the network and EKS subsystems put it there.
DISCOVERY_TAG = "karpenter.sh/discovery"

NODE_MANAGED_POLICIES = {
    "worker": "AmazonEKSWorkerNodePolicy",
    "registry": "AmazonEC2ContainerRegistryPullOnly",
    "cni": "AmazonEKS_CNI_Policy",
    "ssm": "AmazonSSMManagedInstanceCore",
}
