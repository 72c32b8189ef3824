"""Mountpoint for Amazon S3: the CSI driver add-on and its role, scoped to the configured
buckets (and prefixes): listing the bucket, reading objects, and writing and deleting them
only where a bucket is mounted read-write.

The driver (v2) mounts with its own credentials through Pod Identity on the service
account ``s3-csi-driver-sa``; ``lifecycle_scripts/setup_s3_mountpoint_csi.sh`` is the
manual alternative for clusters this stack does not manage.
"""

from __future__ import annotations

from cdktf import Fn
from constructs import Construct

from modules.config.storage import S3MountsConfig
from modules.core.aws_context import AwsContext
from modules.core.eks_addon import Addon, AddonSpec
from modules.core.iam import Statement, policy_document
from modules.core.pod_identity import PodIdentityRole

from .props import StorageProps

MOUNTPOINT_CSI_DRIVER = AddonSpec("aws-mountpoint-s3-csi-driver", before_nodes=False)
MOUNTPOINT_CSI_DRIVER_NAME = "s3.csi.aws.com"
DRIVER_NAMESPACE = "kube-system"
DRIVER_SERVICE_ACCOUNT = "s3-csi-driver-sa"
READ_ACTIONS = ("s3:GetObject",)
WRITE_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject")
# The node plugin must run where training pods mount: the GPU nodes are tainted
# (nvidia.com/gpu) and so may be HyperPod's; the add-on tolerates no taint by default.
ADDON_CONFIGURATION = {"node": {"tolerateAllTaints": True}}


class S3Mountpoint(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: StorageProps):
        super().__init__(scope, construct_id)
        self.identity = PodIdentityRole(
            self,
            "identity",
            cluster_name=props.cluster_name,
            role_name=f"{props.name}-s3-csi-driver",
            description=f"Mountpoint for Amazon S3 CSI driver of {props.name}",
            namespace=DRIVER_NAMESPACE,
            service_account=DRIVER_SERVICE_ACCOUNT,
            inline_policies={"mount-buckets": policy_document(*bucket_statements(props.config.s3, aws.partition))},
        )
        self.addon = Addon(
            self,
            "addon",
            cluster_name=props.cluster_name,
            kubernetes_version=props.kubernetes_version,
            spec=MOUNTPOINT_CSI_DRIVER,
            depends_on=[*props.cluster_ready, *self.identity.grants],
        )
        self.addon.addon.configuration_values = Fn.jsonencode(ADDON_CONFIGURATION)


def bucket_statements(config: S3MountsConfig, partition: str) -> list[Statement]:
    def bucket_arn(name: str) -> str:
        return f"arn:{partition}:s3:::{name}"

    buckets = config.buckets
    objects = tuple(f"{bucket_arn(b.name)}/{b.prefix}*" for b in buckets)
    writable = tuple(f"{bucket_arn(b.name)}/{b.prefix}*" for b in buckets if not b.read_only)
    statements = [
        Statement("ListMountedBuckets", ("s3:ListBucket",), tuple(bucket_arn(b.name) for b in buckets)),
        Statement("ReadMountedObjects", READ_ACTIONS, objects),
    ]
    if writable:
        statements.append(Statement("WriteReadWriteMounts", WRITE_ACTIONS, writable))
    return statements
