"""The HyperPod module's buckets (lifecycle scripts, the inference operator's TLS
certificates) are encrypted with the module's customer managed key, as applied with the
offline stand-ins; each role that reads or writes one may use the key only through S3, only
for that bucket; uploads track their content with ``source_hash`` (an SSE-KMS object's ETag
is not the MD5 of its content)."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from modules.hyperpod.lifecycle_scripts import SCRIPTS_DIR
from tests.stacks import REPO, Deployed

HP = "hyperpod"
BUCKETS = {"lifecycle_scripts_bucket": "lifecycle scripts", "addons_inference_operator_tls_bucket": "inference TLS"}


@pytest.fixture(scope="module")
def everything(deploy, everything_on) -> Deployed:
    return deploy(everything_on)


def statements_of(applied: Deployed, role_name: str) -> list[dict]:
    role = next(r for r in applied.of_type("aws_iam_role", HP).values() if r["name"] == role_name)
    found = []
    for policy in applied.of_type("aws_iam_role_policy", HP).values():
        if policy["role"] in (role["id"], role["name"]):
            found.extend(json.loads(policy["policy"])["Statement"])
    return found


def key_statements(statements: list[dict], key_arn: str) -> list[dict]:
    return [s for s in statements if any(a.startswith("kms:") for a in s["Action"]) and key_arn in s.get("Resource", [])]


def test_both_buckets_use_the_module_key_with_a_bucket_key(everything):
    key = everything.find("aws_kms_key", "bucket_key", HP)
    assert key["enable_key_rotation"] is True
    alias = everything.find("aws_kms_alias", "bucket_key_alias", HP)
    assert alias["name"] == "alias/ml-platform-hyperpod-buckets" and alias["target_key_id"] == key["key_id"]
    encryption = {c["bucket"]: c for c in everything.of_type("aws_s3_bucket_server_side_encryption_configuration", HP).values()}
    for name in BUCKETS:
        bucket = everything.find("aws_s3_bucket", name, HP)
        (rule,) = encryption[bucket["id"]]["rule"]
        (default,) = rule["apply_server_side_encryption_by_default"]
        assert default == {"sse_algorithm": "aws:kms", "kms_master_key_id": key["arn"]}, name
        assert rule["bucket_key_enabled"] is True, name


def test_scripts_are_uploaded_with_their_content_hash_not_the_etag(deployed):
    objects = deployed.of_type("aws_s3_object", HP)
    assert objects
    for values in objects.values():
        content = (SCRIPTS_DIR / values["key"]).read_bytes()
        assert values["source_hash"] == hashlib.md5(content).hexdigest(), values["key"]  # noqa: S324


def test_the_execution_role_decrypts_only_the_scripts_through_s3(everything):
    key = everything.find("aws_kms_key", "bucket_key", HP)["arn"]
    bucket = everything.find("aws_s3_bucket", "lifecycle_scripts_bucket", HP)["arn"]
    (statement,) = key_statements(statements_of(everything, "ml-platform-hyperpod-execution"), key)
    assert statement["Action"] == ["kms:Decrypt"]
    assert statement["Resource"] == [key]
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": bucket}
    }


def test_the_inference_operator_reads_and_writes_only_its_tls_bucket_with_the_key(everything):
    key = everything.find("aws_kms_key", "bucket_key", HP)["arn"]
    bucket = everything.find("aws_s3_bucket", "addons_inference_operator_tls_bucket", HP)["arn"]
    (statement,) = key_statements(statements_of(everything, "SageMakerHyperPodInference-ml-platform"), key)
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] == bucket
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-west-2.amazonaws.com"


def test_no_other_role_of_the_module_is_granted_the_key(everything):
    key = everything.find("aws_kms_key", "bucket_key", HP)["arn"]
    granted = {
        everything.values[a]["role"]
        for a, p in everything.of_type("aws_iam_role_policy", HP).items()
        if key_statements(json.loads(p["policy"])["Statement"], key)
    }
    assert len(granted) == 2


def test_the_customer_key_findings_are_no_longer_skipped():
    skips = yaml.safe_load((REPO / "security" / "checkov-skips.yaml").read_text())
    assert not [s for s in skips if s["check"] == "CKV_AWS_145" and s.get("module") == HP]
