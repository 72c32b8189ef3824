"""The role HyperPod instances run with.

HyperPod registers the role with the EKS cluster itself (its own access entry), so none is
created here: a second entry for the same principal would conflict with it.
"""

from __future__ import annotations

from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.iam import ServiceRole, Statement, policy_document, service_trust

CLUSTER_INSTANCE_POLICY = "AmazonSageMakerClusterInstanceRolePolicy"

ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")

# What the VPC CNI (aws-node) does on a HyperPod node to give pods addresses.
VPC_CNI_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:AttachNetworkInterface",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DetachNetworkInterface",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:UnassignPrivateIpAddresses",
)


class ExecutionRole(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        aws: AwsContext,
        name: str,
        lifecycle_bucket_arn: str,
        lifecycle_key: Statement,
        eks_cluster_arn: str,
    ):
        """``lifecycle_key``: the statement that lets the role decrypt the scripts (the
        bucket's customer managed key, through S3, for that bucket only)."""
        super().__init__(scope, construct_id)
        self.service_role = ServiceRole(
            self,
            "role",
            name=f"{name}-hyperpod-execution",
            description=f"Instances of the HyperPod cluster of {name}",
            trust_policy=service_trust("sagemaker.amazonaws.com"),
            managed_policy_arns={"cluster_instance": aws.managed_policy_arn(CLUSTER_INSTANCE_POLICY)},
            inline_policies={
                "lifecycle-scripts": policy_document(
                    Statement("ListScripts", ("s3:ListBucket",), (lifecycle_bucket_arn,)),
                    Statement("ReadScripts", ("s3:GetObject",), (f"{lifecycle_bucket_arn}/*",)),
                    lifecycle_key,
                ),
                "ecr-pull": policy_document(
                    # GetAuthorizationToken has no resource to scope to.
                    Statement("RegistryToken", ("ecr:GetAuthorizationToken",), ("*",)),
                    # Add-on and system images come from AWS-owned registries in other accounts.
                    Statement("PullImages", ECR_PULL_ACTIONS, (f"arn:{aws.partition}:ecr:*:*:repository/*",)),
                ),
                "vpc-cni": policy_document(
                    # Network interfaces are created and described before any ARN exists to name;
                    # EC2 scopes these actions to no narrower resource.
                    Statement("PodNetworking", VPC_CNI_ACTIONS, ("*",)),
                    Statement(
                        "TagPodInterfaces",
                        ("ec2:CreateTags",),
                        (f"arn:{aws.partition}:ec2:*:*:network-interface/*",),
                    ),
                    # HyperPod nodes are not plain EC2 instances: their ENIs are attached through SageMaker.
                    Statement(
                        "AttachPodInterfaces",
                        ("sagemaker:AttachClusterNodeNetworkInterface",),
                        (aws.arn("sagemaker", "cluster/*"),),
                    ),
                ),
                "pod-identity": policy_document(
                    Statement("PodIdentity", ("eks-auth:AssumeRoleForPodIdentity",), (eks_cluster_arn,)),
                ),
            },
        )

    @property
    def arn(self) -> str:
        return self.service_role.arn

    @property
    def grants(self) -> list[Construct]:
        return self.service_role.grants
