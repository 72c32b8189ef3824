"""The EKS cluster: encryption, logs, access, node group, add-on ordering, outputs, as
Terraform applies them with the offline stand-ins (fake account 123456789012)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modules.config.eks import CONTROL_PLANE_EXCLUDED_AZ_IDS

CLUSTER = ("aws_eks_cluster", "eks_control_plane_cluster")
NODE_GROUP = "aws_eks_node_group.eks_system_nodes_node_group"

# Configurations shared by the EKS, Karpenter and load balancer controller tests (each new
# configuration costs a synth and a plan, an applied one an apply too):
# - VARIANT is applied in a region of 4 zones where EKS refuses one (use1-az3), with a
#   narrowed public endpoint, tags of its own and another Karpenter chart.
VARIANT: dict[str, Any] = {
    "region": "us-east-1",
    "tags": {"team": "ml"},
    "eks": {"public_access_cidrs": ["203.0.113.0/24"]},
    "karpenter": {"chart_version": "1.6.3"},
}
VARIANT_ZONES = 4
# - ELSEWHERE is only planned: the GovCloud partition (ARNs must not say "arn:aws:"), a
#   private-only endpoint and state in S3.
ELSEWHERE: dict[str, Any] = {
    "region": "us-gov-west-1",
    "eks": {"endpoint_public_access": False},
    "state": {"backend": "s3", "s3_bucket": "acme-terraform-state"},
}


def resource_key(module: str | None, mode: str, resource_type: str, name: str) -> str:
    """``module.karpenter.helm_release.release``: a resource (not an instance), module
    indexes left out, as the state's ``dependencies`` name them."""
    where = ".".join(p.split("[")[0] for p in (module or "").split(".") if p)
    local = f"{'data.' if mode == 'data' else ''}{resource_type}.{name}"
    return f"{where}.{local}" if where else local


def creation_order(deploy, overrides: dict[str, Any], zones: int = 3) -> dict[str, set[str]]:
    """Resource -> every resource Terraform finished before creating it (and so removes
    only after removing it): the ``dependencies`` that ``terraform apply`` recorded in the
    state, transitive through references, ``depends_on`` and module inputs."""
    order: dict[str, set[str]] = {}
    for entry in deploy(overrides, zones).state["resources"]:
        key = resource_key(entry.get("module"), entry["mode"], entry["type"], entry["name"])
        for instance in entry["instances"]:
            order.setdefault(key, set()).update(instance.get("dependencies", []))
    return order


@pytest.fixture(scope="module")
def order(deploy) -> dict[str, set[str]]:
    return creation_order(deploy, {})


@pytest.fixture(scope="module")
def cluster(deployed) -> dict:
    return deployed.find(*CLUSTER)


@pytest.fixture(scope="module")
def variant(deploy):
    return deploy(VARIANT, VARIANT_ZONES)


def test_cluster_version_and_authentication(cluster):
    assert cluster["name"] == "ml-platform"
    assert cluster["version"] == "1.33"
    assert cluster["access_config"] == [
        {"authentication_mode": "API_AND_CONFIG_MAP", "bootstrap_cluster_creator_admin_permissions": False}
    ]


def test_upgrade_policy_is_explicit(cluster):
    assert cluster["upgrade_policy"] == [{"support_type": "EXTENDED"}]


def test_endpoint_access(cluster):
    (vpc,) = cluster["vpc_config"]
    assert vpc["endpoint_public_access"] is True
    assert vpc["endpoint_private_access"] is True
    assert vpc["public_access_cidrs"] == ["0.0.0.0/0"]


def test_public_endpoint_can_be_restricted_or_closed(variant, planned, synth):
    (restricted,) = variant.find(*CLUSTER)["vpc_config"]
    assert restricted["public_access_cidrs"] == ["203.0.113.0/24"]
    (private,) = planned(ELSEWHERE).find(*CLUSTER)["vpc_config"]
    assert private["endpoint_public_access"] is False and private["endpoint_private_access"] is True
    # No CIDR list is sent for a closed endpoint (EKS would report 0.0.0.0/0 for it).
    assert "public_access_cidrs" not in synth(ELSEWHERE).block(*CLUSTER)["vpc_config"]


