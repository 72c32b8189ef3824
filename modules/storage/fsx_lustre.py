"""FSx for Lustre: the CSI driver add-on and its role, a security group for Lustre traffic
with the rules on the nodes' groups, the StorageClass's parameters, and optionally a file
system (with its S3 data repository associations) in the training zone.

The driver's controller provisions file systems for claims of the StorageClass; its role
may create them only tagged with this cluster's ownership tag, and change or delete only
file systems carrying that tag. A file system the stack creates, or one made elsewhere,
is mounted through a static volume and needs no AWS permission at all.
"""

from __future__ import annotations

from typing import Any

from cdktf import Fn, Precondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.fsx_data_repository_association import (
    FsxDataRepositoryAssociation,
    FsxDataRepositoryAssociationS3,
    FsxDataRepositoryAssociationS3AutoExportPolicy,
    FsxDataRepositoryAssociationS3AutoImportPolicy,
)
from cdktf_cdktf_provider_aws.fsx_lustre_file_system import FsxLustreFileSystem
from constructs import Construct

from modules.config.storage import LUSTRE_VERSION, LustreFileSystemConfig
from modules.core.aws_context import AwsContext
from modules.core.eks_addon import Addon, AddonSpec
from modules.core.iam import Statement, policy_document
from modules.core.kms import CustomerKey
from modules.core.pod_identity import PodIdentityRole
from modules.core.security_group_rules import rule_less_group

from .lustre_traffic import LustreTraffic
from .props import StorageProps

FSX_CSI_DRIVER = AddonSpec("aws-fsx-csi-driver", before_nodes=False)
FSX_CSI_DRIVER_NAME = "fsx.csi.aws.com"
CONTROLLER_NAMESPACE = "kube-system"
CONTROLLER_SERVICE_ACCOUNT = "fsx-csi-controller-sa"
# The tag the controller puts on every file system it creates (StorageClass extraTags),
# and the only ones its role may change or delete.
OWNER_TAG_VALUE = "owned"
# Services whose service-linked roles FSx needs: its own, and the one that reads and
# writes S3 for data repositories.
FSX_SERVICE_LINKED = ("fsx.amazonaws.com", "s3.data-source.lustre.fsx.amazonaws.com")


def owner_tag_key(cluster_name: str) -> str:
    return f"kubernetes.io/cluster/{cluster_name}"


class FsxLustre(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: StorageProps):
        super().__init__(scope, construct_id)
        config = props.config.fsx_lustre
        self._props = props
        self.config = config
        # The StorageClass provisions file systems like the configured one (or the default).
        self.provisioned = config.file_system or LustreFileSystemConfig()
        self.subnet_id = self._training_subnet()
        self.security_group = rule_less_group(
            self,
            "security_group",
            name=f"{props.name}-fsx-lustre",
            description=f"FSx for Lustre file systems of {props.name}",
            vpc_id=props.vpc_id,
        )
        if config.availability_zone:
            self.security_group.lifecycle = TerraformResourceLifecycle(
                create_before_destroy=True,
                precondition=[
                    Precondition(
                        condition=Fn.contains(props.private_subnet_zones, config.availability_zone),
                        error_message=(
                            f"storage.fsx_lustre.availability_zone {config.availability_zone} has no private subnet "
                            "(the VPC uses the region's first vpc.max_azs zones, or the subnets vpc.existing lists): "
                            "choose one of those zones."
                        ),
                    )
                ],
            )
        self.rules = self._lustre_rules(self.security_group.id, "fsx")
        self.key = (
            CustomerKey(self, "key", aws=aws, alias=f"{props.name}-fsx-lustre", description=f"FSx for Lustre of {props.name}")
            if self.provisioned.customer_key
            else None
        )
        self.identity = PodIdentityRole(
            self,
            "identity",
            cluster_name=props.cluster_name,
            role_name=f"{props.name}-fsx-csi-controller",
            description=f"FSx for Lustre CSI controller of {props.name}",
            namespace=CONTROLLER_NAMESPACE,
            service_account=CONTROLLER_SERVICE_ACCOUNT,
            inline_policies={"provision-file-systems": policy_document(*self._statements(aws))},
        )
        self.addon = Addon(
            self,
            "addon",
            cluster_name=props.cluster_name,
            kubernetes_version=props.kubernetes_version,
            spec=FSX_CSI_DRIVER,
            depends_on=[*props.cluster_ready, *self.identity.grants],
        )
        self.file_system: FsxLustreFileSystem | None = None
        self.associations: list[FsxDataRepositoryAssociation] = []
        if config.file_system is not None:
            self._file_system(config.file_system)
        if config.existing is not None:
            self.rules += self._lustre_rules(config.existing.security_group_id, "existing")

    def _training_subnet(self) -> str:
        """The private subnet of the training zone (unset: the first private subnet)."""
        props = self._props
        zone = self.config.availability_zone
        if zone is None:
            return Fn.element(props.private_subnet_ids, 0)
        matching = Fn.matchkeys(props.private_subnet_ids, props.private_subnet_zones, [zone])
        return Fn.element(matching, 0)

    def _lustre_rules(self, server_group_id: str, key: str) -> list[Construct]:
        props = self._props
        traffic = [
            LustreTraffic(self, f"{key}_nodes_lustre", server_group_id=server_group_id,
                          client_group_id=props.node_security_group_id, clients="the EKS and Karpenter nodes"),
            LustreTraffic(self, f"{key}_hyperpod_lustre", server_group_id=server_group_id,
                          client_group_id=props.hyperpod_security_group_id, clients="the HyperPod nodes",
                          enabled=props.hyperpod_enabled),
        ]
        if key == "fsx":
            traffic.append(LustreTraffic(self, f"{key}_servers_lustre", server_group_id=server_group_id, clients="the file servers"))
        return [rule for group in traffic for rule in group.rules]

    def _file_system(self, config: LustreFileSystemConfig) -> None:
        props = self._props
        self.file_system = FsxLustreFileSystem(
            self,
            "file_system",
            subnet_ids=[self.subnet_id],
            security_group_ids=[self.security_group.id],
            deployment_type=config.deployment_type,
            storage_type="SSD",
            storage_capacity=config.storage_capacity_gib,
            per_unit_storage_throughput=config.throughput,
            file_system_type_version=LUSTRE_VERSION,
            kms_key_id=self.key.arn if self.key and config.customer_key else None,
            tags={"Name": f"{props.name}-training"},
            # The servers must reach each other when the file system starts.
            depends_on=self.rules,
        )
        for index, repository in enumerate(config.data_repositories):
            self.associations.append(
                FsxDataRepositoryAssociation(
                    self,
                    f"data_repository_{index}",
                    file_system_id=self.file_system.id,
                    file_system_path=repository.file_system_path,
                    data_repository_path=repository.s3_path,
                    batch_import_meta_data_on_create=repository.import_metadata_on_create,
                    s3=FsxDataRepositoryAssociationS3(
                        auto_import_policy=FsxDataRepositoryAssociationS3AutoImportPolicy(events=repository.import_events)
                        if repository.import_events
                        else None,
                        auto_export_policy=FsxDataRepositoryAssociationS3AutoExportPolicy(events=repository.export_events)
                        if repository.export_events
                        else None,
                    ),
                    # The data stays in S3: removing the association keeps the files' source.
                    delete_data_in_filesystem=False,
                )
            )

    def _statements(self, aws: AwsContext) -> list[Statement]:
        props = self._props
        file_systems = aws.arn("fsx", "file-system/*")
        tag = owner_tag_key(props.name)
        statements = [
            Statement(
                "CreateOwnedFileSystems",
                ("fsx:CreateFileSystem", "fsx:TagResource"),
                (file_systems,),
                conditions={"StringEquals": {f"aws:RequestTag/{tag}": OWNER_TAG_VALUE}},
            ),
            Statement(
                "ChangeOwnedFileSystems",
                ("fsx:DeleteFileSystem", "fsx:UpdateFileSystem"),
                (file_systems,),
                conditions={"StringEquals": {f"aws:ResourceTag/{tag}": OWNER_TAG_VALUE}},
            ),
            Statement("DescribeFileSystems", ("fsx:DescribeFileSystems",), (file_systems,)),
            Statement(
                "FsxServiceLinkedRoles",
                ("iam:CreateServiceLinkedRole",),
                (aws.arn("iam", "role/aws-service-role/*", region=False),),
                conditions={"StringEquals": {"iam:AWSServiceName": list(FSX_SERVICE_LINKED)}},
            ),
        ]
        if self.key is not None:
            # FSx encrypts the file systems it creates for the driver with this key,
            # through a grant the caller makes.
            statements.append(
                Statement(
                    "EncryptWithTheKey",
                    ("kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey*", "kms:Decrypt"),
                    (self.key.arn,),
                    conditions={"StringEquals": {"kms:ViaService": f"fsx.{aws.region}.{aws.dns_suffix}"}},
                )
            )
        return statements

    def storage_class_parameters(self) -> dict[str, Any]:
        """Parameters of the fsx-lustre StorageClass (the driver reads strings only)."""
        config = self.provisioned
        parameters: dict[str, Any] = {
            "subnetId": self.subnet_id,
            "securityGroupIds": self.security_group.id,
            "deploymentType": config.deployment_type,
            "storageType": "SSD",
            "fileSystemTypeVersion": LUSTRE_VERSION,
            "extraTags": f"{owner_tag_key(self._props.name)}={OWNER_TAG_VALUE}",
        }
        if config.throughput is not None:
            parameters["perUnitStorageThroughput"] = str(config.throughput)
        if self.key is not None:
            parameters["kmsKeyId"] = self.key.key.key_id
        return parameters
