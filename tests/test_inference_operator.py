"""The HyperPod inference operator switch: off by default, and when on, the add-on with its
pod identity role and TLS bucket, as Terraform applies them (the everything-on
configuration); bad input exits 2 naming the key, and terraform plan refuses a tfvars file
that takes away what the operator needs."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from modules.config import parse_config
from tests.bad_input import assert_refused
from tests.stacks import Deployed
from tests.test_hyperpod import HP, LONG_NAME, role_statements, standalone_module  # noqa: F401 - a fixture

TODAY = dt.date(2026, 11, 22)
PREFIX = "addons_inference_operator"
ROLE = f"{PREFIX}_identity_role"
BUCKET = f"{PREFIX}_tls_bucket"
ADDON = "addons_inference_addon"


@pytest.fixture(scope="module")
def on(deploy, everything_on) -> Deployed:
    assert everything_on["hyperpod"]["enable_inference_operator"] is True
    return deploy(everything_on)


def test_off_by_default(deployed):
    assert parse_config({}, today=TODAY).hyperpod.enable_inference_operator is False
    names = {addon["addon_name"] for addon in deployed.of_type("aws_eks_addon", HP).values()}
    assert "amazon-sagemaker-hyperpod-inference" not in names
    assert not [a for a in deployed.of_type("aws_s3_bucket", HP) if PREFIX in a]
    assert not [a for a in deployed.of_type("aws_iam_role", HP) if PREFIX in a]


def test_addon_is_configured_with_its_role_and_tls_bucket(on, synth, everything_on):
    addon = on.find("aws_eks_addon", ADDON, HP)
    assert addon["addon_name"] == "amazon-sagemaker-hyperpod-inference"
    assert json.loads(addon["configuration_values"]) == {
        "executionRoleArn": on.find("aws_iam_role", ROLE, HP)["arn"],
        "tlsCertificateS3Bucket": on.find("aws_s3_bucket", BUCKET, HP)["bucket"],
    }
    depends_on = synth(everything_on).block("aws_eks_addon", ADDON, HP)["depends_on"]
    assert "aws_cloudcontrolapi_resource.cluster" in depends_on
    assert f"aws_eks_pod_identity_association.{PREFIX}_identity_association" in depends_on
    assert "var.load_balancer_controller_ready" in depends_on, "its endpoints get load balancers"
    assert len(depends_on) == len(set(depends_on)), "each dependency named once"


def test_role_is_bound_to_the_operator_service_account(on):
    association = on.find("aws_eks_pod_identity_association", f"{PREFIX}_identity_association", HP)
    role = on.find("aws_iam_role", ROLE, HP)
    assert (association["namespace"], association["service_account"]) == (
        "hyperpod-inference-system", "hyperpod-inference-controller-manager"
    )
    assert association["role_arn"] == role["arn"]
    assert association["cluster_name"] == on.find("aws_eks_cluster", "eks_control_plane_cluster")["name"]
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}


def test_writes_reach_only_the_tls_bucket(on):
    statements = role_statements(on, ROLE)
    bucket_arn = on.find("aws_s3_bucket", BUCKET, HP)["arn"]
    assert statements["TlsCertificates"]["Resource"] == [f"{bucket_arn}/*"]
    writes = {"s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"}
    for sid, statement in statements.items():
        if writes & set(statement["Action"]):
            assert sid == "TlsCertificates", sid
    assert statements["PassRoleToSageMaker"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert statements["SageMaker"]["Resource"] == ["arn:aws:sagemaker:us-west-2:123456789012:*"]
    assert statements["ReadEksCluster"]["Resource"] == [on.find("aws_eks_cluster", "eks_control_plane_cluster")["arn"]]


def test_tls_bucket_is_private_encrypted_and_tls_only(on):
    bucket = on.find("aws_s3_bucket", BUCKET, HP)
    block = on.find("aws_s3_bucket_public_access_block", f"{PREFIX}_tls_public_access_block", HP)
    assert block["bucket"] == bucket["id"]
    assert all(block[key] for key in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                      "restrict_public_buckets"))
    encryption = on.find("aws_s3_bucket_server_side_encryption_configuration", f"{PREFIX}_tls_encryption", HP)
    assert encryption["bucket"] == bucket["id"]
    policy = on.json_of("aws_s3_bucket_policy", f"{PREFIX}_tls_policy", "policy", HP)
    [deny] = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [bucket["arn"], f"{bucket['arn']}/*"]


def test_bucket_prefix_leaves_room_for_the_suffix_s3_adds(on, standalone_module):  # noqa: F811 - the fixture
    assert on.find("aws_s3_bucket", BUCKET, HP)["bucket_prefix"] == "ml-platform-inference-tls-"
    prefix = standalone_module.long_name.find("aws_s3_bucket", BUCKET)["bucket_prefix"]
    assert len(LONG_NAME) == 32, "the longest name the configuration allows"
    assert prefix == "ml-platform-of-vision-inference-tls-"
    assert len(prefix) <= 37 and prefix.endswith("-inference-tls-") and "--" not in prefix


def test_inference_operator_installs_cert_manager():
    hyperpod = parse_config(
        {"hyperpod": {"enable_training_operator": False, "enable_inference_operator": True}}, today=TODAY
    ).hyperpod
    assert hyperpod.installs_cert_manager is True


def test_tfvars_cannot_take_cert_manager_away_from_the_operator(plan, everything_on):
    """With the operator on, a tfvars file that turns the helm dependencies off (and with
    them cert-manager) is refused by terraform plan, as the YAML is."""
    from tooling.offline import TerraformError

    off = {"hyperpod_install_helm_dependencies": False, "hyperpod_enable_training_operator": False}
    with pytest.raises(TerraformError) as refused:
        plan(everything_on, off)
    said = " ".join(refused.value.stderr.split())
    assert "enable_inference_operator needs cert-manager for its webhooks" in said
    assert "enable_training_operator needs" not in said, "only the operator's rule is broken"


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
