"""EKS add-ons that extend a HyperPod cluster: training operator, task governance,
observability and the inference operator. Each needs the HyperPod cluster to exist (they
run on its nodes and read it)."""

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
            self.task_governance = self._add(TASK_GOVERNANCE, [])
        if config.enable_observability:
            self._observability(aws)
        if config.enable_inference_operator:
            self._inference_operator(aws)

    def _add(
        self,
        spec: AddonSpec,
        grants: Sequence[ITerraformDependable],
        configuration: str | None = None,
        enabled: str | None = None,
        waits_for: Sequence[str] = (),
    ) -> Addon:
        depends_on = [self._props.hyperpod_cluster, *grants]
        addon = Addon(
            self,
            spec.name.removeprefix("amazon-sagemaker-hyperpod-").replace("-", "_"),
            cluster_name=self._props.eks_cluster_name,
            kubernetes_version=self._props.kubernetes_version,
            spec=spec,
            # A reference (waits_for) goes in through an override, which cdktf appends to a
            # depends_on the resource already has: then the override alone names them all.
            depends_on=None if waits_for else depends_on,
            enabled=enabled,
        )
        if waits_for:
            refs.wait_for(addon.addon, *depends_on, *waits_for)
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
        return [role, self._add(TRAINING_OPERATOR, role.grants, enabled=props.training_operator_enabled)]

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
        self._add(OBSERVABILITY, role.grants, configuration)

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
        self._add(
            INFERENCE_OPERATOR,
            [*operator.grants, operator.tls_bucket.bucket],
            operator.configuration,
            waits_for=[props.load_balancer_controller_ready],
        )
