"""EKS add-ons that extend a HyperPod cluster: training operator, task governance,
observability and the inference operator (with the metrics server it needs).

Each waits for what it needs, named where it is added: the nodes its Deployments are
scheduled on (``cluster_ready``), its pod identity or IRSA roles, cert-manager (the
dependencies chart) for webhook certificates, and the HyperPod cluster only where the
add-on is documented to need it or reads its ARN. Nothing else: task governance and
observability install while the HyperPod cluster is still being created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from cdktf import Fn, ITerraformDependable
from cdktf_cdktf_provider_aws.prometheus_workspace import PrometheusWorkspace
from constructs import Construct

from modules.config.hyperpod import HyperPodConfig
from modules.core import refs
from modules.core.aws_context import AwsContext
from modules.core.iam import Statement, policy_document
from modules.core.pod_identity import PodIdentityRole
from modules.core.eks_addon import Addon, AddonSpec

from .bucket_key import BucketKey
from .inference_operator import INFERENCE_OPERATOR, InferenceOperator, InferenceOperatorProps

TRAINING_OPERATOR = AddonSpec("amazon-sagemaker-hyperpod-training-operator", before_nodes=False)
TASK_GOVERNANCE = AddonSpec("amazon-sagemaker-hyperpod-taskgovernance", before_nodes=False)
OBSERVABILITY = AddonSpec("amazon-sagemaker-hyperpod-observability", before_nodes=False)
# The Kubernetes metrics server (EKS community add-on), which the inference operator needs.
METRICS_SERVER = AddonSpec("metrics-server", before_nodes=False)

TRAINING_OPERATOR_NAMESPACE = "aws-hyperpod"
TRAINING_OPERATOR_SERVICE_ACCOUNT = "hp-training-operator-controller-manager"
TRAINING_OPERATOR_ACTIONS = ("sagemaker:DescribeClusterNode", "sagemaker:ListClusterNodes", "sagemaker:DescribeCluster")

OBSERVABILITY_NAMESPACE = "hyperpod-observability"
OBSERVABILITY_SERVICE_ACCOUNT = "hyperpod-observability-operator-otel-collector"
# What the add-on's documentation lists for the collector's role (logs:GetLogRecord reads
# one event its dashboards link to).
OBSERVABILITY_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetLogRecord",
    "logs:GetQueryResults",
    "logs:PutLogEvents",
    "logs:StartQuery",
    "logs:StopQuery",
)
HYPERPOD_LOG_GROUPS = "log-group:/aws/sagemaker/Clusters/*"


@dataclass(frozen=True)
class HyperPodAddonsProps:
    config: HyperPodConfig
    name: str
    name_reference: str
    """``var.name``, for names Terraform cuts to fit."""
    eks_cluster_name: str
    eks_cluster_arn: str
    kubernetes_version: str
    hyperpod_cluster_arn: str
    hyperpod_cluster: ITerraformDependable
    training_operator_enabled: str
    """A Terraform condition that counts the training operator add-on in or out (its role
    stays: it grants nothing without the add-on's service account)."""
    load_balancer_controller_ready: str
    """A reference the inference operator waits for (see ``HyperPodInputs``)."""
    inference_dependencies_ready: str
    """``var.inference_dependencies_ready``: the CSI driver add-ons the inference operator needs."""
    cluster_ready: str
    """``var.cluster_ready``: the EKS nodes (and cluster DNS) Deployments are scheduled on."""
    cert_manager: ITerraformDependable
    """The dependencies chart's release, which installs cert-manager."""
    vpc_id: str
    oidc_issuer_url: str
    oidc_provider_arn_reference: str
    bucket_key: BucketKey


class HyperPodAddons(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: HyperPodAddonsProps):
        super().__init__(scope, construct_id)
        self._props = props
        config = props.config
        self.addons: list[Addon] = []
        self.prometheus: PrometheusWorkspace | None = None
        self.training_operator: list[Construct] = self._training_operator(aws)
        self.task_governance: Addon | None = None
        if config.enable_task_governance:
            # Kueue and its controllers are Deployments: the nodes. It reads no HyperPod
            # cluster, so it installs while the cluster is created (the policies wait for both).
            self.task_governance = self._add(TASK_GOVERNANCE, [props.cluster_ready])
        if config.enable_observability:
            self._observability(aws)
        if config.enable_inference_operator:
            self._inference_operator(aws)

    def _add(
        self,
        spec: AddonSpec,
        waits_for: Sequence[ITerraformDependable | str],
        configuration: str | None = None,
        enabled: str | None = None,
        construct_id: str | None = None,
    ) -> Addon:
        """``waits_for``: resources and references (``var.x``) the add-on is created after,
        each with its reason at the call."""
        addon = Addon(
            self,
            construct_id or spec.name.removeprefix("amazon-sagemaker-hyperpod-").replace("-", "_"),
            cluster_name=self._props.eks_cluster_name,
            kubernetes_version=self._props.kubernetes_version,
            spec=spec,
            enabled=enabled,
        )
        refs.wait_for(addon.addon, *waits_for)
        if configuration is not None:
            addon.addon.configuration_values = configuration
        self.addons.append(addon)
        return addon

    def _trust_this_cluster(self, aws: AwsContext) -> dict[str, dict[str, str]]:
        """EKS Pod Identity names the account and the cluster it assumes a role for: only
        this cluster's pods get these roles."""
        return {"StringEquals": {"aws:SourceAccount": aws.account_id, "aws:SourceArn": self._props.eks_cluster_arn}}

    def _training_operator(self, aws: AwsContext) -> list[Construct]:
        props = self._props
        role = PodIdentityRole(
            self,
            "training_operator_identity",
            cluster_name=props.eks_cluster_name,
            role_name=f"{props.name}-hyperpod-training-operator",
            description=f"HyperPod training operator of {props.name}",
            namespace=TRAINING_OPERATOR_NAMESPACE,
            service_account=TRAINING_OPERATOR_SERVICE_ACCOUNT,
            trust_conditions=self._trust_this_cluster(aws),
            inline_policies={
                "read-hyperpod-cluster": policy_document(
                    Statement("ReadHyperPodCluster", TRAINING_OPERATOR_ACTIONS, (props.hyperpod_cluster_arn,))
                )
            },
        )
        waits_for = [
            # Documented prerequisites: a HyperPod cluster (the operator runs jobs on its nodes
            # and reads it; the role's policy names its ARN) and cert-manager (its webhook's
            # certificate); its pod identity before its pods start.
            props.hyperpod_cluster,
            props.cert_manager,
            *role.grants,
        ]
        return [role, self._add(TRAINING_OPERATOR, waits_for, enabled=props.training_operator_enabled)]

    def _observability(self, aws: AwsContext) -> None:
        props = self._props
        self.prometheus = PrometheusWorkspace(self, "prometheus", alias=f"{props.name}-hyperpod")
        role = PodIdentityRole(
            self,
            "observability_identity",
            cluster_name=props.eks_cluster_name,
            role_name=f"{props.name}-hyperpod-observability",
            description=f"HyperPod observability collector of {props.name}",
            namespace=OBSERVABILITY_NAMESPACE,
            service_account=OBSERVABILITY_SERVICE_ACCOUNT,
            trust_conditions=self._trust_this_cluster(aws),
            inline_policies={
                "metrics-and-logs": policy_document(
                    Statement("RemoteWriteMetrics", ("aps:RemoteWrite",), (self.prometheus.arn,)),
                    Statement(
                        "HyperPodLogs",
                        OBSERVABILITY_LOG_ACTIONS,
                        (aws.arn("logs", HYPERPOD_LOG_GROUPS), aws.arn("logs", f"{HYPERPOD_LOG_GROUPS}:log-stream:*")),
                    ),
                )
            },
        )
        # The workspace endpoint itself, as the add-on's reference passes it: the add-on
        # appends the remote-write path.
        configuration = Fn.jsonencode(
            {
                "ampWorkspace": {"prometheusEndpoint": self.prometheus.prometheus_endpoint, "arn": self.prometheus.arn},
                **props.config.observability.addon_configuration(),
            }
        )
        # Its collector and exporters are Deployments and DaemonSets (the nodes) that write with
        # the pod identity role; it reads no HyperPod cluster, so it installs while the cluster
        # is created.
        self._add(OBSERVABILITY, [props.cluster_ready, *role.grants], configuration)

    def _inference_operator(self, aws: AwsContext) -> None:
        props = self._props
        operator = InferenceOperator(
            self,
            "inference_operator",
            aws=aws,
            props=InferenceOperatorProps(
                name=props.name,
                name_reference=props.name_reference,
                eks_cluster_name=props.eks_cluster_name,
                hyperpod_cluster_arn=props.hyperpod_cluster_arn,
                vpc_id=props.vpc_id,
                oidc_issuer_url=props.oidc_issuer_url,
                oidc_provider_arn_reference=props.oidc_provider_arn_reference,
                model_buckets=tuple(props.config.inference_operator.model_buckets),
                bucket_key=props.bucket_key,
            ),
        )
        self.inference_operator = operator
        # The add-on's documented dependency, which the platform does not otherwise install:
        # a Deployment, so after the nodes.
        self.metrics_server = self._add(METRICS_SERVER, [props.cluster_ready], construct_id="metrics_server")
        waits_for = [
            # Its configuration names the cluster (hyperpodClusterArn), and it serves models on its nodes.
            props.hyperpod_cluster,
            # It refuses to start without cert-manager's CRDs (certificaterequests.cert-manager.io).
            props.cert_manager,
            # It refuses to start without the load balancer controller's pods (its own is off).
            props.load_balancer_controller_ready,
            self.metrics_server.addon,
            # It refuses to start without the CSIDrivers s3.csi.aws.com and fsx.csi.aws.com.
            props.inference_dependencies_ready,
            # Its IRSA roles and TLS bucket exist before its pods use them.
            *operator.grants,
            operator.tls_bucket.bucket,
        ]
        self._add(INFERENCE_OPERATOR, waits_for, operator.configuration)
