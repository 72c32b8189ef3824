"""The Kubernetes objects pods use the storage through: the fsx-lustre StorageClass
(dynamic provisioning), and a PersistentVolume with its claim for each file system and
bucket (static provisioning: the volume names the file system or bucket, and the claim
binds to that volume alone).

They are plain core/v1 and storage.k8s.io/v1 objects, delivered by the small chart in
``charts/storage-volumes`` (which only emits its values), so that the stack needs no
second provider for the cluster and Helm removes them before the drivers and nodes go.
Values from Terraform (ids, DNS names) are references resolved at apply time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modules.config.storage import S3BucketConfig

FSX_STORAGE_CLASS = "fsx-lustre"
FSX_CLAIM = "fsx-lustre"
# Mounted with flock so training jobs can lock files (checkpoints, datasets' caches).
LUSTRE_MOUNT_OPTIONS = ["flock"]
# Kubernetes requires a capacity on every volume; S3 has none, the driver ignores it.
S3_NOMINAL_CAPACITY = "1200Gi"
READ_WRITE_MANY = ["ReadWriteMany"]
READ_ONLY_MANY = ["ReadOnlyMany"]


def s3_volume_name(bucket: str) -> str:
    return f"s3-{bucket}"


@dataclass
class Manifests:
    documents: list[dict[str, Any]] = field(default_factory=list)

    def storage_class(self, name: str, provisioner: str, parameters: dict[str, Any], mount_options: list[str]) -> None:
        self.documents.append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": name},
                "provisioner": provisioner,
                "parameters": parameters,
                "mountOptions": mount_options,
                # A claim's file system goes with it: the ones to keep are static volumes.
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
                "allowVolumeExpansion": True,
            }
        )

    def static_volume(
        self,
        name: str,
        namespace: str,
        *,
        driver: str,
        handle: str,
        attributes: dict[str, Any],
        capacity: str,
        access_modes: list[str],
        mount_options: list[str],
    ) -> None:
        """A volume for storage that exists on its own, kept when the claim goes
        (Retain), and the claim bound to it by name."""
        self.documents.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name},
                "spec": {
                    "capacity": {"storage": capacity},
                    "volumeMode": "Filesystem",
                    "accessModes": access_modes,
                    "persistentVolumeReclaimPolicy": "Retain",
                    # Empty: no StorageClass may provision or claim it but the claim below.
                    "storageClassName": "",
                    "claimRef": {"namespace": namespace, "name": name},
                    "mountOptions": mount_options,
                    "csi": {"driver": driver, "volumeHandle": handle, "volumeAttributes": attributes},
                },
            }
        )
        self.documents.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {
                    "accessModes": access_modes,
                    "storageClassName": "",
                    "volumeName": name,
                    "resources": {"requests": {"storage": capacity}},
                },
            }
        )


def s3_mount_options(bucket: S3BucketConfig, region: str) -> list[str]:
    """Mountpoint options: the bucket's region, its prefix, and what writes may do."""
    options = [f"region {region}"]
    if bucket.prefix:
        options.append(f"prefix {bucket.prefix}")
    if bucket.read_only:
        options.append("read-only")
    else:
        # Training writes checkpoints and may replace or delete them.
        options += ["allow-delete", "allow-overwrite"]
    return options
