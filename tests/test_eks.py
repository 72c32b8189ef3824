"""The EKS cluster: encryption, logs, access, node group, add-on ordering, outputs."""

from __future__ import annotations

import json

import pytest

from tests.tf import data, policy_of, ref, resource, resources

CLUSTER = ("aws_eks_cluster", "eks_control_plane_cluster")


@pytest.fixture(scope="module")
def cluster(stack):
    return resource(stack, *CLUSTER)


def test_cluster_version_and_authentication(cluster):
    assert cluster["name"] == "ml-platform"
    assert cluster["version"] == "1.33"
    assert cluster["access_config"] == {
        "authentication_mode": "API_AND_CONFIG_MAP",
        "bootstrap_cluster_creator_admin_permissions": False,
    }


def test_upgrade_policy_is_explicit(cluster):
    assert cluster["upgrade_policy"] == {"support_type": "EXTENDED"}


def test_endpoint_access(cluster):
    vpc = cluster["vpc_config"]
    assert vpc["endpoint_public_access"] is True
    assert vpc["endpoint_private_access"] is True
    assert vpc["public_access_cidrs"] == ["0.0.0.0/0"]


def test_public_endpoint_can_be_restricted_or_closed(synth):
    restricted = resource(synth({"eks": {"public_access_cidrs": ["203.0.113.0/24"]}}), *CLUSTER)
    assert restricted["vpc_config"]["public_access_cidrs"] == ["203.0.113.0/24"]
    private = resource(synth({"eks": {"endpoint_public_access": False}}), *CLUSTER)
    assert private["vpc_config"]["endpoint_public_access"] is False
    assert "public_access_cidrs" not in private["vpc_config"]


def test_control_plane_in_intra_subnets_minus_refused_az_ids(cluster):
    subnets = cluster["vpc_config"]["subnet_ids"]
    intra = "aws_subnet.network_intra_subnets"
    assert subnets.startswith(f"${{matchkeys({intra}.*.id, {intra}.*.availability_zone_id, setsubtract(")
    for az_id in ("use1-az3", "usw1-az2", "cac1-az3"):
        assert f'\\"{az_id}\\"' in json.dumps(subnets)
    assert "private" not in subnets


def test_all_control_plane_logs_to_a_retained_encrypted_log_group(stack, cluster):
    assert sorted(cluster["enabled_cluster_log_types"]) == [
        "api", "audit", "authenticator", "controllerManager", "scheduler"
    ]
    log_group = resource(stack, "aws_cloudwatch_log_group", "eks_control_plane_log_group")
    assert log_group["name"] == "/aws/eks/ml-platform/cluster"
    assert log_group["retention_in_days"] == 365
    assert log_group["kms_key_id"] == ref("aws_kms_key", "eks_control_plane_key", "arn")
    assert "aws_cloudwatch_log_group.eks_control_plane_log_group" in cluster["depends_on"]


def test_secrets_encrypted_with_a_rotating_customer_key(stack, cluster):
    key = resource(stack, "aws_kms_key", "eks_control_plane_key")
    assert key["enable_key_rotation"] is True
    assert cluster["encryption_config"] == {
        "provider": {"key_arn": ref("aws_kms_key", "eks_control_plane_key", "arn")},
        "resources": ["secrets"],
    }
    policy = policy_of(key["policy"])
    logs = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogsEncryptsLogGroups")
    assert logs["Principal"]["Service"].startswith("logs.us-west-2.")
    (log_group_arn,) = logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert log_group_arn.endswith(
        ":log-group:/aws/eks/ml-platform/cluster"
    )


def test_cluster_role_may_use_the_key_and_nothing_else(stack, cluster):
    role = resource(stack, "aws_iam_role", "eks_control_plane_role")
    trust = policy_of(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "eks.amazonaws.com"}
    inline = policy_of(resource(stack, "aws_iam_role_policy", "eks_control_plane_role_policy_secrets_encryption")["policy"])
    (statement,) = inline["Statement"]
    assert statement["Resource"] == [ref("aws_kms_key", "eks_control_plane_key", "arn")]
    assert cluster["role_arn"] == ref("aws_iam_role", "eks_control_plane_role", "arn")


