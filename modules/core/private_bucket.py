"""An S3 bucket that is private, encrypted, versioned and reachable only over TLS."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
)
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA as EncryptionByDefault,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from .iam import Statement, policy_document


class PrivateBucket(Construct):
    """Public access blocked, ACLs disabled, encrypted at rest, versioned with replaced
    versions expiring after ``noncurrent_days``, and a policy denying non-TLS access.

    Encrypted with SSE-S3 (AES-256), or with the customer managed key ``kms_key_arn``
    (SSE-KMS with an S3 Bucket Key: one data key per bucket, so KMS is called per bucket
    rather than per object, and the encryption context is the bucket's ARN). Under SSE-KMS
    an object's ETag is no longer the MD5 of its content: objects uploaded by Terraform
    track their content with ``source_hash`` instead of ``etag``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_prefix: str,
        force_destroy: bool,
        noncurrent_days: int = 30,
        kms_key_arn: str | None = None,
    ):
        super().__init__(scope, construct_id)
        self.kms_key_arn = kms_key_arn
        self.bucket = S3Bucket(self, "bucket", bucket_prefix=bucket_prefix, force_destroy=force_destroy)
        bucket_id = self.bucket.id
        S3BucketPublicAccessBlock(
            self,
            "public_access_block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=EncryptionByDefault(sse_algorithm="AES256")
                )
                if kms_key_arn is None
                else S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=EncryptionByDefault(
                        sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=bucket_id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-replaced-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=noncurrent_days)
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=1)
                    ],
                )
            ],
            depends_on=[versioning],
        )
        S3BucketPolicy(
            self,
            "policy",
            bucket=bucket_id,
            policy=policy_document(
                Statement(
                    "DenyInsecureTransport",
                    ("s3:*",),
                    (self.bucket.arn, f"{self.bucket.arn}/*"),
                    effect="Deny",
                    principals={"AWS": "*"},
                    conditions={"Bool": {"aws:SecureTransport": "false"}},
                )
            ),
        )

    @property
    def id(self) -> str:
        return self.bucket.id

    @property
    def arn(self) -> str:
        return self.bucket.arn

    @property
    def name(self) -> str:
        return self.bucket.bucket
