"""The EKS control plane: its IAM role, log group and the cluster itself."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, Token
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksCluster,
    EksClusterAccessConfig,
    EksClusterEncryptionConfig,
    EksClusterEncryptionConfigProvider,
    EksClusterUpgradePolicy,
    EksClusterVpcConfig,
)
from constructs import Construct

from modules.config.eks import CONTROL_PLANE_EXCLUDED_AZ_IDS, CONTROL_PLANE_LOG_TYPES, EksConfig
from modules.core.aws_context import AwsContext
from modules.core.iam import ServiceRole, Statement, policy_document, service_trust
from modules.core.kms import CustomerKey



# HyperPod registers its nodes through access entries and the aws-auth ConfigMap.
AUTHENTICATION_MODE = "API_AND_CONFIG_MAP"


def log_group_name(cluster_name: str) -> str:
    """The name EKS writes control-plane logs to; created first so it has a retention."""
    return f"/aws/eks/{cluster_name}/cluster"


@dataclass(frozen=True)
class ControlPlaneProps:
    cluster_name: str
    kubernetes_version: str
    eks: EksConfig
    intra_subnet_ids: list[str]
    intra_subnet_az_ids: list[str]
    cluster_security_group_id: str


class ControlPlane(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: ControlPlaneProps):
        super().__init__(scope, construct_id)
        name = props.cluster_name
        self.key = CustomerKey(
            self,
            "key",
            aws=aws,
            alias=f"{name}-eks",
            description=f"EKS secrets and control-plane logs of {name}",
            log_group_names=(log_group_name(name),),
        )
        self.role = ServiceRole(
            self,
            "role",
            name=f"{name}-cluster",
            description=f"EKS control plane of {name}",
            trust_policy=service_trust("eks.amazonaws.com", tag_session=True),
            managed_policy_arns={"cluster": aws.managed_policy_arn("AmazonEKSClusterPolicy")},
            inline_policies={
                "secrets-encryption": policy_document(
                    Statement(
                        "EnvelopeEncryptSecrets",
                        ("kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"),
                        (self.key.arn,),
                    )
                )
            },
        )
        self.log_group = CloudwatchLogGroup(
            self,
            "log_group",
            name=log_group_name(name),
            retention_in_days=props.eks.log_retention_days,
            kms_key_id=self.key.arn,
        )
        self.cluster = EksCluster(
            self,
            "cluster",
            name=name,
            version=props.kubernetes_version,
            role_arn=self.role.arn,
            vpc_config=EksClusterVpcConfig(
                subnet_ids=control_plane_subnet_ids(props.intra_subnet_ids, props.intra_subnet_az_ids),
                security_group_ids=[props.cluster_security_group_id],
                endpoint_public_access=props.eks.endpoint_public_access,
                endpoint_private_access=props.eks.endpoint_private_access,
                public_access_cidrs=props.eks.public_access_cidrs if props.eks.endpoint_public_access else None,
            ),
            access_config=EksClusterAccessConfig(
                authentication_mode=AUTHENTICATION_MODE,
                # The creator is granted admin by an explicit, visible access entry instead.
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            encryption_config=EksClusterEncryptionConfig(
                resources=["secrets"],
                provider=EksClusterEncryptionConfigProvider(key_arn=self.key.arn),
            ),
            upgrade_policy=EksClusterUpgradePolicy(support_type=props.eks.upgrade_policy.support_type),
            # The role keeps its permissions until the cluster is gone, and the log group
            # exists before EKS would create one without retention or encryption.
            depends_on=[self.log_group, *self.role.grants],
        )


def control_plane_subnet_ids(subnet_ids: list[str], az_ids: list[str]) -> list[str]:
    """The intra subnets outside the AZ IDs EKS refuses for its control plane."""
    return Token.as_list(
        Fn.matchkeys(subnet_ids, az_ids, Fn.setsubtract(az_ids, list(CONTROL_PLANE_EXCLUDED_AZ_IDS)))
    )