def intra_subnets(deployed) -> list[dict]:
    return [v for a, v in deployed.of_type("aws_subnet").items() if ".network_intra_subnets[" in a]


def test_control_plane_in_intra_subnets(deployed, cluster):
    (vpc,) = cluster["vpc_config"]
    intra = intra_subnets(deployed)
    assert len(intra) == 3 and sorted(vpc["subnet_ids"]) == sorted(s["id"] for s in intra)
    private = {v["id"] for a, v in deployed.of_type("aws_subnet").items() if "private" in a}
    assert not private & set(vpc["subnet_ids"])


def test_control_plane_leaves_out_the_zones_eks_refuses(variant, stack):
    """us-east-1 has use1-az3, where EKS refuses control-plane subnets."""
    intra = intra_subnets(variant)
    assert len(intra) == VARIANT_ZONES
    (refused,) = [s for s in intra if s["availability_zone_id"] in CONTROL_PLANE_EXCLUDED_AZ_IDS]
    assert refused["availability_zone_id"] == "use1-az3"
    (vpc,) = variant.find(*CLUSTER)["vpc_config"]
    assert sorted(vpc["subnet_ids"]) == sorted(s["id"] for s in intra if s is not refused)
    # The other refused zone ids are in other regions: the expression lists each of them.
    subnet_ids = stack.block(*CLUSTER)["vpc_config"]["subnet_ids"]
    for az_id in ("use1-az3", "usw1-az2", "cac1-az3"):
        assert f'"{az_id}"' in subnet_ids


def test_all_control_plane_logs_to_a_retained_encrypted_log_group(deployed, cluster, order):
    assert sorted(cluster["enabled_cluster_log_types"]) == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    log_group = deployed.find("aws_cloudwatch_log_group", "eks_control_plane_log_group")
    assert log_group["name"] == "/aws/eks/ml-platform/cluster"
    assert log_group["retention_in_days"] == 365
    assert log_group["kms_key_id"] == deployed.find("aws_kms_key", "eks_control_plane_key")["arn"]
    # Created first, or EKS creates an unencrypted one of that name and ours fails.
    assert "aws_cloudwatch_log_group.eks_control_plane_log_group" in order["aws_eks_cluster.eks_control_plane_cluster"]


def test_secrets_encrypted_with_a_rotating_customer_key(deployed, cluster):
    key = deployed.find("aws_kms_key", "eks_control_plane_key")
    assert key["enable_key_rotation"] is True
    assert cluster["encryption_config"] == [{"provider": [{"key_arn": key["arn"]}], "resources": ["secrets"]}]
    policy = deployed.json_of("aws_kms_key", "eks_control_plane_key", "policy")
    logs = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogsEncryptsLogGroups")
    assert logs["Principal"]["Service"] == "logs.us-west-2.amazonaws.com"
    log_group = deployed.find("aws_cloudwatch_log_group", "eks_control_plane_log_group")
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == [log_group["arn"]]
    assert log_group["arn"] == "arn:aws:logs:us-west-2:123456789012:log-group:/aws/eks/ml-platform/cluster"


def test_cluster_role_may_use_the_key_and_nothing_else(deployed, cluster):
    role = deployed.find("aws_iam_role", "eks_control_plane_role")
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "eks.amazonaws.com"}
    inline = deployed.find("aws_iam_role_policy", "eks_control_plane_role_policy_secrets_encryption")
    assert inline["role"] == role["name"]
    (statement,) = json.loads(inline["policy"])["Statement"]
    assert statement["Resource"] == [deployed.find("aws_kms_key", "eks_control_plane_key")["arn"]]
    assert cluster["role_arn"] == role["arn"]


