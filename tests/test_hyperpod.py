"""The HyperPod module: scripts bucket, execution role, node security group, helm
dependencies, the cluster's desired state and dependencies, add-ons and outputs, as
Terraform applies them with the offline stand-ins (``module.hyperpod[0]``).

Values are read from the applied state (``deployed``); the synthesized documents are read
only for wiring that no state shows (``depends_on``, preconditions, what is written)."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from modules.hyperpod.lifecycle_scripts import SCRIPTS_DIR, script_files
from tests.stacks import REPO, Deployed, split_address
from tests.test_hyperpod_desired_state import RICH

HP = "hyperpod"  # the module's name, for Deployed.find(..., module=HP)
MODULE_AT = "modules/hyperpod"  # where the root module finds it (path.module as Terraform reports it)
CLUSTER = ("aws_cloudcontrolapi_resource", "cluster")
EXECUTION_ROLE = "execution_role"
HELM_RELEASE = ("helm_release", "helm_dependencies_release")
OFF = {"hyperpod": {"enabled": False}}
OUTPUTS = (
    "hyperpod_cluster_arn",
    "hyperpod_cluster_name",
    "hyperpod_cluster_status",
    "hyperpod_execution_role_arn",
    "lifecycle_scripts_bucket",
)
# The longest name the configuration allows (32 characters) with a hyphen where each
# bucket prefix is cut (after 26 and 22 characters), to prove the cut drops it.
LONG_NAME = "ml-platform-of-vision-lab-europe"


def desired_state(deployed: Deployed) -> dict:
    return deployed.json_of(*CLUSTER, "desired_state", module=HP)


def hyperpod_addresses(deployed: Deployed) -> list[str]:
    return [a for a in deployed.addresses() if a.startswith("module.hyperpod")]


def eks_cluster(deployed: Deployed) -> dict:
    return deployed.find("aws_eks_cluster", "eks_control_plane_cluster")


# --- the module on its own, as an HCL team calls it --------------------------------------------


@dataclass(frozen=True)
class Standalone:
    long_name: Deployed
    """The everything-on module planned with the longest name the configuration allows."""
    missing_chart: str
    """Terraform's diagnostics when the chart is missing and the release is on."""


WIRING = {
    "eks_cluster_name": "research",
    "eks_cluster_arn": "arn:aws:eks:us-west-2:123456789012:cluster/research",
    "eks_cluster_version": "1.33",
    "eks_cluster_security_group_id": "sg-0000000000000000a",
    "eks_node_security_group_id": "sg-0000000000000000b",
    "vpc_id": "vpc-00000000000000000",
    "private_subnet_ids": ["subnet-0000000000000000a"],
    "private_subnet_zones": ["us-west-2a"],
    "eks_oidc_issuer_url": "https://oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF",
    # The team's account already has a provider for the issuer: none is created.
    "eks_oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF",
}


@functools.cache
def standalone(folder: Path) -> Standalone:
    """Two plans of the HyperPod module ``folder`` (cached: the inference operator tests
    read the same plan). Without the chart, its precondition stops the first; with a
    placeholder chart written, the second plans the longest name."""
    from tooling.offline import TerraformError, Workspace

    with Workspace(folder, chart_placeholders=False) as ws:
        with pytest.raises(TerraformError) as missing:
            ws.plan(vars={**WIRING, "name": "ml-platform"})
        ws.write_file("charts/hyperpod-dependencies/Chart.yaml", "apiVersion: v2\nname: placeholder\nversion: 0.0.0\n")
        long_name = Deployed.from_plan(ws.plan(vars={**WIRING, "name": LONG_NAME}))
    return Standalone(long_name, " ".join(missing.value.stderr.split()))


@pytest.fixture(scope="session")
def standalone_module(synth, workspace, everything_on) -> Standalone:
    workspace({}, 3, "plan")  # skips when terraform is missing, as every workspace does
    return standalone(synth(everything_on).folder / MODULE_AT)


# --- lifecycle scripts ---------------------------------------------------------------


def test_bucket_name_starts_with_sagemaker(deployed):
    """AmazonSageMakerClusterInstanceRolePolicy reaches only buckets named sagemaker-*."""
    bucket = deployed.find("aws_s3_bucket", "lifecycle_scripts_bucket", HP)
    assert bucket["bucket_prefix"] == "sagemaker-ml-platform-"
    assert bucket["bucket"].startswith("sagemaker-ml-platform-") and len(bucket["bucket"]) <= 63


def test_bucket_prefix_is_cut_to_leave_room_for_the_suffix_s3_adds(standalone_module):
    bucket = standalone_module.long_name.find("aws_s3_bucket", "lifecycle_scripts_bucket")
    prefix = bucket["bucket_prefix"]
    assert prefix == "sagemaker-ml-platform-of-vision-lab-"
    assert len(prefix) <= 37 and "--" not in prefix


def test_bucket_is_private_encrypted_versioned_and_tls_only(deployed):
    bucket = deployed.find("aws_s3_bucket", "lifecycle_scripts_bucket", HP)
    block = deployed.find("aws_s3_bucket_public_access_block", "lifecycle_scripts_bucket_public_access_block", HP)
    assert block["bucket"] == bucket["id"]
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert block[setting] is True
    encryption = deployed.find("aws_s3_bucket_server_side_encryption_configuration", "lifecycle_scripts_bucket_encryption", HP)
    assert encryption["bucket"] == bucket["id"]
    # The module's customer managed key (tests/test_hyperpod_buckets.py).
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    versioning = deployed.find("aws_s3_bucket_versioning", "lifecycle_scripts_bucket_versioning", HP)
    assert versioning["bucket"] == bucket["id"]
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    policy = deployed.json_of("aws_s3_bucket_policy", "lifecycle_scripts_bucket_policy", "policy", HP)
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [bucket["arn"], f"{bucket['arn']}/*"]


def test_every_script_is_uploaded_with_its_content_hash(deployed, stack):
    on_disk = sorted(
        p.relative_to(SCRIPTS_DIR).as_posix()
        for p in SCRIPTS_DIR.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(SCRIPTS_DIR).parts)
    )
    assert on_disk, "lifecycle_scripts/ holds at least one file"
    bucket = deployed.find("aws_s3_bucket", "lifecycle_scripts_bucket", HP)
    uploaded = {o["key"]: o for o in deployed.of_type("aws_s3_object", HP).values()}
    assert sorted(uploaded) == on_disk
    for key, obj in uploaded.items():
        content = (SCRIPTS_DIR / key).read_bytes()
        assert obj["source"] == f"{MODULE_AT}/lifecycle_scripts/{key}"
        assert (stack.folder / obj["source"]).read_bytes() == content, "the module's copy is the repository's file"
        assert obj["source_hash"] == hashlib.md5(content).hexdigest()
        assert obj["bucket"] == bucket["id"]


def test_script_files_follow_the_folder(tmp_path):
    scripts = tmp_path / "lifecycle_scripts"
    (scripts / "nested").mkdir(parents=True)
    (scripts / "on_create.sh").write_text("#!/bin/bash\necho one\n")
    (scripts / "nested" / "tool.py").write_text("print(1)\n")
    (scripts / ".hidden").write_text("x")
    first = {f.key: f for f in script_files(scripts)}
    assert sorted(first) == ["nested/tool.py", "on_create.sh"]
    assert first["nested/tool.py"].source == "${path.module}/lifecycle_scripts/nested/tool.py"
    (scripts / "on_create.sh").write_text("#!/bin/bash\necho two\n")
    second = {f.key: f for f in script_files(scripts)}
    assert second["on_create.sh"].md5 != first["on_create.sh"].md5, "a changed script changes its etag"
    assert second["nested/tool.py"].md5 == first["nested/tool.py"].md5


def test_no_absolute_paths_in_the_output(stack):
    for name, document in stack.all_documents().items():
        text = json.dumps(document)
        assert str(REPO) not in text, name or "root"
        assert not re.search(r'"(source|chart)": "/', text), name or "root"


# --- execution role ------------------------------------------------------------------


def role_statements(deployed: Deployed, role: str, module: str = HP) -> dict[str, dict]:
    """Sid -> statement of the inline policies of a role, as applied."""
    role_name = deployed.find("aws_iam_role", role, module)["id"]
    statements = {}
    for policy in deployed.of_type("aws_iam_role_policy", module).values():
        if policy["role"] == role_name:
            for statement in json.loads(policy["policy"])["Statement"]:
                statements[statement["Sid"]] = statement
    return statements


