"""Storage as Terraform applies it (offline stand-ins, three zones): the CSI driver add-ons
and their Pod Identity roles, the FSx file system in the training zone with its data
repository associations, the Lustre rules on the nodes' groups, and the StorageClass,
volumes and claims Helm is given, validated against the Kubernetes 1.33 API schema."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from modules.config.storage import LUSTRE_VERSION

K8S_SCHEMA = "1.33.0"  # the default kubernetes_version's API
FSX = "storage_fsx_lustre"
ADDON = ("aws_eks_addon",)
NO_HYPERPOD = {"hyperpod": {"enabled": False}}
EXISTING_FS = {
    "storage": {
        "fsx_lustre": {
            "enabled": True,
            "existing": {"id": "fs-0123456789abcdef0", "mount_name": "abcdef12", "security_group_id": "sg-0123456789abcdef0"},
        }
    }
}


@pytest.fixture(scope="module")
def everything(deploy, everything_on):
    return deploy(everything_on)


def manifests(deployed) -> list[dict]:
    """What Helm is given: the release's values, as Terraform computed them."""
    (values,) = deployed.find("helm_release", "storage_volumes")["values"]
    return json.loads(values)["manifests"]


def by_kind(documents: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def lustre_rules(deployed, group_id: str, direction: str) -> set[tuple]:
    rules = deployed.of_type(f"aws_vpc_security_group_{direction}_rule").values()
    return {
        (r["referenced_security_group_id"], r["from_port"], r["to_port"])
        for r in rules
        if r["security_group_id"] == group_id and r["ip_protocol"] == "tcp" and r["from_port"] in (988, 1018)
    }


def test_nothing_of_storage_by_default(deployed):
    storage = [a for a in deployed.addresses() if "storage_" in a]
    assert storage == []


def test_csi_drivers_are_eks_addons_with_pod_identity(everything):
    cluster = everything.find("aws_eks_cluster", "eks_control_plane_cluster")["name"]
    associations = {
        (a["namespace"], a["service_account"]): a["role_arn"] for a in everything.of_type("aws_eks_pod_identity_association").values()
    }
    for unit, addon, account, role in (
        ("fsx_lustre", "aws-fsx-csi-driver", "fsx-csi-controller-sa", "ml-platform-fsx-csi-controller"),
        ("s3_mountpoint", "aws-mountpoint-s3-csi-driver", "s3-csi-driver-sa", "ml-platform-s3-csi-driver"),
    ):
        found = everything.find("aws_eks_addon", f"storage_{unit}_addon")
        assert (found["addon_name"], found["cluster_name"]) == (addon, cluster)
        assert associations[("kube-system", account)] == everything.find("aws_iam_role", f"storage_{unit}_identity_role")["arn"]
        assert associations[("kube-system", account)].endswith(f":role/{role}")
    mountpoint = everything.find("aws_eks_addon", "storage_s3_mountpoint_addon")
    assert json.loads(mountpoint["configuration_values"]) == {"node": {"tolerateAllTaints": True}}


def policy(deployed, unit: str, name: str) -> dict:
    statements = deployed.json_of("aws_iam_role_policy", f"storage_{unit}_identity_role_policy_{name}", "policy")["Statement"]
    return {s["Sid"]: s for s in statements}


def test_fsx_controller_creates_and_deletes_only_this_clusters_file_systems(everything):
    statements = policy(everything, "fsx_lustre", "provision_file_systems")
    file_systems = "arn:aws:fsx:us-west-2:123456789012:file-system/*"
    create, change = statements["CreateOwnedFileSystems"], statements["ChangeOwnedFileSystems"]
    assert create["Resource"] == [file_systems] == change["Resource"] == statements["DescribeFileSystems"]["Resource"]
    assert create["Condition"] == {"StringEquals": {"aws:RequestTag/kubernetes.io/cluster/ml-platform": "owned"}}
    assert change["Condition"] == {"StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/ml-platform": "owned"}}
    key = everything.find("aws_kms_key", f"{FSX}_key")["arn"]
    assert statements["EncryptWithTheKey"]["Resource"] == [key]
    assert statements["EncryptWithTheKey"]["Condition"] == {"StringEquals": {"kms:ViaService": "fsx.us-west-2.amazonaws.com"}}
    linked = statements["FsxServiceLinkedRoles"]
    assert linked["Condition"]["StringEquals"]["iam:AWSServiceName"] == ["fsx.amazonaws.com", "s3.data-source.lustre.fsx.amazonaws.com"]
    storage_class = by_kind(manifests(everything), "StorageClass")["fsx-lustre"]
    assert storage_class["parameters"]["extraTags"] == "kubernetes.io/cluster/ml-platform=owned", "the tag the role requires"


def test_mountpoint_role_is_scoped_to_the_configured_buckets(everything):
    statements = policy(everything, "s3_mountpoint", "mount_buckets")
    assert statements["ListMountedBuckets"]["Resource"] == [
        "arn:aws:s3:::ml-platform-training-data",
        "arn:aws:s3:::ml-platform-checkpoints",
    ]
    assert statements["ReadMountedObjects"]["Resource"] == [
        "arn:aws:s3:::ml-platform-training-data/datasets/*",
        "arn:aws:s3:::ml-platform-checkpoints/*",
    ]
    write = statements["WriteReadWriteMounts"]
    assert write["Resource"] == ["arn:aws:s3:::ml-platform-checkpoints/*"], "the read-only bucket gets no write"
    assert set(write["Action"]) == {"s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"}


def test_file_system_in_the_training_zone_encrypted_with_a_customer_key(everything):
    fs = everything.find("aws_fsx_lustre_file_system", f"{FSX}_file_system")
    subnets = {v["id"]: v for a, v in everything.of_type("aws_subnet").items() if "private_subnets" in a}
    (subnet,) = fs["subnet_ids"]
    assert subnets[subnet]["availability_zone"] == "us-west-2a"
    assert fs["security_group_ids"] == [everything.find("aws_security_group", f"{FSX}_security_group")["id"]]
    assert (fs["deployment_type"], fs["storage_capacity"], fs["per_unit_storage_throughput"]) == ("PERSISTENT_2", 2400, 250)
    assert fs["file_system_type_version"] == LUSTRE_VERSION and fs["storage_type"] == "SSD"
    key = everything.find("aws_kms_key", f"{FSX}_key")
    assert fs["kms_key_id"] == key["arn"] and key["enable_key_rotation"] is True


def test_data_repository_associations(everything):
    fs = everything.find("aws_fsx_lustre_file_system", f"{FSX}_file_system")["id"]
    first = everything.find("aws_fsx_data_repository_association", f"{FSX}_data_repository_0")
    second = everything.find("aws_fsx_data_repository_association", f"{FSX}_data_repository_1")
    assert (first["file_system_id"], second["file_system_id"]) == (fs, fs)
    assert first["data_repository_path"] == "s3://ml-platform-training-data/datasets/"
    assert (first["file_system_path"], second["file_system_path"]) == ("/datasets", "/checkpoints")
    (s3,) = first["s3"]
    assert s3["auto_import_policy"][0]["events"] == ["NEW", "CHANGED", "DELETED"] and not s3["auto_export_policy"]
    (s3,) = second["s3"]
    assert s3["auto_export_policy"][0]["events"] == ["NEW", "CHANGED", "DELETED"]
    assert first["delete_data_in_filesystem"] is False


def test_lustre_traffic_between_the_file_system_and_every_node_group(everything):
    fsx = everything.find("aws_security_group", f"{FSX}_security_group")["id"]
    nodes = everything.find("aws_security_group", "eks_security_groups_node")["id"]
    hyperpod = everything.find("aws_security_group", "security_group", module="hyperpod")["id"]
    ports = {(988, 988), (1018, 1023)}
    for direction in ("ingress", "egress"):
        assert lustre_rules(everything, fsx, direction) == {(g, *p) for g in (fsx, nodes, hyperpod) for p in ports}, direction
        for client in (nodes, hyperpod):
            assert lustre_rules(everything, client, direction) == {(fsx, *p) for p in ports}, (client, direction)


def test_without_hyperpod_its_rules_are_not_planned(planned, everything_on):
    plan = planned({**everything_on, **NO_HYPERPOD})
    hyperpod_rules = [a for a in plan.addresses() if "hyperpod_lustre" in a]
    assert hyperpod_rules == []
    assert [a for a in plan.addresses() if "fsx_nodes_lustre" in a], "the EKS nodes keep theirs"


def test_every_manifest_is_valid_for_the_kubernetes_api(everything, deploy):
    documents = manifests(everything) + manifests(deploy(EXISTING_FS))
    assert {d["kind"] for d in documents} == {"StorageClass", "PersistentVolume", "PersistentVolumeClaim"}
    for document in documents:
        kubernetes_validate.validate(document, K8S_SCHEMA, strict=True)


def test_kubernetes_validation_would_catch_a_mistake(everything):
    (volume, *_) = by_kind(manifests(everything), "PersistentVolume").values()
    broken = json.loads(json.dumps(volume))
    broken["spec"]["csi"]["volumeHandel"] = broken["spec"]["csi"].pop("volumeHandle")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_SCHEMA, strict=True)


def test_static_volume_of_the_created_file_system(everything):
    fs = everything.find("aws_fsx_lustre_file_system", f"{FSX}_file_system")
    documents = manifests(everything)
    volume, claim = by_kind(documents, "PersistentVolume")["fsx-lustre"], by_kind(documents, "PersistentVolumeClaim")["fsx-lustre"]
    csi = volume["spec"]["csi"]
    assert (csi["driver"], csi["volumeHandle"]) == ("fsx.csi.aws.com", fs["id"])
    assert csi["volumeAttributes"] == {"dnsname": fs["dns_name"], "mountname": fs["mount_name"]}
    assert volume["spec"]["capacity"] == {"storage": "2400Gi"} and volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert volume["spec"]["claimRef"] == {"namespace": "default", "name": "fsx-lustre"}
    assert claim["spec"]["volumeName"] == "fsx-lustre" and claim["spec"]["storageClassName"] == ""


def test_storage_class_provisions_in_the_training_subnet(everything):
    fs = everything.find("aws_fsx_lustre_file_system", f"{FSX}_file_system")
    parameters = by_kind(manifests(everything), "StorageClass")["fsx-lustre"]["parameters"]
    assert parameters["subnetId"] == fs["subnet_ids"][0]
    assert parameters["securityGroupIds"] == fs["security_group_ids"][0]
    assert parameters["kmsKeyId"] == everything.find("aws_kms_key", f"{FSX}_key")["key_id"]
    assert (parameters["deploymentType"], parameters["perUnitStorageThroughput"]) == ("PERSISTENT_2", "250")
    assert all(isinstance(v, str) for v in parameters.values()), "StorageClass parameters are strings"


def test_s3_volumes_per_bucket(everything):
    documents = manifests(everything)
    volumes, claims = by_kind(documents, "PersistentVolume"), by_kind(documents, "PersistentVolumeClaim")
    data, checkpoints = volumes["s3-ml-platform-training-data"], volumes["s3-ml-platform-checkpoints"]
    assert data["spec"]["csi"]["driver"] == "s3.csi.aws.com"
    assert data["spec"]["csi"]["volumeAttributes"] == {"bucketName": "ml-platform-training-data"}
    assert data["spec"]["mountOptions"] == ["region us-west-2", "prefix datasets/", "read-only"]
    assert data["spec"]["accessModes"] == ["ReadOnlyMany"]
    assert checkpoints["spec"]["mountOptions"] == ["region us-west-2", "allow-delete", "allow-overwrite"]
    assert checkpoints["spec"]["accessModes"] == ["ReadWriteMany"]
    assert set(claims) == {"fsx-lustre", "s3-ml-platform-training-data", "s3-ml-platform-checkpoints"}


def test_release_waits_for_the_drivers_and_the_file_system(synth, everything_on):
    release = synth(everything_on).block("helm_release", "storage_volumes")
    assert release["chart"] == "../../../charts/storage-volumes"
    assert {
        "aws_eks_addon.storage_fsx_lustre_addon",
        "aws_eks_addon.storage_s3_mountpoint_addon",
        "aws_fsx_data_repository_association.storage_fsx_lustre_data_repository_1",
        "aws_eks_node_group.eks_system_nodes_node_group",
    } <= set(release["depends_on"])


def test_existing_file_system(deploy):
    existing = deploy(EXISTING_FS)
    assert existing.of_type("aws_fsx_lustre_file_system") == {}
    volume = by_kind(manifests(existing), "PersistentVolume")["fsx-lustre"]
    assert volume["spec"]["csi"]["volumeHandle"] == "fs-0123456789abcdef0"
    assert volume["spec"]["csi"]["volumeAttributes"] == {
        "dnsname": "fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com",
        "mountname": "abcdef12",
    }
    nodes = existing.find("aws_security_group", "eks_security_groups_node")["id"]
    ports = {(988, 988), (1018, 1023)}
    assert lustre_rules(existing, "sg-0123456789abcdef0", "ingress") >= {(nodes, *p) for p in ports}
    assert lustre_rules(existing, nodes, "ingress") >= {("sg-0123456789abcdef0", *p) for p in ports}


def test_a_training_zone_without_a_private_subnet_stops_the_plan(plan):
    from tooling.offline import TerraformError

    zone_d = {"storage": {"fsx_lustre": {"enabled": True, "availability_zone": "us-west-2d"}}}
    with pytest.raises(TerraformError) as refused:
        plan(zone_d)  # three zones: us-west-2a to c
    said = " ".join(refused.value.stderr.split())
    assert "storage.fsx_lustre.availability_zone us-west-2d has no private subnet" in said


def test_the_example_pod_mounts_claims_the_stack_creates(everything):
    from pathlib import Path

    import yaml

    example = Path(__file__).resolve().parent.parent / "examples" / "storage" / "data-and-checkpoints.yaml"
    (pod,) = yaml.safe_load_all(example.read_text())
    kubernetes_validate.validate(pod, K8S_SCHEMA, strict=True)
    claims = by_kind(manifests(everything), "PersistentVolumeClaim")
    namespace = pod["metadata"]["namespace"]
    mounted = {v["persistentVolumeClaim"]["claimName"]: v["persistentVolumeClaim"] for v in pod["spec"]["volumes"]}
    assert set(mounted) == set(claims), "the example mounts every claim of everything-on"
    for name, source in mounted.items():
        claim = claims[name]
        assert claim["metadata"]["namespace"] == namespace
        assert source.get("readOnly", False) is (claim["spec"]["accessModes"] == ["ReadOnlyMany"]), name
