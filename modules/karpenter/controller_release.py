"""The Karpenter controller: the chart from its public ECR OCI repository, pinned, on the
system node group."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdktf_cdktf_provider_helm.release import Release, ReleaseSet
from constructs import Construct

from modules.core.helm_values import TerraformValue, render_values
from modules.core.nodes import CONTROLLER_LABEL, SYSTEM_NODE_LABELS

from .controller_role import CONTROLLER_NAMESPACE, CONTROLLER_SERVICE_ACCOUNT

CHART_REPOSITORY = "oci://public.ecr.aws/karpenter"
CHART = "karpenter"
# The controller must never run on a node it manages: it runs on the system node group,
# whose label Karpenter's own nodes never carry.
CONTROLLER_NODE_SELECTOR = {"kubernetes.io/os": "linux", CONTROLLER_LABEL: SYSTEM_NODE_LABELS[CONTROLLER_LABEL]}


@dataclass(frozen=True)
class ControllerReleaseProps:
    cluster_name: str
    """The configured name (known at synth time), written into the chart values."""
    cluster_endpoint: str
    interruption_queue_name: str
    chart_version: str
    replicas: int
    node_selector: dict[str, str] | TerraformValue = field(default_factory=lambda: dict(CONTROLLER_NODE_SELECTOR))
    """Labels of the nodes the controller runs on (a map, or a Terraform expression)."""


def controller_values(props: ControllerReleaseProps) -> dict[str, Any]:
    return {
        "replicas": props.replicas,
        "serviceAccount": {"create": True, "name": CONTROLLER_SERVICE_ACCOUNT},
        "nodeSelector": props.node_selector,
        "controller": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}},
        "settings": {
            "clusterName": props.cluster_name,
            "interruptionQueue": props.interruption_queue_name,
        },
    }


class ControllerRelease(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: ControllerReleaseProps):
        super().__init__(scope, construct_id)
        self.release = Release(
            self,
            "release",
            name="karpenter",
            namespace=CONTROLLER_NAMESPACE,
            repository=CHART_REPOSITORY,
            chart=CHART,
            version=props.chart_version,
            values=[render_values(controller_values(props))],
            # The endpoint is known only once the cluster exists, so it is set, not rendered.
            set=[ReleaseSet(name="settings.clusterEndpoint", value=props.cluster_endpoint)],
            wait=True,
            timeout=900,
        )
