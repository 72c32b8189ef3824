"""The HyperPod inference operator add-on's AWS side: its pod identity role and the bucket
where it keeps the TLS certificates of the endpoints it creates.

The operator (EKS add-on ``amazon-sagemaker-hyperpod-inference``) reconciles JumpStartModel
and InferenceEndpointConfig resources: it pulls model weights from S3, runs the model server
on HyperPod nodes, fronts it with an Application Load Balancer and a TLS certificate (ACM),
and can register a SageMaker endpoint. The add-on takes the role ARN and the bucket name as
its configuration values ``executionRoleArn`` and ``tlsCertificateS3Bucket``.

The permissions follow the execution-role policy AWS publishes with the operator's chart
(``helm_chart/HyperPodHelmChart/charts/inference-operator/config/policy`` in
aws/sagemaker-hyperpod-cli), narrowed where the platform knows the resource: this account
and region for SageMaker, this cluster for EKS, object reads and pulls instead of every S3
and ECR read. The TLS-bucket writes and certificate tagging come from the operator's 3.0
release notes; ACM import, describe and delete are assumed from the certificates it reports
(status.tlsCertificate.certificateARN). The Bedrock, API Gateway and execute-api statements
of the published policy serve optional integrations the platform does not set up and are
left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.iam import Statement, policy_document
from modules.core.pod_identity import PodIdentityRole
from modules.core.private_bucket import PrivateBucket
from modules.core.eks_addon import AddonSpec

INFERENCE_OPERATOR = AddonSpec("amazon-sagemaker-hyperpod-inference", before_nodes=False)
INFERENCE_OPERATOR_NAMESPACE = "hyperpod-inference-system"
INFERENCE_OPERATOR_SERVICE_ACCOUNT = "hyperpod-inference-controller-manager"
# S3 adds a 26-character suffix to a bucket prefix; bucket names are at most 63 characters.
MAX_TLS_BUCKET_PREFIX = 37
TLS_BUCKET_SUFFIX = "-inference-tls-"

READ_MODEL_ACTIONS = ("s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation")
TLS_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging")
PULL_IMAGE_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)
NETWORK_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeVpcs",
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
CERTIFICATE_ACTIONS = (
    "acm:DeleteCertificate",
    "acm:DescribeCertificate",
    "acm:AddTagsToCertificate",
)
# The published policy grants sagemaker:* (endpoints, models, hub content, the cluster's
# inference settings); here it is limited to this account and region.
SAGEMAKER_ACTIONS = ("sagemaker:*",)
EKS_ACTIONS = ("eks:Describe*", "eks:List*", "eks:AccessKubernetesApi")
# Network interfaces and the VPC endpoint service behind a registered SageMaker endpoint.
INTERFACE_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:AttachNetworkInterface",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DetachNetworkInterface",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:UnassignPrivateIpAddresses",
    "ec2:CreateVpcEndpointServiceConfiguration",
    "ec2:DeleteVpcEndpointServiceConfigurations",
    "ec2:DescribeVpcEndpointServiceConfigurations",
    "ec2:ModifyVpcEndpointServicePermissions",
)


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


class InferenceOperator(Construct):
    """The TLS bucket and the operator's role; ``configuration`` is the add-on's settings."""

    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: InferenceOperatorProps):
        super().__init__(scope, construct_id)
        self.tls_bucket = self._tls_bucket(props.name_reference)
        self.role = PodIdentityRole(
            self,
            "identity",
            cluster_name=props.eks_cluster_name,
            role_name=f"{props.name}-hyperpod-inference-operator",
            description=f"HyperPod inference operator of {props.name}",
            namespace=INFERENCE_OPERATOR_NAMESPACE,
            service_account=INFERENCE_OPERATOR_SERVICE_ACCOUNT,
            inline_policies={"serve-models": policy_document(*self._statements(aws, props))},
        )

    @property
    def configuration(self) -> str:
        return Fn.jsonencode({"executionRoleArn": self.role.arn, "tlsCertificateS3Bucket": self.tls_bucket.name})

    def _statements(self, aws: AwsContext, props: InferenceOperatorProps) -> list[Statement]:
        bucket_arn = self.tls_bucket.arn
        cluster_arn = aws.arn("eks", f"cluster/{props.eks_cluster_name}")
        passed_to_sagemaker = {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
        return [
            # Model buckets are named per deployment (InferenceEndpointConfig s3Storage.bucketName).
            Statement("ReadModels", READ_MODEL_ACTIONS, (f"arn:{aws.partition}:s3:::*",)),
            Statement("TlsCertificates", TLS_OBJECT_ACTIONS, (f"{bucket_arn}/*",)),
            Statement("ListTlsBucket", ("s3:ListBucket",), (bucket_arn,)),
            # The registry token is account-wide; image pulls name repositories of any
            # account in this region (model servers come from AWS's own registries).
            Statement("RegistryToken", ("ecr:GetAuthorizationToken",), ("*",)),
            Statement("PullImages", PULL_IMAGE_ACTIONS, (f"arn:{aws.partition}:ecr:{aws.region}:*:repository/*",)),
            # Describe calls cannot be scoped to resources.
            Statement("DescribeNetwork", NETWORK_ACTIONS, ("*",)),
            Statement("TagNetworkResources", ("ec2:CreateTags",), (aws.arn("ec2", "*"),)),
            Statement("NetworkInterfaces", INTERFACE_ACTIONS, (aws.arn("ec2", "*"),)),
            Statement(
                "CreateLoadBalancer",
                ("elasticloadbalancing:CreateLoadBalancer",),
                (aws.arn("elasticloadbalancing", "loadbalancer/*"),),
            ),
            Statement(
                "Certificates",
                (*CERTIFICATE_ACTIONS, "acm:ImportCertificate"),
                (aws.arn("acm", "certificate/*"),),
            ),
            Statement("SageMaker", SAGEMAKER_ACTIONS, (aws.arn("sagemaker", "*"),)),
            Statement("ReadEksCluster", EKS_ACTIONS, (cluster_arn,)),
            Statement("PassRoleToSageMaker", ("iam:PassRole",), (aws.arn("iam", "role/*", region=False),),
                      conditions=passed_to_sagemaker),
        ]

    def _tls_bucket(self, name_reference: str) -> PrivateBucket:
        # Only certificates the operator issues live here: destroying the platform may delete them.
        return PrivateBucket(self, "tls", bucket_prefix=tls_bucket_prefix(name_reference), force_destroy=True)
