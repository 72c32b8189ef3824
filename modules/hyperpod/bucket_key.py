"""The customer managed KMS key of the HyperPod module's buckets (lifecycle scripts, the
inference operator's TLS certificates), and the statements that let a role use it.

One key for both buckets: they hold what the module itself writes, have the same readers'
lifetime and are destroyed with the platform. The key policy leaves administration to the
account (``CustomerKey``); each role that reads or writes a bucket is granted the key in
its own policy, only through S3 in this region and only for that bucket (with an S3 Bucket
Key the encryption context S3 passes to KMS is the bucket's ARN).
"""

from __future__ import annotations

from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.iam import Statement
from modules.core.kms import CustomerKey

# Reading an object decrypts its data key; writing one asks KMS for a new data key.
READ_ACTIONS = ("kms:Decrypt",)
WRITE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


class BucketKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, name: str):
        super().__init__(scope, construct_id)
        self._aws = aws
        self.key = CustomerKey(
            self,
            "key",
            aws=aws,
            alias=f"{name}-hyperpod-buckets",
            description=f"HyperPod buckets of {name} (lifecycle scripts, inference TLS certificates)",
        )

    @property
    def arn(self) -> str:
        return self.key.arn

    def use(self, sid: str, bucket_arn: str, *, write: bool = False) -> Statement:
        """The statement that lets a role read (or read and write) ``bucket_arn``'s objects."""
        return Statement(
            sid,
            WRITE_ACTIONS if write else READ_ACTIONS,
            (self.arn,),
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"s3.{self._aws.region}.{self._aws.dns_suffix}",
                    "kms:EncryptionContext:aws:s3:arn": bucket_arn,
                }
            },
        )
