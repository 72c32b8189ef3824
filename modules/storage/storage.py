"""The storage subsystem: the FSx for Lustre and Mountpoint for S3 units the configuration
turns on, and the release of the volumes and claims pods mount."""

from __future__ import annotations

from cdktf import Fn, ITerraformDependable
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.terraform_settings import PROJECT_ROOT_FROM_STACK

from .fsx_lustre import FSX_CSI_DRIVER_NAME, FsxLustre
from .props import StorageProps
from .s3_mountpoint import MOUNTPOINT_CSI_DRIVER_NAME, S3Mountpoint
from .volumes import (
    FSX_CLAIM,
    FSX_STORAGE_CLASS,
    LUSTRE_MOUNT_OPTIONS,
    READ_ONLY_MANY,
    READ_WRITE_MANY,
    S3_NOMINAL_CAPACITY,
    Manifests,
    s3_mount_options,
    s3_volume_name,
)

CHART_FOLDER = "charts/storage-volumes"
RELEASE_NAME = "storage-volumes"
RELEASE_NAMESPACE = "kube-system"


class Storage(Construct):
    @property
    def csi_driver_ids(self) -> list[str]:
        """IDs of the CSI driver add-ons installed (for what needs them to run)."""
        return [part.addon.addon.id for part in (self.fsx, self.s3) if part is not None]

    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: StorageProps):
        super().__init__(scope, construct_id)
        config = props.config
        self.fsx: FsxLustre | None = None
        self.s3: S3Mountpoint | None = None
        self.release: Release | None = None
        manifests = Manifests()
        waits_for: list[ITerraformDependable] = list(props.cluster_ready)
        if config.fsx_lustre.enabled:
            self.fsx = FsxLustre(self, "fsx_lustre", aws=aws, props=props)
            self._lustre_manifests(manifests, aws)
            waits_for += [self.fsx.addon.addon, *self.fsx.associations]
        if config.s3.enabled:
            self.s3 = S3Mountpoint(self, "s3_mountpoint", aws=aws, props=props)
            for bucket in config.s3.buckets:
                manifests.static_volume(
                    s3_volume_name(bucket.name),
                    bucket.namespace,
                    driver=MOUNTPOINT_CSI_DRIVER_NAME,
                    handle=s3_volume_name(bucket.name),
                    attributes={"bucketName": bucket.name},
                    capacity=S3_NOMINAL_CAPACITY,
                    access_modes=READ_ONLY_MANY if bucket.read_only else READ_WRITE_MANY,
                    mount_options=s3_mount_options(bucket, props.region),
                )
            waits_for.append(self.s3.addon.addon)
        if manifests.documents:
            self.manifests = manifests
            # Installed once the drivers run (and the file system exists), removed before them.
            self.release = Release(
                self,
                "volumes",
                name=RELEASE_NAME,
                namespace=RELEASE_NAMESPACE,
                chart=f"{PROJECT_ROOT_FROM_STACK}/{CHART_FOLDER}",
                values=[Fn.jsonencode({"manifests": manifests.documents})],
                wait=True,
                depends_on=waits_for,
            )

    def _lustre_manifests(self, manifests: Manifests, aws: AwsContext) -> None:
        fsx = self.fsx
        assert fsx is not None  # called once the unit exists
        config = fsx.config
        manifests.storage_class(FSX_STORAGE_CLASS, FSX_CSI_DRIVER_NAME, fsx.storage_class_parameters(), LUSTRE_MOUNT_OPTIONS)
        if fsx.file_system is not None:
            file_system, capacity = fsx.file_system, config.file_system.storage_capacity_gib  # type: ignore[union-attr]
            handle, dns_name, mount_name = file_system.id, file_system.dns_name, file_system.mount_name
        elif config.existing is not None:
            existing = config.existing
            capacity = existing.storage_capacity_gib
            handle, mount_name = existing.id, existing.mount_name
            # FSx names every Lustre file system <id>.fsx.<region>.<partition's DNS suffix>.
            dns_name = f"{existing.id}.fsx.{aws.region}.{aws.dns_suffix}"
        else:
            return
        manifests.static_volume(
            FSX_CLAIM,
            config.namespace,
            driver=FSX_CSI_DRIVER_NAME,
            handle=handle,
            attributes={"dnsname": dns_name, "mountname": mount_name},
            capacity=f"{capacity}Gi",
            access_modes=READ_WRITE_MANY,
            mount_options=LUSTRE_MOUNT_OPTIONS,
        )
