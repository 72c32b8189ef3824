"""Customer-managed KMS keys with rotation, optionally usable by CloudWatch Logs."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from .aws_context import AwsContext
from .iam import Statement, policy_document

KEY_ACTIONS_FOR_LOGS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


class CustomerKey(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        aws: AwsContext,
        alias: str,
        description: str,
        log_group_names: tuple[str, ...] = (),
    ):
        super().__init__(scope, construct_id)
        statements = [
            # The account root keeps administration of the key, so IAM policies (such as a
            # service role's) can grant its use; in a key policy "*" means this key.
            Statement(
                "AccountAdministersKey",
                ("kms:*",),
                ("*",),
                principals={"AWS": f"arn:{aws.partition}:iam::{aws.account_id}:root"},
            )
        ]
        if log_group_names:
            # CloudWatch Logs may use the key only for the named log groups.
            statements.append(
                Statement(
                    "CloudWatchLogsEncryptsLogGroups",
                    KEY_ACTIONS_FOR_LOGS,
                    ("*",),
                    principals={"Service": f"logs.{aws.region}.{aws.dns_suffix}"},
                    conditions={
                        "ArnEquals": {
                            "kms:EncryptionContext:aws:logs:arn": [
                                aws.arn("logs", f"log-group:{name}") for name in log_group_names
                            ]
                        }
                    },
                )
            )
        self.key = KmsKey(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy_document(*statements),
        )
        KmsAlias(self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn
