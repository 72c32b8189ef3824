"""The customer-managed KMS key for Kubernetes secrets and the control-plane log group."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.iam import Statement, policy_document

KEY_ACTIONS_FOR_LOGS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


class ClusterKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, cluster_name: str, log_group_name: str):
        super().__init__(scope, construct_id)
        log_group_arn = aws.arn("logs", f"log-group:{log_group_name}")
        policy = policy_document(
            # The account root keeps administration of the key, so IAM policies (such as the
            # cluster role's) can grant its use; in a key policy "*" means this key.
            Statement(
                "AccountAdministersKey",
                ("kms:*",),
                ("*",),
                principals={"AWS": f"arn:{aws.partition}:iam::{aws.account_id}:root"},
            ),
            # CloudWatch Logs may use the key only for this cluster's log group.
            Statement(
                "CloudWatchLogsEncryptsClusterLogs",
                KEY_ACTIONS_FOR_LOGS,
                ("*",),
                principals={"Service": f"logs.{aws.region}.{aws.dns_suffix}"},
                conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
            ),
        )
        self.key = KmsKey(
            self,
            "key",
            description=f"EKS secrets and control-plane logs of {cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy,
        )
        KmsAlias(self, "alias", name=f"alias/{cluster_name}-eks", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn
