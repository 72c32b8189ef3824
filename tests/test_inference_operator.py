"""The HyperPod inference operator switch: off by default, and when on, the add-on with its
pod identity role and TLS bucket; bad input exits 2 naming the key."""

from __future__ import annotations

import datetime as dt

import pytest

from modules.config import parse_config
from modules.hyperpod.inference_operator import MAX_TLS_BUCKET_PREFIX, tls_bucket_prefix
from tests.bad_input import assert_refused
from tests.tf import jsonencoded, ref, resource, resources

TODAY = dt.date(2026, 11, 22)
ON = {"hyperpod": {"enable_inference_operator": True}}
PREFIX = "hyperpod_addons_inference_operator"
ROLE = f"{PREFIX}_identity_role"
BUCKET = f"{PREFIX}_tls_bucket"


def role_statements(stack, role: str) -> dict[str, dict]:
    policies = [p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] == ref("aws_iam_role", role, "id")]
    return {s["Sid"]: s for p in policies for s in jsonencoded(p["policy"])["Statement"]}


def test_off_by_default(stack):
    assert parse_config({}, today=TODAY).hyperpod.enable_inference_operator is False
    names = {addon["addon_name"] for addon in resources(stack, "aws_eks_addon").values()}
    assert "amazon-sagemaker-hyperpod-inference" not in names
    assert not any(name.startswith(PREFIX) for name in resources(stack, "aws_s3_bucket"))


def test_addon_is_configured_with_its_role_and_tls_bucket(synth):
    stack = synth(ON)
    addon = resource(stack, "aws_eks_addon", "hyperpod_addons_inference_addon")
    assert addon["addon_name"] == "amazon-sagemaker-hyperpod-inference"
    assert "aws_cloudcontrolapi_resource.hyperpod_cluster" in addon["depends_on"]
    assert f"aws_eks_pod_identity_association.{PREFIX}_identity_association" in addon["depends_on"]
    assert jsonencoded(addon["configuration_values"]) == {
        "executionRoleArn": ref("aws_iam_role", ROLE, "arn"),
        "tlsCertificateS3Bucket": ref("aws_s3_bucket", BUCKET, "bucket"),
    }


def test_role_is_bound_to_the_operator_service_account(synth):
    stack = synth(ON)
    association = resource(stack, "aws_eks_pod_identity_association", f"{PREFIX}_identity_association")
    assert (association["namespace"], association["service_account"]) == (
        "hyperpod-inference-system", "hyperpod-inference-controller-manager"
    )
    [trust] = jsonencoded(resource(stack, "aws_iam_role", ROLE)["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}


def test_writes_reach_only_the_tls_bucket(synth):
    statements = role_statements(synth(ON), ROLE)
    bucket_arn = ref("aws_s3_bucket", BUCKET, "arn")
    assert statements["TlsCertificates"]["Resource"] == [f"{bucket_arn}/*"]
    writes = {"s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"}
    for sid, statement in statements.items():
        if writes & set(statement["Action"]):
            assert sid == "TlsCertificates", sid
    assert statements["PassRoleToSageMaker"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert statements["SageMaker"]["Resource"] == [
        "arn:${data.aws_partition.context_partition.partition}:sagemaker:us-west-2:"
        "${data.aws_caller_identity.context_caller.account_id}:*"
    ]
    assert all(r.startswith("arn:") and ":eks:us-west-2:" in r for r in statements["ReadEksCluster"]["Resource"])


def test_tls_bucket_is_private_encrypted_and_tls_only(synth):
    stack = synth(ON)
    block = resource(stack, "aws_s3_bucket_public_access_block", f"{PREFIX}_tls_public_access_block")
    assert all(block[key] for key in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                      "restrict_public_buckets"))
    policy = jsonencoded(resource(stack, "aws_s3_bucket_policy", f"{PREFIX}_tls_policy")["policy"])
    [deny] = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_bucket_prefix_leaves_room_for_the_suffix_s3_adds():
    prefix = tls_bucket_prefix("a-very-long-platform-name-that-keeps-going-on")
    assert len(prefix) <= MAX_TLS_BUCKET_PREFIX and prefix.endswith("-inference-tls-")
    assert "--" not in prefix


def test_inference_operator_installs_cert_manager():
    hyperpod = parse_config(
        {"hyperpod": {"enable_training_operator": False, "enable_inference_operator": True}}, today=TODAY
    ).hyperpod
    assert hyperpod.installs_cert_manager is True


BAD_INPUTS = [
    ("not a boolean", "hyperpod:\n  enable_inference_operator: maybe\n", "hyperpod.enable_inference_operator", "boolean"),
    ("without cert-manager",
     "hyperpod:\n  install_helm_dependencies: false\n  enable_training_operator: false\n"
     "  enable_inference_operator: true\n",
     "hyperpod", "enable_inference_operator needs cert-manager"),
]


@pytest.mark.parametrize("case, text, key, hint", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_exits_2_naming_the_key(case, text, key, hint, tmp_path, monkeypatch, capsys):
    assert_refused(text, key, hint, tmp_path, monkeypatch, capsys)
