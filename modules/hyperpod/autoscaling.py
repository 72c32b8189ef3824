"""The role HyperPod's managed Karpenter assumes to scale the instance groups
(``ClusterRole`` of the cluster, with ``AutoScaling`` enabled).

The permissions are those HyperPod's autoscaling guide lists, narrowed: adding and
removing nodes of clusters in this account and region (the cluster's own ARN holds an ID
HyperPod assigns at creation, after the role must exist), and KMS grants for the groups'
encrypted volumes only through SageMaker, only for AWS resources.
"""

from __future__ import annotations

from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.iam import ServiceRole, Statement, policy_document, service_trust

AUTOSCALER_PRINCIPAL = "hyperpod.sagemaker.amazonaws.com"
NODE_ACTIONS = ("sagemaker:BatchAddClusterNodes", "sagemaker:BatchDeleteClusterNodes")
KMS_ACTIONS = ("kms:CreateGrant", "kms:DescribeKey")
# What a grant for a node's encrypted volume may allow.
GRANT_OPERATIONS = (
    "CreateGrant",
    "Decrypt",
    "DescribeKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
)


class AutoscalerRole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, name: str):
        super().__init__(scope, construct_id)
        self.service_role = ServiceRole(
            self,
            "role",
            name=f"{name}-hyperpod-autoscaler",
            description=f"HyperPod's managed Karpenter scaling the instance groups of {name}",
            trust_policy=service_trust(
                AUTOSCALER_PRINCIPAL, conditions={"StringEquals": {"aws:SourceAccount": aws.account_id}}
            ),
            inline_policies={
                "scale-instance-groups": policy_document(
                    Statement("AddAndRemoveNodes", NODE_ACTIONS, (aws.arn("sagemaker", "cluster/*"),)),
                    Statement(
                        "GrantsForEncryptedVolumes",
                        KMS_ACTIONS,
                        (aws.arn("kms", "key/*"),),
                        conditions={
                            "StringEquals": {"kms:ViaService": f"sagemaker.{aws.region}.amazonaws.com"},
                            "Bool": {"kms:GrantIsForAWSResource": "true"},
                            "ForAllValues:StringEquals": {"kms:GrantOperations": list(GRANT_OPERATIONS)},
                        },
                    ),
                )
            },
        )

    @property
    def arn(self) -> str:
        return self.service_role.arn

    @property
    def grants(self) -> list[Construct]:
        return self.service_role.grants
