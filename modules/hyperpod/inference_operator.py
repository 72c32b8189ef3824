"""The HyperPod inference operator add-on's AWS side: its roles, the cluster's IAM OIDC
provider they trust, and the bucket where it keeps the TLS certificates of its endpoints.

The operator (EKS add-on ``amazon-sagemaker-hyperpod-inference``) reconciles JumpStartModel
and InferenceEndpointConfig resources: it pulls model weights from S3, runs the model server
on HyperPod nodes, fronts it with a load balancer and a TLS certificate (ACM), scales it
with KEDA and can register a SageMaker endpoint. Its chart annotates its service accounts
for IAM roles for service accounts (``eks.amazonaws.com/role-arn``), so the roles trust the
cluster's OIDC issuer, and its add-on refuses an execution role whose name does not start
with ``SageMakerHyperPodInference`` (the prefix AWS's managed policies for the add-on name).
The add-on takes (its published configuration keys): ``executionRoleArn``,
``tlsCertificateS3Bucket``, ``hyperpodClusterArn``, ``jumpstartGatedModelDownloadRoleArn``,
``keda.auth.aws.irsa.roleArn`` and ``alb`` (its own load balancer controller: off here, the
platform's controller serves the operator's load balancers; two controllers would both
reconcile the same Ingresses).

The permissions follow what the add-on's setup guide and the operator's chart list, each
narrowed to this account, region, VPC, cluster and buckets: SageMaker actions by name on
endpoints, models and this cluster (no ``sagemaker:*``), ``iam:PassRole`` on the two roles
it passes, model reads from the configured buckets and JumpStart's bucket of the region,
tags only on what it creates. What cannot be narrowed is named beside the statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, Token
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.eks_addon import AddonSpec
from modules.core.iam import ServiceRole, Statement, policy_document
from modules.core.private_bucket import PrivateBucket
from modules.core.refs import Expression, address, count_when

from .bucket_key import BucketKey

INFERENCE_OPERATOR = AddonSpec("amazon-sagemaker-hyperpod-inference", before_nodes=False)
INFERENCE_OPERATOR_NAMESPACE = "hyperpod-inference-system"
INFERENCE_OPERATOR_SERVICE_ACCOUNT = "hyperpod-inference-controller-manager"
KEDA_SERVICE_ACCOUNT = "keda-operator"
# Model pods of the operator run under service accounts it names hyperpod-inference-service-account*,
# in the namespaces of the models (the add-on's setup guide).
MODEL_SERVICE_ACCOUNTS = "system:serviceaccount:*:hyperpod-inference-service-account*"
# The add-on refuses an execution role whose name lacks this prefix.
EXECUTION_ROLE_PREFIX = "SageMakerHyperPodInference"
GATED_MODEL_POLICY = "AmazonSageMakerHyperPodGatedModelAccess"
STS_AUDIENCE = "sts.amazonaws.com"
# S3 adds a 26-character suffix to a bucket prefix; bucket names are at most 63 characters.
MAX_TLS_BUCKET_PREFIX = 37
TLS_BUCKET_SUFFIX = "-inference-tls-"
# JumpStart's public model artifacts, one AWS-owned bucket per region.
JUMPSTART_BUCKET = "jumpstart-cache-prod-{region}"

READ_MODEL_ACTIONS = ("s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation")
TLS_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging")
PULL_IMAGE_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
DESCRIBE_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcEndpointServiceConfigurations",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
)
INTERFACE_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:UnassignPrivateIpAddresses",
)
ATTACH_ACTIONS = ("ec2:AttachNetworkInterface", "ec2:DetachNetworkInterface")
ENDPOINT_SERVICE_ACTIONS = (
    "ec2:CreateVpcEndpointServiceConfiguration",
    "ec2:DeleteVpcEndpointServiceConfigurations",
    "ec2:ModifyVpcEndpointServicePermissions",
)
# Tags only as part of creating what the operator creates.
TAGGED_ON_CREATE = ("CreateNetworkInterface", "CreateVpcEndpointServiceConfiguration")
CERTIFICATE_ACTIONS = (
    "acm:ImportCertificate",
    "acm:DescribeCertificate",
    "acm:AddTagsToCertificate",
    "acm:DeleteCertificate",
)
# Registering a model as a SageMaker endpoint (SageMakerEndpointRegistration).
ENDPOINT_ACTIONS = (
    "sagemaker:AddTags",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateModel",
    "sagemaker:DeleteEndpoint",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:DeleteModel",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeModel",
    "sagemaker:ListTags",
    "sagemaker:UpdateEndpoint",
)
# Reading JumpStart models from SageMaker's public hub (AWS-owned).
HUB_ACTIONS = ("sagemaker:DescribeHubContent", "sagemaker:ListHubContents", "sagemaker:ListHubContentVersions")
# The operator watches its HyperPod cluster and records its inference settings there.
CLUSTER_ACTIONS = (
    "sagemaker:DescribeCluster",
    "sagemaker:DescribeClusterNode",
    "sagemaker:ListClusterNodes",
    "sagemaker:UpdateClusterInference",
)
EKS_ACTIONS = ("eks:DescribeCluster", "eks:AccessKubernetesApi")
KEDA_METRIC_ACTIONS = ("cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics")
KEDA_PROMETHEUS_ACTIONS = ("aps:QueryMetrics", "aps:GetLabels", "aps:GetSeries", "aps:GetMetricMetadata")


def tls_bucket_prefix(name_reference: str) -> str:
    """``<name>-inference-tls-``, the name cut by Terraform to fit (``name_reference`` is
    ``var.name``, known at plan time)."""
    room = MAX_TLS_BUCKET_PREFIX - len(TLS_BUCKET_SUFFIX)
    return f'${{trimsuffix(substr({name_reference}, 0, {room}), "-")}}{TLS_BUCKET_SUFFIX}'


@dataclass(frozen=True)
class InferenceOperatorProps:
    name: str
    name_reference: str
    eks_cluster_name: str
    hyperpod_cluster_arn: str
    vpc_id: str
    oidc_issuer_url: str
    """The EKS cluster's OpenID Connect issuer (https://oidc.eks...)."""
    oidc_provider_arn_reference: str
    """``var.eks_oidc_provider_arn``: an IAM OIDC provider the caller has for the issuer, or
    "" to have one created here (an account holds one provider per issuer)."""
    model_buckets: tuple[str, ...]
    bucket_key: BucketKey
    """The customer managed key of the TLS bucket."""


class InferenceOperator(Construct):
    """The TLS bucket, the OIDC provider and the operator's roles; ``configuration`` is
    the add-on's settings."""

    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: InferenceOperatorProps):
        super().__init__(scope, construct_id)
        self._aws, self._props = aws, props
        self.tls_bucket = self._tls_bucket(props.name_reference)
        self._oidc_provider(props)
        self.execution_role_name = f"{EXECUTION_ROLE_PREFIX}-{props.name}"
        self.gated_role_name = f"{props.name}-hyperpod-gated-models"
        self.execution_role = ServiceRole(
            self,
            "execution_role",
            name=self.execution_role_name,
            description=f"HyperPod inference operator of {props.name}",
            trust_policy=self._trust(INFERENCE_OPERATOR_SERVICE_ACCOUNT, sagemaker=True),
            inline_policies={"serve-models": policy_document(*self._statements())},
        )
        self.gated_role = ServiceRole(
            self,
            "gated_model_role",
            name=self.gated_role_name,
            description=f"Downloads gated JumpStart models for the HyperPod inference operator of {props.name}",
            trust_policy=self._trust(MODEL_SERVICE_ACCOUNTS, sagemaker=True, pattern=True),
            # AWS keeps the list of JumpStart's gated-model buckets in this policy; it grants
            # reads of those artifacts only.
            managed_policy_arns={"gated_models": aws.managed_policy_arn(GATED_MODEL_POLICY)},
        )
        self.execution_role.role.add_override(
            "lifecycle",
            {
                "precondition": [
                    {
                        "condition": f'${{{Fn.trimprefix(props.oidc_issuer_url, "https://")} != ""}}',
                        "error_message": "The inference operator's roles trust the EKS cluster's OpenID Connect issuer: "
                        "set eks_oidc_issuer_url (the cluster's identity.oidc.issuer).",
                    }
                ]
            },
        )
        self.keda_role = ServiceRole(
            self,
            "keda_role",
            name=f"{props.name}-hyperpod-inference-keda",
            description=f"KEDA of the HyperPod inference operator of {props.name} (scaling on metrics)",
            trust_policy=self._trust(KEDA_SERVICE_ACCOUNT),
            inline_policies={
                "read-metrics": policy_document(
                    # CloudWatch metric reads have no resource to scope to: this region's only.
                    Statement(
                        "ReadCloudWatchMetrics",
                        KEDA_METRIC_ACTIONS,
                        ("*",),
                        conditions={"StringEquals": {"aws:RequestedRegion": aws.region}},
                    ),
                    Statement("QueryPrometheus", KEDA_PROMETHEUS_ACTIONS, (aws.arn("aps", "workspace/*"),)),
                )
            },
        )

    @property
    def grants(self) -> list[Construct]:
        return [*self.execution_role.grants, *self.gated_role.grants, *self.keda_role.grants]

    @property
    def configuration(self) -> str:
        return Fn.jsonencode(
            {
                "executionRoleArn": self.execution_role.arn,
                "tlsCertificateS3Bucket": self.tls_bucket.name,
                "hyperpodClusterArn": self._props.hyperpod_cluster_arn,
                "jumpstartGatedModelDownloadRoleArn": self.gated_role.arn,
                "keda": {"auth": {"aws": {"irsa": {"roleArn": self.keda_role.arn}}}},
                # The platform's load balancer controller serves the operator's load
                # balancers (the add-on waits for it); a second controller would fight it.
                "alb": {"enabled": False},
            }
        )

    # --- trust --------------------------------------------------------------------------

    def _oidc_provider(self, props: InferenceOperatorProps) -> None:
        given = props.oidc_provider_arn_reference
        self.oidc_provider = IamOpenidConnectProvider(
            self,
            "oidc_provider",
            count=count_when(f'{given} == ""'),
            url=props.oidc_issuer_url,
            client_id_list=[STS_AUDIENCE],
        )
        created = f"one({address(self.oidc_provider)}[*].arn)"
        self.oidc_provider_arn = Token.as_string(Expression(f'{given} != "" ? {given} : {created}'))
        self.oidc_host = Fn.trimprefix(props.oidc_issuer_url, "https://")

    def _trust(self, service_account: str, *, sagemaker: bool = False, pattern: bool = False) -> str:
        """IRSA for ``service_account`` (a name in the operator's namespace, or a pattern of
        the full subject), and SageMaker of this account when the operator passes the role."""
        subject = service_account if pattern else f"system:serviceaccount:{INFERENCE_OPERATOR_NAMESPACE}:{service_account}"
        operator = "StringLike" if pattern else "StringEquals"
        statements = [
            Statement(
                "ServiceAccount",
                ("sts:AssumeRoleWithWebIdentity",),
                principals={"Federated": self.oidc_provider_arn},
                conditions={
                    operator: {f"{self.oidc_host}:sub": subject},
                    "StringEquals": {f"{self.oidc_host}:aud": STS_AUDIENCE},
                }
                if pattern
                else {operator: {f"{self.oidc_host}:sub": subject, f"{self.oidc_host}:aud": STS_AUDIENCE}},
            )
        ]
        if sagemaker:
            statements.append(
                Statement(
                    "SageMaker",
                    ("sts:AssumeRole",),
                    principals={"Service": "sagemaker.amazonaws.com"},
                    conditions={"StringEquals": {"aws:SourceAccount": self._aws.account_id}},
                )
            )
        return policy_document(*statements)

    # --- permissions --------------------------------------------------------------------

    def _statements(self) -> list[Statement]:
        aws, props = self._aws, self._props
        bucket_arn = self.tls_bucket.arn
        partition = aws.partition
        model_buckets = [JUMPSTART_BUCKET.format(region=aws.region), *props.model_buckets]
        bucket_arns = [f"arn:{partition}:s3:::{bucket}" for bucket in model_buckets]
        in_vpc = {"StringEquals": {"ec2:Vpc": aws.arn("ec2", f"vpc/{props.vpc_id}")}}
        this_account = {"StringEquals": {"aws:ResourceAccount": aws.account_id}}
        passed = [aws.arn("iam", f"role/{name}", region=False) for name in (self.execution_role_name, self.gated_role_name)]
        return [
            # JumpStart's bucket of the region and the buckets hyperpod.inference_operator.model_buckets names.
            Statement("ReadModels", READ_MODEL_ACTIONS, (*bucket_arns, *(f"{arn}/*" for arn in bucket_arns))),
            Statement("TlsCertificates", TLS_OBJECT_ACTIONS, (f"{bucket_arn}/*",), conditions=this_account),
            Statement("ListTlsBucket", ("s3:ListBucket",), (bucket_arn,)),
            props.bucket_key.use("TlsBucketKey", bucket_arn, write=True),
            # The registry token is account-wide; model servers come from AWS's registries
            # of this region (other accounts).
            Statement("RegistryToken", ("ecr:GetAuthorizationToken",), ("*",)),
            Statement("PullImages", PULL_IMAGE_ACTIONS, (f"arn:{partition}:ecr:{aws.region}:*:repository/*",)),
            # EC2 and Elastic Load Balancing describe calls have no resource to scope to.
            Statement("DescribeNetwork", DESCRIBE_ACTIONS, ("*",)),
            Statement(
                "NetworkInterfacesInThisVpc",
                INTERFACE_ACTIONS,
                tuple(aws.arn("ec2", f"{kind}/*") for kind in ("network-interface", "subnet", "security-group")),
                conditions=in_vpc,
            ),
            Statement("AttachInterfacesInThisVpc", ATTACH_ACTIONS, (aws.arn("ec2", "network-interface/*"),), conditions=in_vpc),
            Statement("AttachToInstances", ATTACH_ACTIONS, (aws.arn("ec2", "instance/*"),)),
            Statement("EndpointServices", ENDPOINT_SERVICE_ACTIONS, (aws.arn("ec2", "vpc-endpoint-service/*"),)),
            Statement(
                "TagWhatItCreates",
                ("ec2:CreateTags",),
                (aws.arn("ec2", "network-interface/*"), aws.arn("ec2", "vpc-endpoint-service/*")),
                conditions={"StringEquals": {"ec2:CreateAction": list(TAGGED_ON_CREATE)}},
            ),
            Statement(
                "CreateLoadBalancer",
                ("elasticloadbalancing:CreateLoadBalancer",),
                (aws.arn("elasticloadbalancing", "loadbalancer/*"),),
            ),
            # The certificates of its endpoints, in this account and region.
            Statement("Certificates", CERTIFICATE_ACTIONS, (aws.arn("acm", "certificate/*"),)),
            Statement(
                "RegisterEndpoints",
                ENDPOINT_ACTIONS,
                tuple(aws.arn("sagemaker", f"{kind}/*") for kind in ("endpoint", "endpoint-config", "model")),
            ),
            Statement(
                "ReadJumpStartHub",
                HUB_ACTIONS,
                (
                    f"arn:{partition}:sagemaker:{aws.region}:aws:hub/SageMakerPublicHub",
                    f"arn:{partition}:sagemaker:{aws.region}:aws:hub-content/SageMakerPublicHub/*",
                ),
            ),
            Statement("ThisHyperPodCluster", CLUSTER_ACTIONS, (props.hyperpod_cluster_arn,)),
            Statement("ReadEksCluster", EKS_ACTIONS, (aws.arn("eks", f"cluster/{props.eks_cluster_name}"),)),
            Statement(
                "PassItsRolesToSageMaker",
                ("iam:PassRole",),
                tuple(passed),
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]

    def _tls_bucket(self, name_reference: str) -> PrivateBucket:
        # Only certificates the operator issues live here: destroying the platform may delete them.
        return PrivateBucket(
            self,
            "tls",
            bucket_prefix=tls_bucket_prefix(name_reference),
            force_destroy=True,
            kms_key_arn=self._props.bucket_key.arn,
        )