def test_creator_is_cluster_admin_through_an_access_entry(deployed, cluster):
    caller = deployed.find("data.aws_caller_identity", "context_caller")
    session = deployed.find("data.aws_iam_session_context", "eks_creator_access_session")
    assert session["arn"] == caller["arn"] and ":assumed-role/" in caller["arn"]
    entry = deployed.find("aws_eks_access_entry", "eks_creator_access_entry")
    # The role behind the session: an access entry for the STS session ARN matches no one.
    assert entry["principal_arn"] == session["issuer_arn"] == "arn:aws:iam::123456789012:role/OfflineStandIn"
    assert entry["cluster_name"] == cluster["name"]
    association = deployed.find("aws_eks_access_policy_association", "eks_creator_access_cluster_admin")
    assert association["principal_arn"] == entry["principal_arn"]
    assert association["policy_arn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert [(s["type"], s["namespaces"]) for s in association["access_scope"]] == [("cluster", [])]


def test_security_groups_admit_nothing_from_outside(deployed, cluster):
    groups = {v["id"] for v in deployed.of_type("aws_security_group").values()}
    groups.add(cluster["vpc_config"][0]["cluster_security_group_id"])
    rules = deployed.of_type("aws_vpc_security_group_ingress_rule")
    assert len(rules) >= 4
    for address, rule in rules.items():
        assert rule["cidr_ipv4"] is None and rule["cidr_ipv6"] is None, f"{address} admits a CIDR"
        # Every source is a security group of this stack (or the one EKS creates for the cluster).
        assert rule["referenced_security_group_id"] in groups, address
    node = deployed.find("aws_security_group", "eks_security_groups_node")
    assert node["tags_all"]["karpenter.sh/discovery"] == "ml-platform"


def test_system_node_group(deployed):
    group = deployed.find("aws_eks_node_group", "eks_system_nodes_node_group")
    assert group["ami_type"] == "BOTTLEROCKET_x86_64"
    assert group["instance_types"] == ["m5.large"]
    assert group["scaling_config"][0]["desired_size"] == 2
    private = [v["id"] for a, v in deployed.of_type("aws_subnet").items() if ".network_private_subnets[" in a]
    assert len(private) == 3 and sorted(group["subnet_ids"]) == sorted(private)
    assert group["labels"]["karpenter.sh/controller"] == "true"


def test_system_nodes_require_imdsv2_and_encrypt_volumes(deployed):
    template = deployed.find("aws_launch_template", "eks_system_nodes_launch_template")
    (metadata,) = template["metadata_options"]
    assert (metadata["http_endpoint"], metadata["http_put_response_hop_limit"], metadata["http_tokens"]) == (
        "enabled",
        1,
        "required",
    )
    devices = {m["device_name"]: m["ebs"][0] for m in template["block_device_mappings"]}
    assert set(devices) == {"/dev/xvda", "/dev/xvdb"}
    assert all(ebs["encrypted"] == "true" for ebs in devices.values())
    assert devices["/dev/xvdb"]["volume_size"] == 50
    assert template["vpc_security_group_ids"] == [deployed.find("aws_security_group", "eks_security_groups_node")["id"]]
    group = deployed.find("aws_eks_node_group", "eks_system_nodes_node_group")
    (launch_template,) = group["launch_template"]
    assert (launch_template["id"], launch_template["version"]) == (template["id"], str(template["latest_version"]))


def test_node_group_waits_for_networking_addons(order, stack):
    for addon in ("vpc_cni", "eks_pod_identity_agent"):
        assert f"aws_eks_addon.eks_addons_{addon}_addon" in order[NODE_GROUP]
    # CoreDNS needs nodes to run on; the network add-ons must be there before the nodes.
    assert NODE_GROUP in order["aws_eks_addon.eks_addons_coredns_addon"]
    assert NODE_GROUP not in order["aws_eks_addon.eks_addons_vpc_cni_addon"]
    assert stack.block("aws_eks_addon", "eks_addons_coredns_addon")["depends_on"] == [NODE_GROUP]
    assert "depends_on" not in stack.block("aws_eks_addon", "eks_addons_vpc_cni_addon")


@pytest.mark.parametrize("addon", ["coredns", "kube-proxy", "vpc-cni", "eks-pod-identity-agent"])
def test_addon_version_is_the_latest_for_the_cluster(deployed, stack, cluster, addon):
    key = addon.replace("-", "_")
    version = deployed.find("data.aws_eks_addon_version", f"eks_addons_{key}_version")
    assert (version["addon_name"], version["kubernetes_version"], version["most_recent"]) == (addon, cluster["version"], True)
    # Read from the cluster, so an upgrade of the cluster moves the add-ons with it.
    assert stack.block("aws_eks_addon_version", f"eks_addons_{key}_version", data=True)["kubernetes_version"] == (
        "${aws_eks_cluster.eks_control_plane_cluster.version}"
    )
    installed = deployed.find("aws_eks_addon", f"eks_addons_{key}_addon")
    assert installed["addon_version"] == version["version"] and installed["addon_version"]
    assert installed["cluster_name"] == cluster["name"]


def test_outputs(deployed, cluster):
    outputs = deployed.outputs
    # The whole set of outputs and the other values: tests/test_outputs.py.
    assert outputs["region"] == "us-west-2"
    assert outputs["cluster_endpoint"] == cluster["endpoint"] and outputs["cluster_endpoint"].startswith("https://")
    assert outputs["cluster_name"] == "ml-platform" and outputs["cluster_version"] == "1.33"
    assert outputs["configure_kubectl"] == "aws eks update-kubeconfig --region us-west-2 --name ml-platform"


def test_provider_region_and_default_tags(variant, synth):
    regional = [v for v in variant.values.values() if v.get("region") is not None]
    assert len(regional) > 100 and {v["region"] for v in regional} == {"us-east-1"}
    assert variant.find(*CLUSTER)["arn"].startswith("arn:aws:eks:us-east-1:123456789012:")
    assert variant.outputs["configure_kubectl"] == "aws eks update-kubeconfig --region us-east-1 --name ml-platform"
    # No value anywhere (policies, chart values, ARNs, zones) keeps the default region.
    applied = json.dumps([variant.values, variant.outputs])
    assert "us-west-2" not in applied and "usw2-" not in applied
    tagged = [v for v in variant.values.values() if v.get("tags_all") is not None]
    assert len(tagged) > 50 and all(v["tags_all"].get("team") == "ml" for v in tagged)
    # The configured tags replace the default ones: the cluster carries no tag of its own.
    assert variant.find(*CLUSTER)["tags_all"] == {"team": "ml"}
    (provider,) = synth(VARIANT).root["provider"]["aws"]
    assert provider["default_tags"] == [{"tags": {"team": "ml"}}]


def test_every_arn_names_the_partition_of_the_region(planned):
    """Planned in GovCloud: ARNs (policies, managed policy attachments) say aws-us-gov."""
    elsewhere = planned(ELSEWHERE)
    planned_text = json.dumps(elsewhere.values)
    assert "arn:aws:" not in planned_text
    assert planned_text.count("arn:aws-us-gov:") > 50
    attachments = elsewhere.of_type("aws_iam_role_policy_attachment")
    assert attachments and all(a["policy_arn"].startswith("arn:aws-us-gov:") for a in attachments.values() if "policy_arn" in a)


def test_helm_provider_authenticates_per_call_against_this_cluster(stack):
    (helm,) = stack.root["provider"]["helm"]
    kubernetes = helm["kubernetes"]
    assert kubernetes["host"] == "${aws_eks_cluster.eks_control_plane_cluster.endpoint}"
    assert kubernetes["exec"]["command"] == "aws"
    assert kubernetes["exec"]["args"][:4] == ["eks", "get-token", "--cluster-name", "${aws_eks_cluster.eks_control_plane_cluster.name}"]
    assert "token" not in kubernetes, "a token read at plan time expires during long applies"
