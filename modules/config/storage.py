"""``storage.*``: shared storage for training: FSx for Lustre and S3 buckets mounted with
Mountpoint, each through its CSI driver (an EKS add-on) and a claim pods mount.

The FSx limits are the ones the CreateFileSystem and CreateDataRepositoryAssociation APIs
apply to SSD file systems (FSx for Lustre User Guide, "Managing storage capacity",
"Managing throughput capacity", "Linking your file system to an S3 bucket"); a value AWS
would refuse after the cluster is up is refused here, with its key.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import Section
from .hyperpod import AvailabilityZone
from .kubernetes import Namespace
from .network import SecurityGroupId
from .patterns import described
from .state import S3BucketName

# SSD deployment types (SCRATCH_1 predates data repository associations and Lustre 2.15).
LustreDeploymentType = Literal["SCRATCH_2", "PERSISTENT_1", "PERSISTENT_2"]
# Throughput tiers (MB/s per TiB) each deployment type accepts; scratch takes none.
PER_UNIT_STORAGE_THROUGHPUT: dict[str, tuple[int, ...]] = {
    "SCRATCH_2": (),
    "PERSISTENT_1": (50, 100, 200),
    "PERSISTENT_2": (125, 250, 500, 1000),
}
# SSD capacity: 1200 GiB, 2400 GiB, then steps of 2400 GiB.
SMALLEST_STORAGE_GIB = 1200
STORAGE_STEP_GIB = 2400
# 2.15 is accepted by every deployment type, recommended for new file systems, and needed
# (2.12 or newer) for data repository associations.
LUSTRE_VERSION = "2.15"
MAX_DATA_REPOSITORY_ASSOCIATIONS = 8
MAX_FILE_SYSTEM_PATH = 4096
S3_EVENTS = ("NEW", "CHANGED", "DELETED")
S3Event = Literal["NEW", "CHANGED", "DELETED"]
# Persistent file systems can be encrypted with a customer key; scratch ones always use
# a key FSx manages (CreateFileSystem refuses KmsKeyId for them).
CUSTOMER_KEY_TYPES = ("PERSISTENT_1", "PERSISTENT_2")

FILE_SYSTEM_ID_PATTERN = r"^fs-[0-9a-f]{8,21}$"
FileSystemId = Annotated[str, described(FILE_SYSTEM_ID_PATTERN, "an FSx file system id such as fs-0123456789abcdef0")]
# The mount name FSx gives a file system: "fsx" for SCRATCH_1, 8 characters otherwise.
MOUNT_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,8}$"
MountName = Annotated[str, described(MOUNT_NAME_PATTERN, "the file system's mount name, at most 8 letters or digits (aws fsx describe-file-systems: LustreConfiguration.MountName)")]
# A directory of the file system: absolute, not the root, no '..' and no doubled '/'.
FILE_SYSTEM_PATH_PATTERN = r"^(/[^/\x00]+)+$"
FileSystemPath = Annotated[str, described(FILE_SYSTEM_PATH_PATTERN, "an absolute directory of the file system such as /datasets (not / itself)", max_length=MAX_FILE_SYSTEM_PATH)]
# An S3 key prefix: empty (the whole bucket) or ending with '/', not starting with one.
S3_PREFIX_PATTERN = r"^([^/][^\x00]*/)?$"
S3Prefix = Annotated[str, described(S3_PREFIX_PATTERN, "an S3 key prefix ending with '/' such as datasets/imagenet/ (empty: the whole bucket)", max_length=1024)]


def valid_storage_capacities(count: int = 4) -> list[int]:
    """The first ``count`` capacities (GiB) SSD file systems accept."""
    return [SMALLEST_STORAGE_GIB, *(STORAGE_STEP_GIB * n for n in range(1, count))]


def storage_capacity_problem(gib: int) -> str | None:
    if gib == SMALLEST_STORAGE_GIB or (gib >= STORAGE_STEP_GIB and gib % STORAGE_STEP_GIB == 0):
        return None
    return f"must be {SMALLEST_STORAGE_GIB} or a multiple of {STORAGE_STEP_GIB} GiB ({', '.join(map(str, valid_storage_capacities()))}, ...)"


class DataRepositoryConfig(Section):
    """A data repository association: a directory of the file system linked to an S3 prefix."""

    bucket: S3BucketName = Field(description="S3 bucket (same region) whose objects appear in the file system.")
    prefix: S3Prefix = Field(default="", description="Key prefix linked; empty links the whole bucket.")
    file_system_path: FileSystemPath = Field(description="Directory of the file system the prefix appears in.")
    import_events: list[S3Event] = Field(
        default_factory=lambda: list(S3_EVENTS),
        description="S3 changes imported into the file system automatically (NEW, CHANGED, DELETED).",
    )
    export_events: list[S3Event] = Field(
        default_factory=list,
        description="File system changes exported to S3 automatically; [] keeps S3 read-only to FSx.",
    )
    import_metadata_on_create: bool = Field(
        default=True, description="List the prefix's objects into the file system when the association is created."
    )

    @field_validator("import_events", "export_events")
    @classmethod
    def _events_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists an event more than once")
        return value

    @property
    def s3_path(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


class LustreFileSystemConfig(Section):
    deployment_type: LustreDeploymentType = Field(
        default="PERSISTENT_2",
        description="SCRATCH_2 (no replication, cheapest), PERSISTENT_1 or PERSISTENT_2 (replicated, customer-key encrypted).",
    )
    storage_capacity_gib: int = Field(
        default=SMALLEST_STORAGE_GIB,
        description=f"Capacity: {SMALLEST_STORAGE_GIB} GiB, or a multiple of {STORAGE_STEP_GIB} GiB.",
    )
    per_unit_storage_throughput: int | None = Field(
        default=None,
        description="MB/s per TiB (PERSISTENT_1: 50, 100, 200; PERSISTENT_2: 125, 250, 500, 1000; none for SCRATCH_2). Unset: the type's lowest tier.",
    )
    data_repositories: list[DataRepositoryConfig] = Field(
        default_factory=list,
        max_length=MAX_DATA_REPOSITORY_ASSOCIATIONS,
        description="S3 prefixes linked to directories of the file system (data repository associations).",
    )

    @field_validator("storage_capacity_gib")
    @classmethod
    def _capacity(cls, value: int) -> int:
        problem = storage_capacity_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _throughput_fits_the_type(self) -> "LustreFileSystemConfig":
        tiers = PER_UNIT_STORAGE_THROUGHPUT[self.deployment_type]
        value = self.per_unit_storage_throughput
        if value is not None and not tiers:
            raise ValueError(f"per_unit_storage_throughput does not apply to {self.deployment_type}: remove it")
        if value is not None and value not in tiers:
            raise ValueError(
                f"per_unit_storage_throughput {value} is not a tier of {self.deployment_type}: one of "
                f"{', '.join(map(str, tiers))} (MB/s per TiB)"
            )
        return self

    @model_validator(mode="after")
    def _associations_are_distinct(self) -> "LustreFileSystemConfig":
        paths = [repository.file_system_path.rstrip("/") for repository in self.data_repositories]
        for index, path in enumerate(paths):
            for other, earlier in enumerate(paths[:index]):
                if path == earlier or path.startswith(earlier + "/") or earlier.startswith(path + "/"):
                    raise ValueError(
                        f"data_repositories[{index}].file_system_path {path} overlaps data_repositories[{other}]'s "
                        f"{earlier}: each association needs a directory of its own, neither inside the other"
                    )
        s3_paths = [repository.s3_path for repository in self.data_repositories]
        for index, path in enumerate(s3_paths):
            for other, earlier in enumerate(s3_paths[:index]):
                if path.startswith(earlier) or earlier.startswith(path):
                    raise ValueError(
                        f"data_repositories[{index}] links {path}, which overlaps data_repositories[{other}]'s "
                        f"{earlier}: FSx links each S3 prefix to one directory"
                    )
        return self

    @property
    def throughput(self) -> int | None:
        """The tier deployed: the configured one, or the type's lowest (None for scratch)."""
        tiers = PER_UNIT_STORAGE_THROUGHPUT[self.deployment_type]
        return self.per_unit_storage_throughput or (tiers[0] if tiers else None)

    @property
    def customer_key(self) -> bool:
        return self.deployment_type in CUSTOMER_KEY_TYPES


