"""Secure defaults, asserted over every resource of the default stack (so a new module is
held to them without new tests)."""

from __future__ import annotations

import pytest

from tests.tf import policy_of, resources

# Every optional feature switched on: the defaults must hold there too.
EVERYTHING_ON = {
    "vpc": {"nat_gateways": "one_per_az"},
    "hyperpod": {
        "enable_task_governance": True,
        "enable_observability": True,
        "enable_inference_operator": True,
    },
}


@pytest.fixture(params=["default", "everything on"])
def stack(request, synth):
    """Each test runs on the default stack and on the stack with every option on."""
    return synth({} if request.param == "default" else EVERYTHING_ON)

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


def policies(stack):
    for resource_type, attributes in POLICY_ATTRIBUTES.items():
        for name, block in resources(stack, resource_type).items():
            for attribute in attributes:
                if attribute in block:
                    yield f"{resource_type}.{name}", resource_type, policy_of(block[attribute])


def statements(stack):
    for address, resource_type, policy in policies(stack):
        for statement in policy["Statement"]:
            yield address, resource_type, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_no_statement_allows_every_action(stack):
    for address, _, statement in statements(stack):
        assert "*" not in as_list(statement.get("Action", [])), address


def test_wildcard_resources_only_for_actions_that_cannot_be_scoped(stack):
    for address, resource_type, statement in statements(stack):
        if "*" not in as_list(statement.get("Resource", [])) or resource_type == "aws_kms_key":
            continue
        if statement["Effect"] == "Deny":
            continue
        scoped_by_condition = bool(statement.get("Condition"))
        for action in as_list(statement["Action"]):
            assert scoped_by_condition or action.startswith(UNSCOPABLE_ACTION_PREFIXES), (
                f"{address} {statement.get('Sid')}: {action} on Resource '*' without a condition"
            )


def test_kms_keys_rotate(stack):
    keys = resources(stack, "aws_kms_key")
    assert keys
    for name, key in keys.items():
        assert key["enable_key_rotation"] is True, name


def test_log_groups_are_encrypted_and_retained(stack):
    for name, log_group in resources(stack, "aws_cloudwatch_log_group").items():
        assert log_group.get("retention_in_days"), name
        assert log_group.get("kms_key_id", "").startswith("${aws_kms_key."), name


def test_no_ingress_from_anywhere(stack):
    for name, rule in resources(stack, "aws_vpc_security_group_ingress_rule").items():
        assert rule.get("cidr_ipv4") != "0.0.0.0/0" and rule.get("cidr_ipv6") != "::/0", name
    for name, rule in resources(stack, "aws_security_group_rule").items():
        if rule["type"] == "ingress":
            assert "0.0.0.0/0" not in rule.get("cidr_blocks", []), name
    for name, group in resources(stack, "aws_security_group").items():
        for ingress in group.get("ingress", []) or []:
            assert "0.0.0.0/0" not in (ingress.get("cidr_blocks") or []), name


def test_launch_templates_require_imdsv2_with_a_hop_limit(stack):
    templates = resources(stack, "aws_launch_template")
    assert templates
    for name, template in templates.items():
        metadata = template["metadata_options"]
        assert metadata["http_tokens"] == "required", name
        assert metadata["http_put_response_hop_limit"] in (1, 2), name


def test_launch_template_volumes_are_encrypted(stack):
    for name, template in resources(stack, "aws_launch_template").items():
        for mapping in template.get("block_device_mappings", []):
            assert mapping["ebs"]["encrypted"] == "true", f"{name} {mapping['device_name']}"


def test_eks_secrets_are_envelope_encrypted(stack):
    for name, cluster in resources(stack, "aws_eks_cluster").items():
        assert cluster["encryption_config"]["resources"] == ["secrets"], name


def test_s3_buckets_are_private_encrypted_and_tls_only(stack):
    buckets = resources(stack, "aws_s3_bucket")
    blocks = resources(stack, "aws_s3_bucket_public_access_block")
    encryption = resources(stack, "aws_s3_bucket_server_side_encryption_configuration")
    bucket_policies = resources(stack, "aws_s3_bucket_policy")
    for name in buckets:
        reference = f"${{aws_s3_bucket.{name}.id}}"
        block = next((b for b in blocks.values() if b["bucket"] == reference), None)
        assert block and all(block[k] is True for k in (
            "block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"
        )), name
        assert any(e["bucket"] == reference for e in encryption.values()), name
        policy = next((p for p in bucket_policies.values() if p["bucket"] == reference), None)
        assert policy, f"{name} has no bucket policy"
        denies = [s for s in policy_of(policy["policy"])["Statement"] if s["Effect"] == "Deny"]
        assert any(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in denies), name


def test_sqs_queues_are_encrypted(stack):
    for name, queue in resources(stack, "aws_sqs_queue").items():
        assert queue.get("sqs_managed_sse_enabled") is True or queue.get("kms_master_key_id"), name


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
def test_no_secret_literals(stack, secret_hint):
    for text in strings(stack):
        assert secret_hint not in text.lower()


def test_versioned_buckets_expire_old_versions(stack):
    lifecycles = resources(stack, "aws_s3_bucket_lifecycle_configuration")
    for name in resources(stack, "aws_s3_bucket"):
        reference = f"${{aws_s3_bucket.{name}.id}}"
        rules = [r for c in lifecycles.values() if c["bucket"] == reference for r in c["rule"]]
        assert any(r.get("noncurrent_version_expiration") for r in rules), name
