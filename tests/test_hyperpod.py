"""The HyperPod module: scripts bucket, execution role, node security group, helm
dependencies, the cluster's desired state and dependencies, add-ons and outputs."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from modules.hyperpod.lifecycle_scripts import SCRIPTS_DIR, bucket_prefix, script_files
from modules.analysis import build_graph
from tests.tf import jsonencoded, ref, resource, resources

REPO = Path(__file__).resolve().parent.parent
CLUSTER = ("aws_cloudcontrolapi_resource", "hyperpod_cluster")
EXECUTION_ROLE = "hyperpod_execution_role_role"
HELM_RELEASE = ("helm_release", "hyperpod_helm_dependencies_release")
ALL_ADDONS = {"hyperpod": {"enable_task_governance": True, "enable_observability": True}}
OUTPUTS = (
    "hyperpod_cluster_arn",
    "hyperpod_cluster_name",
    "hyperpod_cluster_status",
    "hyperpod_execution_role_arn",
    "lifecycle_scripts_bucket",
)


def desired_state(stack) -> dict:
    return jsonencoded(resource(stack, *CLUSTER)["desired_state"])


def hyperpod_blocks(stack) -> list[str]:
    return [
        f"{kind}.{name}"
        for section in ("resource", "data")
        for kind, blocks in stack.get(section, {}).items()
        for name in blocks
        if name.startswith("hyperpod")
    ]


# --- lifecycle scripts ---------------------------------------------------------------


def test_bucket_name_starts_with_sagemaker(stack):
    bucket = resource(stack, "aws_s3_bucket", "hyperpod_lifecycle_scripts_bucket")
    assert bucket["bucket_prefix"] == "sagemaker-ml-platform-"
    assert bucket_prefix("a" * 32).startswith("sagemaker-") and len(bucket_prefix("a" * 32)) <= 37


def test_bucket_is_private_encrypted_versioned_and_tls_only(stack):
    bucket_id = ref("aws_s3_bucket", "hyperpod_lifecycle_scripts_bucket", "id")
    block = resource(stack, "aws_s3_bucket_public_access_block", "hyperpod_lifecycle_scripts_bucket_public_access_block")
    assert block["bucket"] == bucket_id
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert block[setting] is True
    encryption = resource(
        stack, "aws_s3_bucket_server_side_encryption_configuration", "hyperpod_lifecycle_scripts_bucket_encryption"
    )
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    versioning = resource(stack, "aws_s3_bucket_versioning", "hyperpod_lifecycle_scripts_bucket_versioning")
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    [statement] = jsonencoded(resource(stack, "aws_s3_bucket_policy", "hyperpod_lifecycle_scripts_bucket_policy")["policy"])[
        "Statement"
    ]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket_arn = ref("aws_s3_bucket", "hyperpod_lifecycle_scripts_bucket", "arn")
    assert statement["Resource"] == [bucket_arn, f"{bucket_arn}/*"]


def test_every_script_is_uploaded_with_a_content_etag(stack):
    on_disk = sorted(
        p.relative_to(SCRIPTS_DIR).as_posix()
        for p in SCRIPTS_DIR.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(SCRIPTS_DIR).parts)
    )
    assert on_disk, "lifecycle_scripts/ holds at least one file"
    objects = resources(stack, "aws_s3_object")
    uploaded = {o["key"]: o for o in objects.values()}
    assert sorted(uploaded) == on_disk
    for key, obj in uploaded.items():
        assert obj["source"] == f"../../../lifecycle_scripts/{key}"
        assert obj["etag"] == hashlib.md5((SCRIPTS_DIR / key).read_bytes()).hexdigest()
        assert obj["bucket"] == ref("aws_s3_bucket", "hyperpod_lifecycle_scripts_bucket", "id")


def test_script_files_follow_the_folder(tmp_path):
    scripts = tmp_path / "lifecycle_scripts"
    (scripts / "nested").mkdir(parents=True)
    (scripts / "on_create.sh").write_text("#!/bin/bash\necho one\n")
    (scripts / "nested" / "tool.py").write_text("print(1)\n")
    (scripts / ".hidden").write_text("x")
    first = {f.key: f for f in script_files(scripts)}
    assert sorted(first) == ["nested/tool.py", "on_create.sh"]
    assert first["nested/tool.py"].source == "../../../lifecycle_scripts/nested/tool.py"
    (scripts / "on_create.sh").write_text("#!/bin/bash\necho two\n")
    second = {f.key: f for f in script_files(scripts)}
    assert second["on_create.sh"].md5 != first["on_create.sh"].md5, "a changed script changes its etag"
    assert second["nested/tool.py"].md5 == first["nested/tool.py"].md5


def test_no_absolute_paths_in_the_output(stack):
    text = json.dumps(stack)
    assert str(REPO) not in text
    assert not re.search(r'"(source|chart)": "/', text)


# --- execution role ------------------------------------------------------------------


def _role_statements(stack, role: str) -> dict[str, dict]:
    role_id = ref("aws_iam_role", role, "id")
    statements = {}
    for policy in resources(stack, "aws_iam_role_policy").values():
        if policy["role"] == role_id:
            for statement in jsonencoded(policy["policy"])["Statement"]:
                statements[statement["Sid"]] = statement
    return statements


def test_execution_role_trust_and_managed_policy(stack):
    role = resource(stack, "aws_iam_role", EXECUTION_ROLE)
    [trust] = jsonencoded(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    attachment = resource(stack, "aws_iam_role_policy_attachment", "hyperpod_execution_role_role_attach_cluster_instance")
    assert attachment["policy_arn"].endswith(":iam::aws:policy/AmazonSageMakerClusterInstanceRolePolicy")


def test_execution_role_permissions(stack):
    statements = _role_statements(stack, EXECUTION_ROLE)
    bucket_arn = ref("aws_s3_bucket", "hyperpod_lifecycle_scripts_bucket", "arn")
    assert statements["ReadScripts"]["Action"] == ["s3:GetObject"]
    assert statements["ReadScripts"]["Resource"] == [f"{bucket_arn}/*"]
    assert statements["ListScripts"]["Resource"] == [bucket_arn]
    assert {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"} <= set(statements["PullImages"]["Action"])
    assert statements["RegistryToken"]["Action"] == ["ecr:GetAuthorizationToken"]
    cni = set(statements["PodNetworking"]["Action"])
    assert {"ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces"} <= cni
    assert statements["AttachPodInterfaces"]["Action"] == ["sagemaker:AttachClusterNodeNetworkInterface"]
    assert statements["PodIdentity"]["Action"] == ["eks-auth:AssumeRoleForPodIdentity"]
    assert statements["PodIdentity"]["Resource"] == [ref("aws_eks_cluster", "eks_control_plane_cluster", "arn")]
    for statement in statements.values():
        assert "*" not in statement["Action"] and not any(a.endswith(":*") for a in statement["Action"])


def test_no_access_entry_for_the_execution_role(stack):
    role_arn = ref("aws_iam_role", EXECUTION_ROLE, "arn")
    for entry in resources(stack, "aws_eks_access_entry").values():
        assert entry["principal_arn"] != role_arn
    assert not any(name.startswith("hyperpod") for name in resources(stack, "aws_eks_access_entry"))


# --- security group ------------------------------------------------------------------


def _rules(stack, kind: str) -> list[dict]:
    return [r for name, r in resources(stack, kind).items() if name.startswith("hyperpod_security_group")]


def test_node_security_group_rules(stack):
    own = ref("aws_security_group", "hyperpod_security_group_group", "id")
    eks_cluster_sg = "${aws_eks_cluster.eks_control_plane_cluster.vpc_config[0].cluster_security_group_id}"
    eks_nodes = ref("aws_security_group", "eks_security_groups_node", "id")
    ingress = _rules(stack, "aws_vpc_security_group_ingress_rule")
    egress = _rules(stack, "aws_vpc_security_group_egress_rule")

    def has(rules, group, peer, protocol, port=None):
        return any(
            r["security_group_id"] == group
            and r.get("referenced_security_group_id") == peer
            and r["ip_protocol"] == protocol
            and (port is None or r.get("from_port") == port)
            for r in rules
        )

    assert has(ingress, own, own, "-1") and has(egress, own, own, "-1"), "EFA needs self traffic both ways"
    assert has(ingress, eks_cluster_sg, own, "tcp", 443), "HyperPod nodes reach the Kubernetes API"
    assert has(ingress, own, eks_cluster_sg, "tcp", 1025), "the control plane reaches kubelets and webhooks"
    assert has(ingress, own, eks_nodes, "-1") and has(ingress, eks_nodes, own, "-1")
    assert any(r.get("cidr_ipv4") == "0.0.0.0/0" and r["security_group_id"] == own for r in egress)
    assert not any(r.get("cidr_ipv4") for r in ingress), "nothing from outside the VPC"


# --- the cluster ---------------------------------------------------------------------


def test_cluster_resource(stack):
    cluster = resource(stack, *CLUSTER)
    assert cluster["type_name"] == "AWS::SageMaker::Cluster"
    assert cluster["desired_state"].startswith("${jsonencode(")
    for operation in ("create", "update", "delete"):
        hours = int(cluster["timeouts"][operation].removesuffix("h"))
        assert hours >= 3, f"{operation} of a large cluster takes hours"


def test_desired_state_fields(stack):
    state = desired_state(stack)
    assert state["ClusterName"] == "ml-platform-hyperpod"
    assert state["Orchestrator"] == {"Eks": {"ClusterArn": ref("aws_eks_cluster", "eks_control_plane_cluster", "arn")}}
    assert state["VpcConfig"] == {
        "SecurityGroupIds": [ref("aws_security_group", "hyperpod_security_group_group", "id")],
        "Subnets": "${aws_subnet.network_private_subnets.*.id}",
    }
    assert state["NodeRecovery"] == "Automatic"
    assert state["NodeProvisioningMode"] == "Continuous"
    assert {"Key": "project", "Value": "ml-platform"} in state["Tags"]
    [group] = state["InstanceGroups"]
    assert group == {
        "InstanceGroupName": "gpu-workers",
        "InstanceType": "ml.g5.xlarge",
        "InstanceCount": 2,
        "ExecutionRole": ref("aws_iam_role", EXECUTION_ROLE, "arn"),
        "ThreadsPerCore": 2,
        "LifeCycleConfig": {
            "SourceS3Uri": "s3://" + ref("aws_s3_bucket", "hyperpod_lifecycle_scripts_bucket", "bucket"),
            "OnCreate": "on_create.sh",
        },
        "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 500}}],
        "OnStartDeepHealthChecks": ["InstanceStress", "InstanceConnectivity"],
    }


GROUPS = {
    "hyperpod": {
        "node_recovery": "None",
        "node_provisioning_mode": None,
        "instance_groups": [
            {
                "name": "trainium",
                "instance_type": "ml.trn1.32xlarge",
                "instance_count": 4,
                "min_instance_count": 2,
                "ebs_volume_gb": 1000,
                "threads_per_core": 1,
                "labels": {"team": "research"},
                "taints": [
                    {"key": "aws.amazon.com/neuron", "effect": "NoSchedule"},
                    {"key": "dedicated", "value": "training", "effect": "NoExecute"},
                ],
                "capacity": "spot",
                "availability_zone": "us-west-2b",
            },
            {"name": "cpu", "instance_type": "ml.m5.2xlarge", "instance_count": 1, "capacity": "on-demand"},
        ],
    }
}


def test_optional_group_fields(synth):
    stack = synth(GROUPS)
    state = desired_state(stack)
    assert state["NodeRecovery"] == "None"
    assert "NodeProvisioningMode" not in state
    trainium, cpu = state["InstanceGroups"]
    assert trainium["MinInstanceCount"] == 2
    assert trainium["ThreadsPerCore"] == 1
    assert trainium["InstanceStorageConfigs"] == [{"EbsVolumeConfig": {"VolumeSizeInGB": 1000}}]
    assert trainium["KubernetesConfig"] == {
        "Labels": {"team": "research"},
        "Taints": [
            {"Key": "aws.amazon.com/neuron", "Effect": "NoSchedule"},
            {"Key": "dedicated", "Value": "training", "Effect": "NoExecute"},
        ],
    }
    assert trainium["CapacityRequirements"] == {"Spot": {}}
    assert "OnStartDeepHealthChecks" not in trainium
    private = "aws_subnet.network_private_subnets"
    assert trainium["OverrideVpcConfig"] == {
        "SecurityGroupIds": [ref("aws_security_group", "hyperpod_security_group_group", "id")],
        "Subnets": '${matchkeys(local.hyperpod_private_subnets_ids, local.hyperpod_private_subnets_zones, ["us-west-2b"])}',
    }
    assert stack["locals"] == {
        "hyperpod_private_subnets_ids": f"${{{private}.*.id}}",
        "hyperpod_private_subnets_zones": f"${{{private}.*.availability_zone}}",
    }
    assert cpu["CapacityRequirements"] == {"OnDemand": {}}
    assert "OverrideVpcConfig" not in cpu and "KubernetesConfig" not in cpu and "MinInstanceCount" not in cpu


def test_preconditions_name_the_fix(raw_synth):
    scripts, zones = resource(raw_synth({}), *CLUSTER)["lifecycle"]["precondition"]
    assert scripts["condition"] == '${fileexists("../../../lifecycle_scripts/on_create.sh")}'
    assert zones["error_message"].startswith("An instance group's availability_zone has no private subnet")


@pytest.mark.parametrize(
    ("zone", "holds"), [(None, True), ("us-west-2b", True), ("us-west-2d", False)], ids=["no zone", "a zone", "no subnet"]
)
def test_zone_precondition_holds_when_the_zone_has_a_private_subnet(raw_stack, zone, holds):
    """Evaluated as Terraform would, for subnets in two zones."""
    from modules.core.hcl_expr import Env
    from modules.inputs.variables import with_optional_defaults
    from modules.hyperpod.instance_group_fields import zones_have_a_subnet
    from tests.planned import GROUP_CONTEXT

    _, precondition = resource(raw_stack, *CLUSTER)["lifecycle"]["precondition"]
    group = {"name": "g", "instance_type": "ml.g5.xlarge", "instance_count": 1, "availability_zone": zone}
    env = Env(
        variables={"hyperpod_instance_groups": with_optional_defaults([group])},
        references={
            GROUP_CONTEXT.private_subnet_ids.text: ["subnet-a", "subnet-b"],
            GROUP_CONTEXT.private_subnet_zones.text: ["us-west-2a", "us-west-2b"],
        },
    )
    condition = zones_have_a_subnet(GROUP_CONTEXT)
    assert precondition["condition"] == "${" + condition.hcl() + "}"
    assert condition.evaluate(env) is holds



def _references(block: dict) -> set[str]:
    text = json.dumps(block)
    found = set(block.get("depends_on", []))
    found |= {m.group(1) for m in re.finditer(r"((?:data\.)?[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)[.\[]", text)}
    return found


def test_cluster_depends_on_what_it_needs(stack):
    depends_on = set(resource(stack, *CLUSTER)["depends_on"])
    assert "helm_release.hyperpod_helm_dependencies_release" in depends_on
    assert {"aws_iam_role_policy_attachment.hyperpod_execution_role_role_attach_cluster_instance",
            "aws_iam_role_policy.hyperpod_execution_role_role_policy_vpc_cni"} <= depends_on
    assert {f"aws_s3_object.{name}" for name in resources(stack, "aws_s3_object")} <= depends_on
    assert "aws_vpc_security_group_ingress_rule.hyperpod_security_group_eks_cluster_from_hyperpod_https" in depends_on


def test_cluster_never_waits_for_karpenter_or_the_load_balancer_controller(synth):
    for stack in (synth({}), synth(ALL_ADDONS)):
        cluster = resource(stack, *CLUSTER)
        for address in _references(cluster):
            assert "karpenter" not in address and "load_balancer" not in address, address
        assert all(a.startswith(("aws_", "helm_release.hyperpod", "data.")) for a in cluster["depends_on"])
        waited_for = build_graph(stack).dependencies(f"{CLUSTER[0]}.{CLUSTER[1]}")
        assert not [a for a in waited_for if "karpenter" in a or "load_balancer" in a], "not even indirectly"


def test_without_helm_dependencies_the_cluster_does_not_wait_for_a_chart(synth):
    stack = synth({"hyperpod": {"install_helm_dependencies": False, "enable_training_operator": False}})
    assert not [name for name in resources(stack, "helm_release") if name.startswith("hyperpod")]
    assert not any(d.startswith("helm_release") for d in resource(stack, *CLUSTER)["depends_on"])


# --- helm dependencies ---------------------------------------------------------------


def test_helm_release_installs_the_fetched_chart(stack):
    release = resource(stack, *HELM_RELEASE)
    assert release["namespace"] == "kube-system"
    assert release["dependency_update"] is True
    assert release["chart"] == "../../../.cache/sagemaker-hyperpod-cli/helm_chart/HyperPodHelmChart"
    [precondition] = release["lifecycle"]["precondition"]
    assert precondition["condition"] == f'${{fileexists("{release["chart"]}/Chart.yaml")}}'
    assert "scripts/fetch-hyperpod-chart.sh" in precondition["error_message"]
    assert release["depends_on"] == ["aws_eks_addon.eks_addons_coredns_addon"], "controllers need nodes"


def test_helm_values_follow_config(synth):
    import yaml

    default = yaml.safe_load(resource(synth({}), *HELM_RELEASE)["values"][0])
    for key in ("health-monitoring-agent", "deep-health-check", "job-auto-restart", "mpi-operator", "cert-manager"):
        assert default[key] == {"enabled": True}, key
    assert default["trainingOperators"] == {"enabled": True}
    for plugin in ("nvidia-device-plugin", "neuron-device-plugin", "aws-efa-k8s-device-plugin"):
        assert default[plugin] == {"devicePlugin": {"enabled": True}}
    changed = yaml.safe_load(
        resource(
            synth(
                {
                    "hyperpod": {
                        "enable_training_operator": False,
                        "helm_subcharts": {"mpi_operator": False, "neuron_device_plugin": False},
                    }
                }
            ),
            *HELM_RELEASE,
        )["values"][0]
    )
    assert changed["mpi-operator"] == {"enabled": False}
    assert changed["neuron-device-plugin"] == {"devicePlugin": {"enabled": False}}
    assert changed["cert-manager"] == {"enabled": False}, "cert-manager is installed for the training operator"


def test_fetch_script_pins_a_commit():
    script = (REPO / "scripts" / "fetch-hyperpod-chart.sh").read_text()
    assert re.search(r'^PINNED_COMMIT="[0-9a-f]{40}"$', script, re.M)
    assert "aws/sagemaker-hyperpod-cli" in script and "helm dependency update" in script
    assert ".cache/" in (REPO / ".gitignore").read_text().split()


FAKE_TOOL = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$TOOL_LOG"
case "$*" in
  *"rev-parse HEAD"*) exit 1 ;;
  *checkout*) mkdir -p "$2/helm_chart/HyperPodHelmChart" && touch "$2/helm_chart/HyperPodHelmChart/Chart.yaml" ;;
esac
"""


def test_fetch_script_checks_out_the_pinned_commit_then_updates_dependencies(tmp_path):
    import os
    import shutil
    import subprocess

    repo, tools = tmp_path / "repo", tmp_path / "bin"
    (repo / "scripts").mkdir(parents=True)
    tools.mkdir()
    shutil.copy(REPO / "scripts" / "fetch-hyperpod-chart.sh", repo / "scripts")
    for tool in ("git", "helm"):
        (tools / tool).write_text(FAKE_TOOL)
        (tools / tool).chmod(0o755)
    log = tmp_path / "calls"
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "TOOL_LOG": str(log)}
    result = subprocess.run(
        ["bash", str(repo / "scripts" / "fetch-hyperpod-chart.sh")], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    pinned = re.search(r'^PINNED_COMMIT="([0-9a-f]{40})"$', (REPO / "scripts" / "fetch-hyperpod-chart.sh").read_text(), re.M)
    calls = log.read_text().splitlines()
    assert f"git -C .cache/sagemaker-hyperpod-cli fetch --quiet --depth 1 origin {pinned.group(1)}" in calls
    assert calls[-1] == "helm dependency update .cache/sagemaker-hyperpod-cli/helm_chart/HyperPodHelmChart"
    assert (repo / ".cache/sagemaker-hyperpod-cli/helm_chart/HyperPodHelmChart/Chart.yaml").exists()


# --- add-ons ---------------------------------------------------------------------------


def test_training_operator_addon_and_pod_identity(stack):
    addon = resource(stack, "aws_eks_addon", "hyperpod_addons_training_operator_addon")
    assert addon["addon_name"] == "amazon-sagemaker-hyperpod-training-operator"
    assert "aws_cloudcontrolapi_resource.hyperpod_cluster" in addon["depends_on"]
    association = resource(
        stack, "aws_eks_pod_identity_association", "hyperpod_addons_training_operator_identity_association"
    )
    assert association["namespace"] == "aws-hyperpod"
    assert association["service_account"] == "hp-training-operator-controller-manager"
    role = resource(stack, "aws_iam_role", "hyperpod_addons_training_operator_identity_role")
    [trust] = jsonencoded(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    statement = _role_statements(stack, "hyperpod_addons_training_operator_identity_role")["ReadHyperPodCluster"]
    assert sorted(statement["Action"]) == [
        "sagemaker:DescribeCluster", "sagemaker:DescribeClusterNode", "sagemaker:ListClusterNodes"
    ]
    assert statement["Resource"] == ["${jsondecode(aws_cloudcontrolapi_resource.hyperpod_cluster.properties).ClusterArn}"]


def test_optional_addons_are_off_by_default(stack):
    names = {a["addon_name"] for a in resources(stack, "aws_eks_addon").values()}
    assert "amazon-sagemaker-hyperpod-taskgovernance" not in names
    assert "amazon-sagemaker-hyperpod-observability" not in names
    assert not resources(stack, "aws_prometheus_workspace")


def test_task_governance_and_observability(synth):
    stack = synth(ALL_ADDONS)
    governance = resource(stack, "aws_eks_addon", "hyperpod_addons_taskgovernance_addon")
    assert governance["addon_name"] == "amazon-sagemaker-hyperpod-taskgovernance"
    observability = resource(stack, "aws_eks_addon", "hyperpod_addons_observability_addon")
    assert observability["addon_name"] == "amazon-sagemaker-hyperpod-observability"
    for addon in (governance, observability):
        assert "aws_cloudcontrolapi_resource.hyperpod_cluster" in addon["depends_on"]
    workspace = resource(stack, "aws_prometheus_workspace", "hyperpod_addons_prometheus")
    assert workspace["alias"] == "ml-platform-hyperpod"
    configuration = jsonencoded(observability["configuration_values"])
    assert configuration["ampWorkspace"]["arn"] == ref("aws_prometheus_workspace", "hyperpod_addons_prometheus", "arn")
    association = resource(stack, "aws_eks_pod_identity_association", "hyperpod_addons_observability_identity_association")
    assert (association["namespace"], association["service_account"]) == (
        "hyperpod-observability", "hyperpod-observability-operator-otel-collector"
    )
    statements = _role_statements(stack, "hyperpod_addons_observability_identity_role")
    assert statements["RemoteWriteMetrics"]["Resource"] == [
        ref("aws_prometheus_workspace", "hyperpod_addons_prometheus", "arn")
    ]
    assert all("/aws/sagemaker/Clusters/" in r for r in statements["HyperPodLogs"]["Resource"])


# --- outputs and switching off -----------------------------------------------------------


def test_outputs(stack):
    outputs = stack["output"]
    for name in OUTPUTS:
        assert name in outputs and outputs[name]["description"]
    properties = "jsondecode(aws_cloudcontrolapi_resource.hyperpod_cluster.properties)"
    assert outputs["hyperpod_cluster_arn"]["value"] == f"${{{properties}.ClusterArn}}"
    assert outputs["hyperpod_cluster_status"]["value"] == f"${{{properties}.ClusterStatus}}"
    assert outputs["hyperpod_execution_role_arn"]["value"] == ref("aws_iam_role", EXECUTION_ROLE, "arn")
    assert outputs["lifecycle_scripts_bucket"]["value"] == ref("aws_s3_bucket", "hyperpod_lifecycle_scripts_bucket", "bucket")


def test_disabled_synthesizes_none_of_it(synth, stack):
    assert hyperpod_blocks(stack), "the default stack has HyperPod"
    disabled = synth({"hyperpod": {"enabled": False}})
    assert hyperpod_blocks(disabled) == []
    assert all(disabled["output"][name]["value"] is None for name in OUTPUTS), "null, as the resources are absent"
    assert "aws_cloudcontrolapi_resource" not in disabled.get("resource", {})
    assert not [n for n in disabled["resource"].get("helm_release", {}) if n.startswith("hyperpod")]
    assert "aws_eks_cluster" in disabled["resource"], "the rest of the platform is still there"
