"""The HyperPod inference operator switch: off by default, and when on, the add-on with its
pod identity role and TLS bucket, as Terraform applies them (the everything-on
configuration); bad input exits 2 naming the key, and terraform plan refuses a tfvars file
that takes away what the operator needs."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from modules.config import ConfigError, parse_config
from tests.bad_input import assert_refused
from tests.stacks import Deployed
from tests.test_hyperpod import HP, LONG_NAME, role_statements, standalone_module  # noqa: F401 - a fixture

TODAY = dt.date(2026, 11, 22)
PREFIX = "addons_inference_operator"
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


ROLE = f"{PREFIX}_execution_role"
GATED = f"{PREFIX}_gated_model_role"
KEDA = f"{PREFIX}_keda_role"


def test_addon_is_configured_as_its_documentation_lists(on, synth, everything_on):
    addon = on.find("aws_eks_addon", ADDON, HP)
    assert addon["addon_name"] == "amazon-sagemaker-hyperpod-inference"
    cluster = on.find("aws_cloudcontrolapi_resource", "cluster", HP)
    assert json.loads(addon["configuration_values"]) == {
        "executionRoleArn": on.find("aws_iam_role", ROLE, HP)["arn"],
        "tlsCertificateS3Bucket": on.find("aws_s3_bucket", BUCKET, HP)["bucket"],
        "hyperpodClusterArn": cluster["id"],
        "jumpstartGatedModelDownloadRoleArn": on.find("aws_iam_role", GATED, HP)["arn"],
        "keda": {"auth": {"aws": {"irsa": {"roleArn": on.find("aws_iam_role", KEDA, HP)["arn"]}}}},
        "alb": {"enabled": False},
    }
    depends_on = synth(everything_on).block("aws_eks_addon", ADDON, HP)["depends_on"]
    assert "aws_cloudcontrolapi_resource.cluster" in depends_on
    assert f"aws_iam_role_policy.{ROLE}_policy_serve_models" in depends_on
    assert f"aws_iam_role_policy_attachment.{GATED}_attach_gated_models" in depends_on
    assert "var.load_balancer_controller_ready" in depends_on, "its endpoints get load balancers"
    assert len(depends_on) == len(set(depends_on)), "each dependency named once"


def test_execution_role_name_has_the_prefix_the_addon_requires(on, standalone_module):  # noqa: F811
    assert on.find("aws_iam_role", ROLE, HP)["name"] == "SageMakerHyperPodInference-ml-platform"
    longest = standalone_module.long_name.find("aws_iam_role", ROLE)["name"]
    assert longest == f"SageMakerHyperPodInference-{LONG_NAME}" and len(longest) <= 64


def test_roles_trust_the_operator_service_accounts_through_the_cluster_oidc_provider(on):
    issuer = on.find("aws_eks_cluster", "eks_control_plane_cluster")["identity"][0]["oidc"][0]["issuer"]
    provider = on.find("aws_iam_openid_connect_provider", f"{PREFIX}_oidc_provider", HP)
    assert provider["url"] == issuer and provider["client_id_list"] == ["sts.amazonaws.com"]
    host = issuer.removeprefix("https://")
    expected = {
        ROLE: "system:serviceaccount:hyperpod-inference-system:hyperpod-inference-controller-manager",
        KEDA: "system:serviceaccount:hyperpod-inference-system:keda-operator",
    }
    for role, subject in expected.items():
        irsa = json.loads(on.find("aws_iam_role", role, HP)["assume_role_policy"])["Statement"][0]
        assert irsa["Principal"] == {"Federated": provider["arn"]}
        assert irsa["Action"] == ["sts:AssumeRoleWithWebIdentity"]
        assert irsa["Condition"] == {"StringEquals": {f"{host}:sub": subject, f"{host}:aud": "sts.amazonaws.com"}}
    gated, sagemaker = json.loads(on.find("aws_iam_role", GATED, HP)["assume_role_policy"])["Statement"]
    assert gated["Condition"]["StringLike"] == {f"{host}:sub": "system:serviceaccount:*:hyperpod-inference-service-account*"}
    assert sagemaker["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert sagemaker["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert not [a for a in on.of_type("aws_eks_pod_identity_association", HP) if PREFIX in a], "IRSA, as the chart annotates"


def test_a_provider_the_caller_has_is_used_not_created(standalone_module):  # noqa: F811
    from tests.test_hyperpod import WIRING

    planned = standalone_module.long_name
    assert not planned.of_type("aws_iam_openid_connect_provider")
    irsa = json.loads(planned.find("aws_iam_role", ROLE)["assume_role_policy"])["Statement"][0]
    assert irsa["Principal"] == {"Federated": WIRING["eks_oidc_provider_arn"]}


def test_permissions_are_narrowed_to_what_the_operator_touches(on, everything_on):
    statements = role_statements(on, ROLE)
    bucket_arn = on.find("aws_s3_bucket", BUCKET, HP)["arn"]
    assert statements["TlsCertificates"]["Resource"] == [f"{bucket_arn}/*"]
    writes = {"s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"}
    for sid, statement in statements.items():
        if writes & set(statement["Action"]):
            assert sid == "TlsCertificates", sid
        assert not [a for a in statement["Action"] if a.endswith(":*")], sid
    buckets = ["jumpstart-cache-prod-us-west-2", *everything_on["hyperpod"]["inference_operator"]["model_buckets"]]
    arns = [f"arn:aws:s3:::{b}" for b in buckets]
    assert statements["ReadModels"]["Resource"] == [*arns, *(f"{a}/*" for a in arns)]
    assert statements["PassItsRolesToSageMaker"]["Resource"] == [
        on.find("aws_iam_role", ROLE, HP)["arn"], on.find("aws_iam_role", GATED, HP)["arn"]
    ]
    assert statements["PassItsRolesToSageMaker"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert statements["ThisHyperPodCluster"]["Resource"] == [on.find("aws_cloudcontrolapi_resource", "cluster", HP)["id"]]
    assert statements["TagWhatItCreates"]["Condition"] == {
        "StringEquals": {"ec2:CreateAction": ["CreateNetworkInterface", "CreateVpcEndpointServiceConfiguration"]}
    }
    vpc = on.find("aws_vpc", "network_vpc")["arn"]
    assert statements["NetworkInterfacesInThisVpc"]["Condition"] == {"StringEquals": {"ec2:Vpc": vpc}}
    assert statements["ReadEksCluster"]["Resource"] == [on.find("aws_eks_cluster", "eks_control_plane_cluster")["arn"]]
    keda = role_statements(on, KEDA)
    assert keda["QueryPrometheus"]["Resource"] == ["arn:aws:aps:us-west-2:123456789012:workspace/*"]


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


WITH_DRIVERS = {"fsx_lustre": {"enabled": True}, "s3": {"enabled": True, "buckets": [{"name": "ml-platform-models"}]}}


def test_inference_operator_installs_cert_manager():
    hyperpod = parse_config(
        {"hyperpod": {"enable_training_operator": False, "enable_inference_operator": True}, "storage": WITH_DRIVERS},
        today=TODAY,
    ).hyperpod
    assert hyperpod.installs_cert_manager is True


@pytest.mark.parametrize("missing", ["fsx_lustre", "s3"])
def test_the_operator_comes_with_the_csi_drivers_it_needs(missing):
    storage = {key: value for key, value in WITH_DRIVERS.items() if key != missing}
    with pytest.raises(ConfigError, match=rf"enable_inference_operator needs .* set storage\.{missing}\.enabled to true"):
        parse_config({"hyperpod": {"enable_inference_operator": True}, "storage": storage}, today=TODAY)


def test_the_add_on_waits_for_the_csi_driver_add_ons(synth, everything_on):
    passed = synth(everything_on).root["module"]["hyperpod"]["inference_dependencies_ready"]
    assert sorted(passed) == sorted(
        f"${{aws_eks_addon.{name}.id}}" for name in synth(everything_on).root["resource"]["aws_eks_addon"] if name.startswith("storage_")
    ) and len(passed) == 2


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