def test_execution_role_trust_and_managed_policy(deployed):
    role = deployed.find("aws_iam_role", EXECUTION_ROLE, HP)
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    attachment = deployed.find("aws_iam_role_policy_attachment", "execution_role_attach_cluster_instance", HP)
    assert attachment["role"] == role["id"]
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/AmazonSageMakerClusterInstanceRolePolicy"


def test_execution_role_permissions(deployed):
    statements = role_statements(deployed, EXECUTION_ROLE)
    bucket_arn = deployed.find("aws_s3_bucket", "lifecycle_scripts_bucket", HP)["arn"]
    assert statements["ReadScripts"]["Action"] == ["s3:GetObject"]
    assert statements["ReadScripts"]["Resource"] == [f"{bucket_arn}/*"]
    assert statements["ListScripts"]["Resource"] == [bucket_arn]
    assert {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"} <= set(statements["PullImages"]["Action"])
    assert statements["RegistryToken"]["Action"] == ["ecr:GetAuthorizationToken"]
    cni = set(statements["PodNetworking"]["Action"])
    assert {"ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces"} <= cni
    assert statements["AttachPodInterfaces"]["Action"] == ["sagemaker:AttachClusterNodeNetworkInterface"]
    assert statements["AttachPodInterfaces"]["Resource"] == ["arn:aws:sagemaker:us-west-2:123456789012:cluster/*"]
    assert statements["PodIdentity"]["Action"] == ["eks-auth:AssumeRoleForPodIdentity"]
    assert statements["PodIdentity"]["Resource"] == [eks_cluster(deployed)["arn"]]
    for statement in statements.values():
        assert "*" not in statement["Action"] and not any(a.endswith(":*") for a in statement["Action"])


def test_no_access_entry_for_the_execution_role(deployed):
    """HyperPod registers its role with the EKS cluster itself; a second entry would conflict."""
    role_arn = deployed.find("aws_iam_role", EXECUTION_ROLE, HP)["arn"]
    entries = deployed.of_type("aws_eks_access_entry")
    assert entries, "the platform has access entries (creator, Karpenter nodes)"
    for address, entry in entries.items():
        assert entry["principal_arn"] != role_arn, address
    assert not deployed.of_type("aws_eks_access_entry", HP)


# --- security group ------------------------------------------------------------------


def test_node_security_group_rules(deployed):
    own = deployed.find("aws_security_group", "security_group", HP)["id"]
    eks_cluster_sg = eks_cluster(deployed)["vpc_config"][0]["cluster_security_group_id"]
    eks_nodes = deployed.find("aws_security_group", "eks_security_groups_node")["id"]
    ingress = list(deployed.of_type("aws_vpc_security_group_ingress_rule", HP).values())
    egress = list(deployed.of_type("aws_vpc_security_group_egress_rule", HP).values())

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


def test_cluster_resource(deployed):
    cluster = deployed.find(*CLUSTER, module=HP)
    assert cluster["type_name"] == "AWS::SageMaker::Cluster"
    assert isinstance(json.loads(cluster["desired_state"]), dict), "Terraform encodes the desired state as JSON"
    for operation in ("create", "update", "delete"):
        hours = int(cluster["timeouts"][operation].removesuffix("h"))
        assert hours >= 3, f"{operation} of a large cluster takes hours"
    reported = json.loads(cluster["properties"])
    assert reported["ClusterStatus"] == "InService"
    assert cluster["id"] == reported["ClusterArn"], "Cloud Control identifies the cluster by its ARN"


def test_desired_state_fields(deployed):
    state = desired_state(deployed)
    private_subnets = [s for a, s in sorted(deployed.of_type("aws_subnet").items()) if "private_subnets" in a]
    role = deployed.find("aws_iam_role", EXECUTION_ROLE, HP)
    bucket = deployed.find("aws_s3_bucket", "lifecycle_scripts_bucket", HP)
    security_group = deployed.find("aws_security_group", "security_group", HP)["id"]
    assert state["ClusterName"] == "ml-platform-hyperpod"
    assert state["Orchestrator"] == {"Eks": {"ClusterArn": eks_cluster(deployed)["arn"]}}
    assert state["VpcConfig"]["SecurityGroupIds"] == [security_group]
    assert sorted(state["VpcConfig"]["Subnets"]) == sorted(s["id"] for s in private_subnets)
    assert len(state["VpcConfig"]["Subnets"]) == 3, "a private subnet in each zone"
    assert state["NodeRecovery"] == "Automatic"
    assert state["NodeProvisioningMode"] == "Continuous"
    assert {"Key": "project", "Value": "ml-platform"} in state["Tags"]
    [group] = state["InstanceGroups"]
    assert group == {
        "InstanceGroupName": "gpu-workers",
        "InstanceType": "ml.g5.xlarge",
        "InstanceCount": 2,
        "ExecutionRole": role["arn"],
        "ThreadsPerCore": 2,
        "LifeCycleConfig": {"SourceS3Uri": f"s3://{bucket['bucket']}", "OnCreate": "on_create.sh"},
        "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 500}}],
        "OnStartDeepHealthChecks": ["InstanceStress", "InstanceConnectivity"],
    }


@pytest.fixture(scope="session")
def rich(deploy) -> Deployed:
    return deploy(RICH)


def test_optional_group_fields(rich):
    state = desired_state(rich)
    assert state["NodeRecovery"] == "None"
    assert "NodeProvisioningMode" not in state, "null leaves HyperPod's standard mode"
    trainium, cpu = state["InstanceGroups"]
    assert trainium["MinInstanceCount"] == 2
    assert trainium["ThreadsPerCore"] == 1
    assert trainium["InstanceStorageConfigs"] == [{"EbsVolumeConfig": {
        "VolumeSizeInGB": 16384,
        "VolumeKmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    }}]
    assert trainium["TrainingPlanArn"] == "arn:aws:sagemaker:us-west-2:123456789012:training-plan/research-trn1-q3"
    assert trainium["ImageId"] == "ami-0123456789abcdef0"
    assert trainium["ScheduledUpdateConfig"] == {
        "ScheduleExpression": "cron(0 3 ? * SUN *)",
        "DeploymentConfig": {
            "RollingUpdatePolicy": {
                "MaximumBatchSize": {"Type": "CAPACITY_PERCENTAGE", "Value": 25},
                "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 2},
            },
            "WaitIntervalInSeconds": 600,
            "AutoRollbackConfiguration": [{"AlarmName": "trn1-step-time-regressed"}, {"AlarmName": "trn1-node-faults"}],
        },
    }
    assert trainium["KubernetesConfig"] == {
        "Labels": {"example.com/team": "research"},
        "Taints": [
            {"Key": "aws.amazon.com/neuron", "Effect": "NoSchedule"},
            {"Key": "dedicated", "Value": "training", "Effect": "NoExecute"},
        ],
    }
    assert trainium["CapacityRequirements"] == {"Spot": {}}
    assert "OnStartDeepHealthChecks" not in trainium, "an empty list is left out"
    [zone_b] = [s["id"] for a, s in rich.of_type("aws_subnet").items()
                if "private_subnets" in a and s["availability_zone"] == "us-west-2b"]
    assert trainium["OverrideVpcConfig"] == {
        "SecurityGroupIds": [rich.find("aws_security_group", "security_group", HP)["id"]],
        "Subnets": [zone_b],
    }
    assert cpu["CapacityRequirements"] == {"OnDemand": {}}
    assert cpu["InstanceCount"] == 0
    assert "OverrideVpcConfig" not in cpu and "KubernetesConfig" not in cpu and "MinInstanceCount" not in cpu
    for unset in ("TrainingPlanArn", "ImageId", "ScheduledUpdateConfig"):
        assert unset not in cpu, unset
    assert cpu["InstanceStorageConfigs"] == [{"EbsVolumeConfig": {"VolumeSizeInGB": 1}}]


def zone_message_pattern() -> re.Pattern:
    """``ZONE_WITHOUT_SUBNET`` with anything in place of its fields: a message said from it."""
    from modules.config.hyperpod import ZONE_WITHOUT_SUBNET

    literal = [re.escape(part) for part in re.split(r"\{\w+\}", ZONE_WITHOUT_SUBNET)]
    return re.compile("(.+?)".join(literal))


def test_preconditions_name_the_fix(stack):
    """The precondition's message is the synth-time description with Terraform filling in the
    failing groups, their zones and the VPC's zones."""
    from modules.config.hyperpod import zone_without_subnet

    [zones] = stack.block(*CLUSTER, module=HP)["lifecycle"]["precondition"]
    failing = (
        "[for group in var.instance_groups : group if (group.availability_zone == null ? false : "
        "!contains(var.private_subnet_zones, group.availability_zone))]"
    )
    assert zones["error_message"] == zone_without_subnet(
        f'${{join(", ", [for group in {failing} : group.name])}}',
        f'${{join(", ", [for group in {failing} : group.availability_zone])}}',
        '${join(", ", distinct(var.private_subnet_zones))}',
    )


def test_synth_and_plan_say_the_same_of_a_zone_without_a_subnet(plan):
    """Synth (region and vpc.max_azs: 3) and terraform plan (the VPC's zones: the stand-in
    region has three) refuse a group pinned to us-west-2d with the one description, filled in
    by each."""
    from modules.config import ConfigError, parse_config
    from modules.config.hyperpod import first_zones
    from tooling.offline import TerraformError

    group = {"name": "g", "instance_type": "ml.g5.xlarge", "instance_count": 1, "availability_zone": "us-west-2d"}
    with pytest.raises(ConfigError) as at_synth:
        parse_config({"vpc": {"max_azs": 3}, "hyperpod": {"instance_groups": [group]}})
    with pytest.raises(TerraformError) as at_plan:
        plan({}, {"hyperpod_instance_groups": [group]})
    synth_text = str(at_synth.value)
    plan_text = " ".join(at_plan.value.stderr.split())
    pattern = zone_message_pattern()
    assert pattern.search(synth_text).groups() == ("g", "us-west-2d", first_zones("us-west-2", 3))
    assert pattern.search(plan_text).groups()[:2] == ("g", "us-west-2d")
    assert "us-west-2a, us-west-2b, us-west-2c" in plan_text


def test_zone_precondition_holds_only_where_a_private_subnet_is(deployed, rich, plan):
    """Unpinned groups (the default) and a group in a zone of the VPC (RICH: us-west-2b)
    apply; a group pinned to a zone the VPC has no subnet in stops the plan."""
    from tooling.offline import TerraformError

    assert deployed.find(*CLUSTER, module=HP) and rich.find(*CLUSTER, module=HP)
    group = {"name": "g", "instance_type": "ml.g5.xlarge", "instance_count": 1, "availability_zone": "us-west-2d"}
    with pytest.raises(TerraformError) as refused:
        plan({}, {"hyperpod_instance_groups": [group]})  # three zones: us-west-2a to c
    said = " ".join(refused.value.stderr.split())
    assert zone_message_pattern().search(said)
    assert "aws_cloudcontrolapi_resource.cluster" in said


def test_cluster_depends_on_what_it_needs(stack):
    depends_on = set(stack.block(*CLUSTER, module=HP)["depends_on"])
    assert "helm_release.helm_dependencies_release" in depends_on
    assert {
        "aws_iam_role_policy_attachment.execution_role_attach_cluster_instance",
        "aws_iam_role_policy.execution_role_policy_vpc_cni",
    } <= depends_on
    assert {f"aws_s3_object.{name}" for name in stack.blocks("aws_s3_object", HP)} <= depends_on
    assert "aws_vpc_security_group_ingress_rule.security_group_eks_cluster_from_hyperpod_https" in depends_on


def test_cluster_never_waits_for_karpenter_or_the_load_balancer_controller(workspace, stack):
    """Read from Terraform's own graph of the default configuration (the everything-on one
    is checked in test_dependencies.py): not even indirectly, through a module input."""
    from tooling.analysis import from_dot

    ws = workspace({}, 3, "plan")
    ws.init()
    graph = from_dot(ws.run("graph", "-type=plan").stdout)
    waited_for = graph.dependencies("module.hyperpod.aws_cloudcontrolapi_resource.cluster")
    assert "module.hyperpod.helm_release.helm_dependencies_release" in waited_for, "the graph is read"
    assert not [a for a in waited_for if "karpenter" in a or "load_balancer" in a]
    assert all(not d.startswith("module.") for d in stack.block(*CLUSTER, module=HP)["depends_on"])


def test_without_helm_dependencies_the_cluster_does_not_wait_for_a_chart(planned):
    deployed = planned({}, {"hyperpod_install_helm_dependencies": False, "hyperpod_enable_training_operator": False})
    assert deployed.of_type("helm_release", HP) == {}
    assert deployed.of_type("aws_eks_addon", HP) == {}, "the training operator add-on is counted out"
    assert deployed.find(*CLUSTER, module=HP)["type_name"] == "AWS::SageMaker::Cluster"


# --- helm dependencies ---------------------------------------------------------------


def test_helm_release_installs_the_fetched_chart(deployed, stack):
    release = deployed.find(*HELM_RELEASE, module=HP)
    assert release["namespace"] == "kube-system"
    assert release["dependency_update"] is True
    assert release["chart"] == f"{MODULE_AT}/charts/hyperpod-dependencies", "the chart copied into the module"
    block = stack.block(*HELM_RELEASE, module=HP)
    [precondition] = block["lifecycle"]["precondition"]
    assert precondition["condition"] == '${fileexists("${path.module}/charts/hyperpod-dependencies/Chart.yaml")}'
    assert "scripts/fetch-hyperpod-chart.sh" in precondition["error_message"]
    assert block["depends_on"] == ["var.cluster_ready"], "controllers need nodes"
    cluster_ready = stack.root["module"]["hyperpod"]["cluster_ready"]
    assert cluster_ready == [
        "${aws_eks_node_group.eks_system_nodes_node_group.id}",
        "${aws_eks_addon.eks_addons_coredns_addon.id}",
    ]


def test_a_missing_chart_stops_the_plan_with_the_commands_to_run(standalone_module):
    said = standalone_module.missing_chart
    assert "The HyperPod helm chart is missing from the module (charts/hyperpod-dependencies)" in said
    assert "run scripts/fetch-hyperpod-chart.sh from the project root" in said


def test_helm_values_follow_config(deployed, rich):
    default = yaml.safe_load(deployed.find(*HELM_RELEASE, module=HP)["values"][0])
    for key in ("health-monitoring-agent", "deep-health-check", "job-auto-restart", "mpi-operator", "cert-manager"):
        assert default[key] == {"enabled": True}, key
    assert default["trainingOperators"] == {"enabled": True}
    for plugin in ("nvidia-device-plugin", "neuron-device-plugin", "aws-efa-k8s-device-plugin"):
        assert default[plugin] == {"devicePlugin": {"enabled": True}}
    changed = yaml.safe_load(rich.find(*HELM_RELEASE, module=HP)["values"][0])
    assert changed["mpi-operator"] == {"enabled": False}
    assert changed["deep-health-check"] == {"enabled": False}
    assert changed["neuron-device-plugin"] == {"devicePlugin": {"enabled": False}}
    assert changed["cert-manager"] == {"enabled": False}, "cert-manager is installed for the training operator"
    assert default["gpu-operator"] == {"enabled": False}, "no group partitions its GPUs"


def test_gpu_partitioning_brings_the_gpu_operator_instead_of_the_device_plugin(all_on, everything_on):
    """A group labelled nvidia.com/mig.config (everything-on: the H100 group) turns on the
    GPU operator, whose MIG manager partitions each node as its label says and whose
    device plugin advertises the slices; the chart's plain device plugin is switched off."""
    values = yaml.safe_load(all_on.find(*HELM_RELEASE, module=HP)["values"][0])
    assert values["gpu-operator"] == {"enabled": True}
    assert values["nvidia-device-plugin"] == {"devicePlugin": {"enabled": False}}
    [h100] = [g for g in desired_state(all_on)["InstanceGroups"] if g["InstanceType"] == "ml.p5.48xlarge"]
    assert h100["KubernetesConfig"]["Labels"] == {"nvidia.com/mig.config": "all-1g.10gb"}


def test_tfvars_cannot_partition_gpus_that_mig_cannot_split(plan):
    from tooling.offline import TerraformError

    group = {"name": "g", "instance_type": "ml.g5.xlarge", "instance_count": 1,
             "labels": {"nvidia.com/mig.config": "all-1g.10gb"}}
    with pytest.raises(TerraformError) as refused:
        plan({}, {"hyperpod_instance_groups": [group]})
    assert "needs an instance type whose GPUs MIG can partition" in " ".join(refused.value.stderr.split())


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


def test_training_operator_addon_and_pod_identity(deployed, stack):
    addon = deployed.find("aws_eks_addon", "addons_training_operator_addon", HP)
    assert addon["addon_name"] == "amazon-sagemaker-hyperpod-training-operator"
    assert addon["cluster_name"] == eks_cluster(deployed)["name"]
    assert "aws_cloudcontrolapi_resource.cluster" in stack.block("aws_eks_addon", "addons_training_operator_addon", HP)["depends_on"]
    association = deployed.find("aws_eks_pod_identity_association", "addons_training_operator_identity_association", HP)
    role = deployed.find("aws_iam_role", "addons_training_operator_identity_role", HP)
    assert association["namespace"] == "aws-hyperpod"
    assert association["service_account"] == "hp-training-operator-controller-manager"
    assert association["role_arn"] == role["arn"]
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceArn"] == eks_cluster(deployed)["arn"]
    statement = role_statements(deployed, "addons_training_operator_identity_role")["ReadHyperPodCluster"]
    assert sorted(statement["Action"]) == [
        "sagemaker:DescribeCluster", "sagemaker:DescribeClusterNode", "sagemaker:ListClusterNodes"
    ]
    cluster_arn = json.loads(deployed.find(*CLUSTER, module=HP)["properties"])["ClusterArn"]
    assert statement["Resource"] == [cluster_arn], "this cluster only"


def test_optional_addons_are_off_by_default(deployed):
    names = {a["addon_name"] for a in deployed.of_type("aws_eks_addon", HP).values()}
    assert names == {"amazon-sagemaker-hyperpod-training-operator"}
    assert not deployed.of_type("aws_prometheus_workspace")


@pytest.fixture(scope="session")
def all_on(deploy, everything_on) -> Deployed:
    return deploy(everything_on)


def test_task_governance_and_observability(all_on, synth, everything_on):
    stack = synth(everything_on)
    governance = all_on.find("aws_eks_addon", "addons_taskgovernance_addon", HP)
    assert governance["addon_name"] == "amazon-sagemaker-hyperpod-taskgovernance"
    observability = all_on.find("aws_eks_addon", "addons_observability_addon", HP)
    assert observability["addon_name"] == "amazon-sagemaker-hyperpod-observability"
    for name in ("addons_taskgovernance_addon", "addons_observability_addon"):
        # They read no HyperPod cluster: after the nodes, not the cluster (test_hyperpod_waits.py).
        depends_on = stack.block("aws_eks_addon", name, HP)["depends_on"]
        assert "var.cluster_ready" in depends_on and "aws_cloudcontrolapi_resource.cluster" not in depends_on
    prometheus = all_on.find("aws_prometheus_workspace", "addons_prometheus", HP)
    assert prometheus["alias"] == "ml-platform-hyperpod"
    configuration = json.loads(observability["configuration_values"])
    assert configuration["ampWorkspace"] == {
        "arn": prometheus["arn"],
        "prometheusEndpoint": prometheus["prometheus_endpoint"],
    }, "the workspace endpoint itself: the add-on appends the remote-write path"
    levels = everything_on["hyperpod"]["observability"]
    assert configuration["metricsProvider"]["acceleratedComputeMetrics"] == {
        "level": levels["accelerated_compute_metrics"], "scrapeInterval": 30
    }
    assert configuration["metricsProvider"]["trainingMetrics"]["level"] == levels["training_metrics"]
    assert len(configuration["metricsProvider"]) == 8, "every metric family the add-on documents"
    assert configuration["logging"] == {"enabled": levels["logging"]}
    association = all_on.find("aws_eks_pod_identity_association", "addons_observability_identity_association", HP)
    assert (association["namespace"], association["service_account"]) == (
        "hyperpod-observability", "hyperpod-observability-operator-otel-collector"
    )
    statements = role_statements(all_on, "addons_observability_identity_role")
    assert statements["RemoteWriteMetrics"]["Resource"] == [prometheus["arn"]]
    assert "logs:GetLogRecord" in statements["HyperPodLogs"]["Action"]
    role = all_on.find("aws_iam_role", "addons_observability_identity_role", HP)
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012", "aws:SourceArn": eks_cluster(all_on)["arn"]}
    }, "only this cluster's pods assume it"
    assert statements["HyperPodLogs"]["Resource"] == [
        "arn:aws:logs:us-west-2:123456789012:log-group:/aws/sagemaker/Clusters/*",
        "arn:aws:logs:us-west-2:123456789012:log-group:/aws/sagemaker/Clusters/*:log-stream:*",
    ]


def test_autoscaling_by_hyperpods_karpenter_and_tiered_storage(all_on, synth, everything_on):
    state = desired_state(all_on)
    role = all_on.find("aws_iam_role", "autoscaler_role", HP)
    assert state["AutoScaling"] == {"Mode": "Enable", "AutoScalerType": "Karpenter"}
    assert state["ClusterRole"] == role["arn"]
    assert state["NodeProvisioningMode"] == "Continuous" and state["NodeRecovery"] == "Automatic"
    assert state["TieredStorageConfig"] == {"Mode": "Enable", "InstanceMemoryAllocationPercentage": 20}
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "hyperpod.sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    statements = role_statements(all_on, "autoscaler_role")
    assert statements["AddAndRemoveNodes"]["Resource"] == ["arn:aws:sagemaker:us-west-2:123456789012:cluster/*"]
    assert statements["GrantsForEncryptedVolumes"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    depends_on = synth(everything_on).block(*CLUSTER, module=HP)["depends_on"]
    assert "aws_iam_role_policy.autoscaler_role_policy_scale_instance_groups" in depends_on


def test_restricted_instance_groups_with_fsx(rich):
    state = desired_state(rich)
    [rig] = state["RestrictedInstanceGroups"]
    assert rig == {
        "InstanceGroupName": "nova-rig",
        "InstanceType": "ml.p5.48xlarge",
        "InstanceCount": 2,
        "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 500}}],
        "ThreadsPerCore": 2,
        "EnvironmentConfig": {"FSxLustreConfig": {"SizeInGiB": 1200, "PerUnitStorageThroughput": 250}},
        "ExecutionRole": rich.find("aws_iam_role", EXECUTION_ROLE, HP)["arn"],
        "OnStartDeepHealthChecks": ["InstanceStress"],
        "TrainingPlanArn": "arn:aws:sagemaker:us-west-2:123456789012:training-plan/nova-p5-q3",
    }
    assert "AutoScaling" not in state and "ClusterRole" not in state and "TieredStorageConfig" not in state


# --- outputs and switching off -----------------------------------------------------------


def test_cluster_name_follows_the_platform_name(deployed, standalone_module, synth):
    """Unset, the cluster is named after the platform: two stacks in one account and
    region, or two calls of the module, never share a cluster name."""
    assert desired_state(deployed)["ClusterName"] == "ml-platform-hyperpod"
    assert standalone_module.long_name.outputs["cluster_name"] == f"{LONG_NAME}-hyperpod"
    assert len(f"{LONG_NAME}-hyperpod") <= 63, "the longest platform name still gives a valid cluster name"
    other = synth({"name": "team-b"})
    assert other.root["variable"]["hyperpod_cluster_name"]["default"] == "team-b-hyperpod"
    assert other.modules["hyperpod"]["variable"]["cluster_name"]["default"] is None, "the module derives it"
    named = synth({"hyperpod": {"cluster_name": "research-hp"}})
    assert named.modules["hyperpod"]["variable"]["cluster_name"]["default"] == "research-hp"


def test_outputs(deployed, stack):
    for name in OUTPUTS:
        assert stack.root["output"][name]["description"], name
    cluster = deployed.find(*CLUSTER, module=HP)
    reported = json.loads(cluster["properties"])
    outputs = deployed.outputs
    assert outputs["hyperpod_cluster_arn"] == reported["ClusterArn"]
    assert outputs["hyperpod_cluster_arn"].startswith("arn:aws:sagemaker:us-west-2:123456789012:cluster/")
    assert outputs["hyperpod_cluster_name"] == "ml-platform-hyperpod"
    assert outputs["hyperpod_cluster_status"] == "InService"
    assert outputs["hyperpod_execution_role_arn"] == deployed.find("aws_iam_role", EXECUTION_ROLE, HP)["arn"]
    assert outputs["lifecycle_scripts_bucket"] == deployed.find("aws_s3_bucket", "lifecycle_scripts_bucket", HP)["bucket"]


def test_disabled_deploys_none_of_it(planned, deployed):
    assert len(hyperpod_addresses(deployed)) > 30, "the default deploys HyperPod"
    disabled = planned(OFF)
    assert hyperpod_addresses(disabled) == []
    assert disabled.of_type("aws_cloudcontrolapi_resource") == {}
    assert all(disabled.outputs[name] is None for name in OUTPUTS), "null, as the resources are absent"
    assert disabled.find("aws_eks_cluster", "eks_control_plane_cluster"), "the rest of the platform is still there"
    everything_else = {a for a in managed(deployed) if not a.startswith("module.hyperpod")}
    assert managed(disabled) == everything_else


def managed(deployed: Deployed) -> set[str]:
    return {a for a in deployed.values if not split_address(a)[1].startswith("data.")}
