"""The root module's outputs: what EKS users expect (named as terraform-aws-modules names
them), each equal to what Terraform applied with the offline stand-ins."""

from __future__ import annotations

EXPECTED = {
    "vpc_id", "vpc_cidr_block", "private_subnets", "public_subnets", "intra_subnets",
    "cluster_name", "cluster_arn", "cluster_endpoint", "cluster_version", "cluster_platform_version",
    "cluster_certificate_authority_data", "cluster_oidc_issuer_url", "cluster_security_group_id",
    "cluster_primary_security_group_id", "node_security_group_id",
    "karpenter_iam_role_arn", "karpenter_iam_role_name", "karpenter_node_iam_role_name", "karpenter_queue_name",
    "hyperpod_cluster_arn", "hyperpod_cluster_name", "hyperpod_instance_group_names", "hyperpod_security_group_id",
}


def test_every_output_has_a_description(stack):
    outputs = stack.root["output"]
    assert EXPECTED <= set(outputs)
    assert [name for name, block in outputs.items() if not block.get("description")] == []
    for module in ("hyperpod", "karpenter"):
        for name, block in stack.modules[module]["output"].items():
            root_name = f"{module}_{name}"
            if root_name in outputs:
                assert outputs[root_name]["description"].startswith(block["description"]), root_name


def test_outputs_are_what_terraform_applied(deployed):
    out = deployed.outputs
    vpc = deployed.find("aws_vpc", "network_vpc")
    assert out["vpc_id"] == vpc["id"] and out["vpc_cidr_block"] == vpc["cidr_block"] == "10.0.0.0/16"
    for tier in ("private", "public", "intra"):
        subnets = deployed.of_type("aws_subnet")
        ids = [v["id"] for a, v in sorted(subnets.items()) if f"network_{tier}_subnets[" in a]
        assert out[f"{tier}_subnets"] == ids and len(ids) == 3, tier
    cluster = deployed.find("aws_eks_cluster", "eks_control_plane_cluster")
    assert out["cluster_arn"] == cluster["arn"]
    assert out["cluster_certificate_authority_data"] == cluster["certificate_authority"][0]["data"]
    assert out["cluster_oidc_issuer_url"] == cluster["identity"][0]["oidc"][0]["issuer"]
    assert out["cluster_primary_security_group_id"] == cluster["vpc_config"][0]["cluster_security_group_id"]
    assert out["node_security_group_id"] == deployed.find("aws_security_group", "eks_security_groups_node")["id"]
    assert out["cluster_security_group_id"] == deployed.find("aws_security_group", "eks_security_groups_cluster")["id"]
    queue = next(iter(deployed.of_type("aws_sqs_queue", module="karpenter").values()))
    assert out["karpenter_queue_name"] == queue["name"]
    roles = {v["name"]: v["arn"] for v in deployed.of_type("aws_iam_role", module="karpenter").values()}
    assert roles[out["karpenter_iam_role_name"]] == out["karpenter_iam_role_arn"]
    assert out["karpenter_node_iam_role_name"] in roles
    assert out["hyperpod_instance_group_names"] == ["gpu-workers"]
    hyperpod_group = deployed.find("aws_security_group", "security_group", module="hyperpod")
    assert out["hyperpod_security_group_id"] == hyperpod_group["id"]