def test_creator_is_cluster_admin_through_an_access_entry(stack):
    session = data(stack, "aws_iam_session_context", "eks_creator_access_session")
    assert session["arn"] == "${data.aws_caller_identity.context_caller.arn}"
    entry = resource(stack, "aws_eks_access_entry", "eks_creator_access_entry")
    assert entry["principal_arn"] == "${data.aws_iam_session_context.eks_creator_access_session.issuer_arn}"
    association = resource(stack, "aws_eks_access_policy_association", "eks_creator_access_cluster_admin")
    assert association["policy_arn"].endswith(":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert association["access_scope"] == {"type": "cluster"}


def test_security_groups_admit_nothing_from_outside(stack):
    for name, rule in resources(stack, "aws_vpc_security_group_ingress_rule").items():
        assert "cidr_ipv4" not in rule, f"{name} admits a CIDR"
        # Every source is a security group of this stack (or the one EKS creates for the cluster).
        assert rule["referenced_security_group_id"].startswith(("${aws_security_group.", "${aws_eks_cluster."))
    node = resource(stack, "aws_security_group", "eks_security_groups_node")
    assert node["tags"]["karpenter.sh/discovery"] == "ml-platform"


def test_system_node_group(stack):
    group = resource(stack, "aws_eks_node_group", "eks_system_nodes_node_group")
    assert group["ami_type"] == "BOTTLEROCKET_x86_64"
    assert group["instance_types"] == ["m5.large"]
    assert group["scaling_config"]["desired_size"] == 2
    assert group["subnet_ids"] == "${aws_subnet.network_private_subnets.*.id}"
    assert group["labels"]["karpenter.sh/controller"] == "true"


def test_system_nodes_require_imdsv2_and_encrypt_volumes(stack):
    template = resource(stack, "aws_launch_template", "eks_system_nodes_launch_template")
    assert template["metadata_options"] == {
        "http_endpoint": "enabled",
        "http_put_response_hop_limit": 1,
        "http_tokens": "required",
    }
    devices = {m["device_name"]: m["ebs"] for m in template["block_device_mappings"]}
    assert set(devices) == {"/dev/xvda", "/dev/xvdb"}
    assert all(ebs["encrypted"] == "true" for ebs in devices.values())
    assert devices["/dev/xvdb"]["volume_size"] == 50
    assert template["vpc_security_group_ids"] == [ref("aws_security_group", "eks_security_groups_node", "id")]


def test_node_group_waits_for_networking_addons(stack):
    group = resource(stack, "aws_eks_node_group", "eks_system_nodes_node_group")
    for addon in ("vpc_cni", "eks_pod_identity_agent"):
        assert f"aws_eks_addon.eks_addons_{addon}_addon" in group["depends_on"]
    coredns = resource(stack, "aws_eks_addon", "eks_addons_coredns_addon")
    assert coredns["depends_on"] == ["aws_eks_node_group.eks_system_nodes_node_group"]
    vpc_cni = resource(stack, "aws_eks_addon", "eks_addons_vpc_cni_addon")
    assert "depends_on" not in vpc_cni


@pytest.mark.parametrize("addon", ["coredns", "kube-proxy", "vpc-cni", "eks-pod-identity-agent"])
def test_addon_version_is_the_latest_for_the_cluster(stack, addon):
    key = addon.replace("-", "_")
    version = data(stack, "aws_eks_addon_version", f"eks_addons_{key}_version")
    assert version == {
        "addon_name": addon,
        "kubernetes_version": ref(*CLUSTER, "version"),
        "most_recent": True,
    }
    installed = resource(stack, "aws_eks_addon", f"eks_addons_{key}_addon")
    assert installed["addon_version"] == f"${{data.aws_eks_addon_version.eks_addons_{key}_version.version}}"


def test_outputs(stack):
    outputs = stack["output"]
    hyperpod = {name for name in outputs if name.startswith(("hyperpod_", "lifecycle_scripts_"))}
    assert set(outputs) - hyperpod == {"cluster_name", "cluster_endpoint", "cluster_version", "region", "configure_kubectl"}
    assert outputs["region"]["value"] == "us-west-2"
    assert outputs["cluster_endpoint"]["value"] == ref(*CLUSTER, "endpoint")
    assert outputs["configure_kubectl"]["value"] == (
        "aws eks update-kubeconfig --region us-west-2 --name ${aws_eks_cluster.eks_control_plane_cluster.name}"
    )


def test_provider_region_and_default_tags(synth):
    stack = synth({"region": "eu-central-1", "tags": {"team": "ml"}})
    (provider,) = stack["provider"]["aws"]
    assert provider["region"] == "eu-central-1"
    assert provider["default_tags"] == [{"tags": {"team": "ml"}}]


def test_helm_provider_authenticates_per_call_against_this_cluster(stack):
    (helm,) = stack["provider"]["helm"]
    kubernetes = helm["kubernetes"]
    assert kubernetes["host"] == ref(*CLUSTER, "endpoint")
    assert kubernetes["exec"]["command"] == "aws"
    assert kubernetes["exec"]["args"][:4] == ["eks", "get-token", "--cluster-name", ref(*CLUSTER, "name")]
    assert "token" not in kubernetes, "a token read at plan time expires during long applies"
