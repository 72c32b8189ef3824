"""EFA for the pools that ask for it (``efa: true``): a security group that admits all
traffic from its own members, which the pools' node classes add to their nodes, and the EFA
device plugin, which advertises ``vpc.amazonaws.com/efa`` on those nodes.

Karpenter attaches EFA interfaces the way every chart version the configuration accepts
supports it: a pod that requests ``vpc.amazonaws.com/efa`` gets a node launched with every
EFA interface its instance type has (p5.48xlarge: 32), each in the node's security groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from modules.config.ec2_instance_types import EFA_INSTANCE_TYPES
from modules.core.helm_values import render_values
from modules.core.security_group_rules import ALL_TRAFFIC, allow_from_group, allow_to_group, rule_less_group

from .controller_role import CONTROLLER_NAMESPACE
from .node_pools import EFA_LABEL, Taint

EFA_RESOURCE = "vpc.amazonaws.com/efa"
# eks-charts' aws-efa-k8s-device-plugin (app v0.5.20); the chart's versions carry a "v".
DEVICE_PLUGIN_REPOSITORY = "https://aws.github.io/eks-charts"
DEVICE_PLUGIN_CHART = "aws-efa-k8s-device-plugin"
DEVICE_PLUGIN_CHART_VERSION = "v0.5.30"
# The exception checkov and reviewers look for: EFA's OS-bypass traffic is not TCP or UDP
# on known ports, and AWS requires the group to admit all of it from, and to, itself.
SELF_REFERENCING_REASON = "EFA requires all traffic to and from members of its own security group"


@dataclass(frozen=True)
class EfaProps:
    name: str
    """The cluster's name (a token): the group is named after it."""
    vpc_id: str
    taints: tuple[Taint, ...]
    """The taints of the EFA pools, which the device plugin tolerates."""


def device_plugin_values(taints: tuple[Taint, ...]) -> dict[str, Any]:
    tolerations = list({repr(t.toleration()): t.toleration() for t in taints}.values())
    return {
        # Only on the EFA pools' nodes; HyperPod installs its own plugin on its nodes.
        "nodeSelector": {EFA_LABEL: "true"},
        "tolerations": tolerations,
        # The chart also requires one of these types; every EFA type an EFA pool may list.
        "supportedInstanceLabels": {"keys": ["node.kubernetes.io/instance-type"], "values": list(EFA_INSTANCE_TYPES)},
    }


class Efa(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: EfaProps):
        super().__init__(scope, construct_id)
        self.security_group = rule_less_group(
            self,
            "security_group",
            name=f"{props.name}-efa",
            description="EFA nodes of Karpenter: all traffic between members",
            vpc_id=props.vpc_id,
        )
        group = self.security_group.id
        self.ingress = allow_from_group(
            self, "self_ingress", group_id=group, source_group_id=group, rule=ALL_TRAFFIC, description=SELF_REFERENCING_REASON
        )
        self.egress = allow_to_group(
            self, "self_egress", group_id=group, target_group_id=group, rule=ALL_TRAFFIC, description=SELF_REFERENCING_REASON
        )
        self.device_plugin = Release(
            self,
            "device_plugin",
            name=DEVICE_PLUGIN_CHART,
            namespace=CONTROLLER_NAMESPACE,
            repository=DEVICE_PLUGIN_REPOSITORY,
            chart=DEVICE_PLUGIN_CHART,
            version=DEVICE_PLUGIN_CHART_VERSION,
            values=[render_values(device_plugin_values(props.taints))],
            # A DaemonSet on nodes that exist only while EFA pods run: nothing to wait for.
            wait=False,
        )