class ExistingFileSystemConfig(Section):
    id: FileSystemId = Field(description="The file system's id.")
    mount_name: MountName = Field(description="Its mount name (LustreConfiguration.MountName).")
    security_group_id: SecurityGroupId = Field(
        description="A security group of its network interfaces: the stack adds the Lustre rules between it and the nodes."
    )
    storage_capacity_gib: int = Field(
        default=SMALLEST_STORAGE_GIB, ge=SMALLEST_STORAGE_GIB, description="Its capacity, as the volume reports it to Kubernetes."
    )


class FsxLustreConfig(Section):
    enabled: bool = Field(
        default=False,
        description="The FSx CSI driver add-on, its role, a security group for Lustre traffic and the fsx-lustre StorageClass.",
    )
    availability_zone: AvailabilityZone | None = Field(
        default=None,
        description="The training zone: the file system and dynamically provisioned ones go in its private subnet. Unset: the first zone.",
    )
    file_system: LustreFileSystemConfig | None = Field(
        default=None, description="A file system the stack creates, with a volume and claim for it."
    )
    existing: ExistingFileSystemConfig | None = Field(
        default=None, description="A file system made elsewhere, with a volume and claim for it."
    )
    namespace: Namespace = Field(default="default", description="Namespace of the claim (pods mount it there).")

    @model_validator(mode="after")
    def _one_file_system(self) -> "FsxLustreConfig":
        if (self.file_system or self.existing) and not self.enabled:
            raise ValueError("storage.fsx_lustre.file_system or existing needs the CSI driver: set storage.fsx_lustre.enabled to true")
        if self.file_system and self.existing:
            raise ValueError("storage.fsx_lustre sets both file_system (create one) and existing (use one): keep one")
        return self


