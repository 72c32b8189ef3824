"""The AWS Load Balancer Controller: Ingress -> ALB, Service type LoadBalancer -> NLB."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_helm.release import Release, ReleaseSet
from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.helm_values import render_values
from modules.core.iam import policy_document
from modules.core.pod_identity import PodIdentityRole
from modules.core.nodes import SYSTEM_NODE_LABELS, SYSTEM_ROLE_LABEL

from .iam_policy import CHART_VERSION, controller_statements

CHART_REPOSITORY = "https://aws.github.io/eks-charts"
CHART = "aws-load-balancer-controller"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"


@dataclass(frozen=True)
class LoadBalancerControllerProps:
    cluster_name: str
    """The configured name (known at synth time), written into the chart values."""
    cluster_name_ref: str
    """The cluster's name attribute, so the pod identity association waits for the cluster."""
    region: str
    vpc_id: str
    depends_on: list[ITerraformDependable]


def controller_values(props: LoadBalancerControllerProps) -> dict[str, Any]:
    # Nodes allow one IMDS hop, so the controller cannot look up its region and VPC: both
    # are given (the VPC ID as a set value, being known only after apply).
    return {
        "clusterName": props.cluster_name,
        "region": props.region,
        "replicaCount": 2,
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        "nodeSelector": {SYSTEM_ROLE_LABEL: SYSTEM_NODE_LABELS[SYSTEM_ROLE_LABEL]},
    }


class LoadBalancerController(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: LoadBalancerControllerProps):
        super().__init__(scope, construct_id)
        name = props.cluster_name
        self.identity = PodIdentityRole(
            self,
            "identity",
            cluster_name=props.cluster_name_ref,
            role_name=f"{name}-load-balancer-controller",
            description=f"AWS Load Balancer Controller of {name}",
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            inline_policies={"load-balancer-controller": policy_document(*controller_statements(aws.partition, aws.region, aws.account_id))},
        )
        self.release = Release(
            self,
            "release",
            name=CHART,
            namespace=NAMESPACE,
            repository=CHART_REPOSITORY,
            chart=CHART,
            version=CHART_VERSION,
            values=[render_values(controller_values(props))],
            set=[ReleaseSet(name="vpcId", value=props.vpc_id)],
            wait=True,
            depends_on=[*props.depends_on, *self.identity.grants],
        )
