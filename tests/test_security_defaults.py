"""Secure defaults, asserted over every resource Terraform applies (root module and the
modules it calls), for the default and the everything-on configurations, so a new
module is held to them without new tests. Policies are the JSON documents in the state."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

# The longest region code, partition and DNS suffix a policy can be applied with: a
# document that fits with them fits everywhere.
LONGEST_REGION = "us-isof-south-1"
LONGEST_PARTITION = "aws-us-gov"
LONGEST_DNS_SUFFIX = "amazonaws.com.cn"


def iam_size(policy: str) -> int:
    """Characters IAM counts against its size limits: the document without whitespace."""
    return len(json.dumps(json.loads(policy), separators=(",", ":"), ensure_ascii=False))


def worst_case_size(policy: str, region: str = "us-west-2") -> int:
    """``iam_size`` of an applied document (partition aws) if its region, partition and
    DNS suffix were the longest ones (names and the account id keep their length)."""
    grow = policy.count(region) * (len(LONGEST_REGION) - len(region))
    grow += policy.count("arn:aws:") * (len(LONGEST_PARTITION) - len("aws"))
    grow += policy.count("amazonaws.com") * (len(LONGEST_DNS_SUFFIX) - len("amazonaws.com"))
    return iam_size(policy) + grow


def statements_by_sid(policy: str) -> dict[str, dict]:
    statements = json.loads(policy)["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert len(by_sid) == len(statements), "Sids are unique"
    return by_sid


@pytest.fixture(scope="module", params=["default", "everything on"])
def configuration(request, everything_on) -> dict[str, Any]:
    return {} if request.param == "default" else everything_on


@pytest.fixture(scope="module")
def applied(configuration, deploy):
    """Each test runs on the default configuration and on the one with every option on."""
    return deploy(configuration)


# Policy-bearing attributes per resource type.
POLICY_ATTRIBUTES = {
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
}

# Actions IAM cannot scope to a resource (the service authorizes them on "*" only), and
# key policies, where "*" means the key itself.
UNSCOPABLE_ACTION_PREFIXES = (
    "ec2:Describe",
    "ec2:CreateFleet",
    "ec2:RunInstances",
    "ec2:CreateLaunchTemplate",
    "ec2:CreateTags",
    "pricing:GetProducts",
    "iam:ListInstanceProfiles",
    "ecr:GetAuthorizationToken",
    "sts:GetCallerIdentity",
    "elasticloadbalancing:Describe",
    "ec2:GetCoipPoolUsage",
    "ec2:GetSecurityGroupsForVpc",
    # The load balancer controller attaches certificates, WAF ACLs and Shield protection that
    # application teams name per Ingress: the platform cannot know their ARNs.
    "acm:ListCertificates",
    "acm:DescribeCertificate",
    "waf-regional:",
    "wafv2:",
    "shield:",
    "cognito-idp:DescribeUserPoolClient",
    "iam:GetServerCertificate",
    "iam:ListServerCertificates",
    "tag:GetResources",
    "sagemaker:AttachClusterNodeNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:AttachNetworkInterface",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DetachNetworkInterface",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:UnassignPrivateIpAddresses",
    "eks-auth:AssumeRoleForPodIdentity",
    "ecr:BatchCheckLayerAvailability",
    "ssm:GetParameter",
)


def policies(applied) -> Iterator[tuple[str, str, dict]]:
    for resource_type, attributes in POLICY_ATTRIBUTES.items():
        for address, values in applied.of_type(resource_type).items():
            for attribute in attributes:
                if values.get(attribute):
                    yield address, resource_type, json.loads(values[attribute])
            for inline in values.get("inline_policy") or []:
                if inline.get("policy"):
                    yield f"{address} inline {inline['name']}", resource_type, json.loads(inline["policy"])


def statements(applied) -> Iterator[tuple[str, str, dict]]:
    for address, resource_type, policy in policies(applied):
        for statement in policy["Statement"]:
            yield address, resource_type, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_every_policy_is_read(applied):
    found = {address.split(" ")[0] for address, _, _ in policies(applied)}
    # Every role's trust policy, every key policy, every inline and managed policy.
    assert len(found) >= 20
    assert all(s.get("Effect") in ("Allow", "Deny") for _, _, s in statements(applied))


def test_no_statement_allows_every_action(applied):
    for address, _, statement in statements(applied):
        assert "*" not in as_list(statement.get("Action", [])), address


def test_wildcard_resources_only_for_actions_that_cannot_be_scoped(applied):
    for address, resource_type, statement in statements(applied):
        if "*" not in as_list(statement.get("Resource", [])) or resource_type == "aws_kms_key":
            continue
        if statement["Effect"] == "Deny":
            continue
        scoped_by_condition = bool(statement.get("Condition"))
        for action in as_list(statement["Action"]):
            assert scoped_by_condition or action.startswith(UNSCOPABLE_ACTION_PREFIXES), (
                f"{address} {statement.get('Sid')}: {action} on Resource '*' without a condition"
            )


def test_kms_keys_rotate(applied):
    keys = applied.of_type("aws_kms_key")
    assert keys
    for address, key in keys.items():
        assert key["enable_key_rotation"] is True, address


def test_log_groups_are_encrypted_and_retained(applied):
    keys = {key["arn"] for key in applied.of_type("aws_kms_key").values()}
    log_groups = applied.of_type("aws_cloudwatch_log_group")
    assert log_groups
    for address, log_group in log_groups.items():
        assert log_group["retention_in_days"], address
        assert log_group["kms_key_id"] in keys, f"{address} is not encrypted with a key of this stack"


def test_no_ingress_from_anywhere(applied):
    for address, rule in applied.of_type("aws_vpc_security_group_ingress_rule").items():
        assert rule.get("cidr_ipv4") != "0.0.0.0/0" and rule.get("cidr_ipv6") != "::/0", address
    for address, rule in applied.of_type("aws_security_group_rule").items():
        if rule["type"] == "ingress":
            assert "0.0.0.0/0" not in (rule.get("cidr_blocks") or []), address
            assert "::/0" not in (rule.get("ipv6_cidr_blocks") or []), address
    for address, group in applied.of_type("aws_security_group").items():
        for ingress in group.get("ingress") or []:
            assert "0.0.0.0/0" not in (ingress.get("cidr_blocks") or []), address
            assert "::/0" not in (ingress.get("ipv6_cidr_blocks") or []), address


def test_launch_templates_require_imdsv2_with_a_hop_limit(applied):
    templates = applied.of_type("aws_launch_template")
    assert templates
    for address, template in templates.items():
        (metadata,) = template["metadata_options"]
        assert metadata["http_tokens"] == "required", address
        assert metadata["http_put_response_hop_limit"] in (1, 2), address


def test_launch_template_volumes_are_encrypted(applied):
    for address, template in applied.of_type("aws_launch_template").items():
        assert template["block_device_mappings"], address
        for mapping in template["block_device_mappings"]:
            assert [ebs["encrypted"] for ebs in mapping["ebs"]] == ["true"], f"{address} {mapping['device_name']}"


def test_eks_secrets_are_envelope_encrypted(applied):
    keys = {key["arn"] for key in applied.of_type("aws_kms_key").values()}
    for address, cluster in applied.of_type("aws_eks_cluster").items():
        (encryption,) = cluster["encryption_config"]
        assert encryption["resources"] == ["secrets"], address
        assert encryption["provider"][0]["key_arn"] in keys, address


def by_bucket(applied, resource_type: str) -> dict[str, dict]:
    return {values["bucket"]: values for values in applied.of_type(resource_type).values()}


def test_s3_buckets_are_private_encrypted_and_tls_only(applied):
    buckets = applied.of_type("aws_s3_bucket")
    assert buckets
    blocks = by_bucket(applied, "aws_s3_bucket_public_access_block")
    encryption = by_bucket(applied, "aws_s3_bucket_server_side_encryption_configuration")
    bucket_policies = by_bucket(applied, "aws_s3_bucket_policy")
    for address, bucket in buckets.items():
        block = blocks.get(bucket["id"])
        assert block and all(
            block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        ), address
        rules = encryption[bucket["id"]]["rule"]
        assert [d["sse_algorithm"] for r in rules for d in r["apply_server_side_encryption_by_default"]], address
        assert bucket["id"] in bucket_policies, f"{address} has no bucket policy"
        denies = [s for s in json.loads(bucket_policies[bucket["id"]]["policy"])["Statement"] if s["Effect"] == "Deny"]
        tls = [s for s in denies if s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
        assert tls, address
        assert {bucket["arn"], f"{bucket['arn']}/*"} <= {r for s in tls for r in as_list(s["Resource"])}, address


def test_sqs_queues_are_encrypted(applied):
    for address, queue in applied.of_type("aws_sqs_queue").items():
        assert queue.get("sqs_managed_sse_enabled") is True or queue.get("kms_master_key_id"), address


def strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("secret_hint", ["aws_secret_access_key", "begin rsa private key", "begin openssh private key"])
def test_no_secret_literals(applied, synth, configuration, secret_hint):
    written = synth(configuration).all_documents()
    for text in strings([written, applied.values, applied.outputs]):
        assert secret_hint not in text.lower()


def test_versioned_buckets_expire_old_versions(applied):
    lifecycles = by_bucket(applied, "aws_s3_bucket_lifecycle_configuration")
    for address, bucket in applied.of_type("aws_s3_bucket").items():
        rules = lifecycles.get(bucket["id"], {}).get("rule", [])
        assert any(r["status"] == "Enabled" and r.get("noncurrent_version_expiration") for r in rules), address