class S3BucketConfig(Section):
    name: S3BucketName = Field(description="The bucket, in the platform's region (the volume mounts it with that region).")
    prefix: S3Prefix = Field(default="", description="Mount only this key prefix; empty mounts the whole bucket.")
    read_only: bool = Field(default=True, description="Pods only read; false lets them write new objects and delete.")
    namespace: Namespace = Field(default="default", description="Namespace of the claim.")



class S3MountsConfig(Section):
    enabled: bool = Field(default=False, description="The Mountpoint for Amazon S3 CSI driver add-on and its role.")
    buckets: list[S3BucketConfig] = Field(
        default_factory=list, description="Buckets mounted through a volume and claim each; the driver's role may read (and write) only these."
    )

    @model_validator(mode="after")
    def _buckets_with_the_driver(self) -> "S3MountsConfig":
        if self.buckets and not self.enabled:
            raise ValueError("storage.s3.buckets need the Mountpoint CSI driver: set storage.s3.enabled to true")
        if self.enabled and not self.buckets:
            raise ValueError("storage.s3.enabled needs storage.s3.buckets: the driver's role may use only the buckets listed")
        names = [bucket.name for bucket in self.buckets]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"storage.s3.buckets lists {', '.join(twice)} more than once: one volume per bucket (claims are named s3-<bucket>)")
        return self


class StorageConfig(Section):
    fsx_lustre: FsxLustreConfig = FsxLustreConfig()
    s3: S3MountsConfig = S3MountsConfig()
