"""``hyperpod.*`` configuration: defaults, the instance type table, and bad input rejected
with exit code 2 naming the key."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from modules.config import ConfigError, parse_config
from modules.config.hyperpod_instance_types import FAMILIES, INSTANCE_TYPES, facts_of, render_markdown
from tests.bad_input import assert_refused

TODAY = dt.date(2026, 11, 22)
DOCS_TABLE = Path(__file__).resolve().parent.parent / "docs" / "hyperpod-instance-types.md"


def parse(hyperpod: dict, **top) -> object:
    return parse_config({"hyperpod": hyperpod, **top}, today=TODAY)


def test_defaults():
    hyperpod = parse_config({}, today=TODAY).hyperpod
    assert hyperpod.enabled is True
    assert hyperpod.node_recovery == "Automatic"
    assert hyperpod.node_provisioning_mode == "Continuous"
    assert hyperpod.install_helm_dependencies is True
    assert hyperpod.enable_training_operator is True
    [group] = hyperpod.instance_groups
    assert (group.name, group.instance_type, group.instance_count) == ("gpu-workers", "ml.g5.xlarge", 2)
    assert group.deep_health_checks == ["InstanceStress", "InstanceConnectivity"]


def test_a_full_instance_group_is_accepted():
    group = parse(
        {
            "instance_groups": [
                {
                    "name": "trn",
                    "instance_type": "ml.trn1.32xlarge",
                    "instance_count": 4,
                    "min_instance_count": 2,
                    "ebs_volume_gb": 16384,
                    "deep_health_checks": ["InstanceConnectivity"],
                    "threads_per_core": 1,
                    "labels": {"example.com/team": "research"},
                    "taints": [{"key": "aws.amazon.com/neuron", "effect": "NoSchedule"}],
                    "capacity": "spot",
                    "availability_zone": "us-west-2b",
                }
            ]
        }
    ).hyperpod.instance_groups[0]
    assert group.min_instance_count == 2 and group.capacity == "spot"
    assert group.taints[0].value is None


def test_cpu_groups_without_health_checks_are_fine():
    group = parse({"instance_groups": [{"name": "cpu", "instance_type": "ml.m5.xlarge", "instance_count": 1}]})
    assert group.hyperpod.instance_groups[0].deep_health_checks == []


def test_node_provisioning_mode_can_be_left_to_hyperpod():
    assert parse({"node_provisioning_mode": None}).hyperpod.node_provisioning_mode is None


def test_instance_type_table_is_the_single_source():
    for family in FAMILIES:
        for instance_type in family.instance_types():
            assert facts_of(instance_type).family is family
    assert facts_of("ml.p5.48xlarge").accelerator_memory_gib == 640
    assert facts_of("ml.g5.48xlarge").devices == 8
    assert facts_of("ml.p4de.24xlarge").deep_health_checks_apply
    assert not facts_of("ml.c5.large").deep_health_checks_apply
    assert facts_of("ml.x1.large") is None
    expected_families = {"ml.g5", "ml.g6", "ml.p4d", "ml.p4de", "ml.p5", "ml.trn1", "ml.trn2", "ml.m5", "ml.c5"}
    assert expected_families <= {f.family for f in FAMILIES}
    assert len(INSTANCE_TYPES) == sum(len(f.devices_by_size) for f in FAMILIES)


def test_docs_table_is_generated_from_the_data():
    assert DOCS_TABLE.read_text() == render_markdown(), (
        "docs/hyperpod-instance-types.md is stale: run make docs"
    )
    for family in FAMILIES:
        assert f"| `{family.family}` |" in DOCS_TABLE.read_text()


def _groups(*groups: str) -> str:
    body = "".join(textwrap.indent(textwrap.dedent(g).strip("\n"), "    ") + "\n" for g in groups)
    return "hyperpod:\n  instance_groups:\n" + body


GPU = "- name: gpu\n  instance_type: ml.g5.xlarge\n  instance_count: 2\n"
P5 = "- name: h100\n  instance_type: ml.p5.48xlarge\n  instance_count: 1\n"

BAD_INPUTS = [
    ("unknown hyperpod key", "hyperpod:\n  nodes: 3\n", "hyperpod.nodes", "allowed here"),
    ("enabled type", "hyperpod:\n  enabled: 'yes'\n", "hyperpod.enabled", "boolean"),
    ("cluster name characters", "hyperpod:\n  cluster_name: my_cluster\n", "hyperpod.cluster_name", "hyphens"),
    ("cluster name length", f"hyperpod:\n  cluster_name: {'a' * 64}\n", "hyperpod.cluster_name", "at most 63 characters"),
    ("cluster name edge hyphen", "hyperpod:\n  cluster_name: -hp\n", "hyperpod.cluster_name", "starting and ending"),
    ("node recovery", "hyperpod:\n  node_recovery: Manual\n", "hyperpod.node_recovery", "Automatic"),
    ("provisioning mode", "hyperpod:\n  node_provisioning_mode: Eager\n", "hyperpod.node_provisioning_mode", "Continuous"),
    ("no instance groups", "hyperpod:\n  instance_groups: []\n", "hyperpod.instance_groups", "at least 1"),
    ("not an ml type", _groups("- name: a\n  instance_type: g5.xlarge\n  instance_count: 1\n"),
     "hyperpod.instance_groups[0].instance_type", "start with ml."),
    ("unknown ml type", _groups("- name: a\n  instance_type: ml.x9.huge\n  instance_count: 1\n"),
     "hyperpod.instance_groups[0].instance_type", "offers no HyperPod instance type"),
    ("negative count", _groups("- name: a\n  instance_type: ml.g5.xlarge\n  instance_count: -1\n"),
     "hyperpod.instance_groups[0].instance_count", "greater than or equal to 0"),
    ("min above count", _groups(GPU + "  min_instance_count: 3\n"),
     "hyperpod.instance_groups[0]", "min_instance_count (3) must not exceed instance_count (2)"),
    ("ebs too small", _groups(GPU + "  ebs_volume_gb: 0\n"), "hyperpod.instance_groups[0].ebs_volume_gb", "greater than or equal to 1"),
    ("ebs too large", _groups(GPU + "  ebs_volume_gb: 16385\n"), "hyperpod.instance_groups[0].ebs_volume_gb", "less than or equal to 16384"),
    ("unknown health check", _groups(GPU + "  deep_health_checks: [InstanceMemory]\n"),
     "hyperpod.instance_groups[0].deep_health_checks[0]", "InstanceStress"),
    ("repeated health check", _groups(GPU + "  deep_health_checks: [InstanceStress, InstanceStress]\n"),
     "hyperpod.instance_groups[0].deep_health_checks", "twice"),
    ("health checks on m5", _groups("- name: cpu\n  instance_type: ml.m5.xlarge\n  instance_count: 1\n"
                                    "  deep_health_checks: [InstanceStress]\n"),
     "hyperpod.instance_groups[0]", "CPU type"),
    ("health checks on c5", _groups("- name: cpu\n  instance_type: ml.c5.4xlarge\n  instance_count: 1\n"
                                    "  deep_health_checks: [InstanceConnectivity]\n"),
     "hyperpod.instance_groups[0]", "remove deep_health_checks"),
    ("threads per core", _groups(GPU + "  threads_per_core: 4\n"), "hyperpod.instance_groups[0].threads_per_core", "less than or equal to 2"),
    ("label key", _groups(GPU + "  labels: {'bad key': x}\n"), "hyperpod.instance_groups[0].labels", "Kubernetes key"),
    ("label value", _groups(GPU + f"  labels: {{team: {'v' * 64}}}\n"), "hyperpod.instance_groups[0].labels", "63"),
    ("taint effect", _groups(GPU + "  taints: [{key: gpu, effect: Never}]\n"),
     "hyperpod.instance_groups[0].taints[0].effect", "NoSchedule"),
    ("taint without effect", _groups(GPU + "  taints: [{key: gpu}]\n"),
     "hyperpod.instance_groups[0].taints[0].effect", "is required"),
    ("capacity", _groups(GPU + "  capacity: reserved\n"), "hyperpod.instance_groups[0].capacity", "spot"),
    ("zone shape", _groups(GPU + "  availability_zone: usw2-az1\n"),
     "hyperpod.instance_groups[0].availability_zone", "us-west-2a"),
    ("zone outside the region", _groups(GPU + "  availability_zone: eu-west-1a\n"),
     "hyperpod.instance_groups[0].availability_zone", "the first 8 zones of us-west-2"),
    ("zone beyond vpc.max_azs", "vpc:\n  max_azs: 3\n" + _groups(GPU + "  availability_zone: us-west-2d\n"),
     "hyperpod.instance_groups[0].availability_zone", "where the VPC has no private subnet"),
    ("group name", _groups("- name: gpu_workers\n  instance_type: ml.g5.xlarge\n  instance_count: 1\n"),
     "hyperpod.instance_groups[0].name", "hyphens"),
    ("duplicate group names", _groups(GPU, GPU), "hyperpod.instance_groups", "used twice"),
    ("missing instance type", _groups("- name: a\n  instance_count: 1\n"),
     "hyperpod.instance_groups[0].instance_type", "is required"),
    ("mig on a10g", _groups(GPU + "  labels: {nvidia.com/mig.config: all-1g.10gb}\n"),
     "hyperpod.instance_groups[0]", "cannot be partitioned with MIG"),
    ("mig profile of another gpu", _groups(P5 + "  labels: {nvidia.com/mig.config: all-1g.5gb}\n"),
     "hyperpod.instance_groups[0]", "1g slices of a 80 GiB NVIDIA H100 hold 10gb, not 5gb"),
    ("unknown mig profile", _groups(P5 + "  labels: {nvidia.com/mig.config: all-2g.9gb}\n"),
     "hyperpod.instance_groups[0]", "not a profile of the GPU operator"),
    ("training plan arn", _groups(GPU + "  training_plan_arn: arn:aws:sagemaker:us-west-2:123456789012:reserved-plan/h100-q3\n"),
     "hyperpod.instance_groups[0].training_plan_arn", "training-plan/"),
    ("image id", _groups(GPU + "  image_id: ubuntu-22.04\n"), "hyperpod.instance_groups[0].image_id", "ami-"),
    ("kms key characters", _groups(GPU + "  volume_kms_key_id: 'my key'\n"),
     "hyperpod.instance_groups[0].volume_kms_key_id", "KMS key"),
    ("schedule not cron", _groups(GPU + "  scheduled_update: {schedule: 'rate(7 days)'}\n"),
     "hyperpod.instance_groups[0].scheduled_update.schedule", "cron"),
    ("percentage above 100", _groups(GPU + "  scheduled_update: {schedule: 'cron(0 3 ? * SUN *)', "
                                     "batch_size: {type: CAPACITY_PERCENTAGE, value: 150}}\n"),
     "hyperpod.instance_groups[0].scheduled_update.batch_size", "at most 100"),
    ("rollback without batch size", _groups(GPU + "  scheduled_update: {schedule: 'cron(0 3 ? * SUN *)', "
                                            "rollback_batch_size: {type: INSTANCE_COUNT, value: 1}}\n"),
     "hyperpod.instance_groups[0].scheduled_update", "needs batch_size"),
    ("wait interval", _groups(GPU + "  scheduled_update: {schedule: 'cron(0 3 ? * SUN *)', wait_interval_seconds: 3601}\n"),
     "hyperpod.instance_groups[0].scheduled_update.wait_interval_seconds", "3600"),
    ("model bucket name", "hyperpod:\n  inference_operator: {model_buckets: [My_Bucket]}\n",
     "hyperpod.inference_operator.model_buckets", "naming rules"),
    ("metric level", "hyperpod:\n  observability: {node_metrics: FULL}\n",
     "hyperpod.observability.node_metrics", "ADVANCED"),
    ("autoscaling without continuous provisioning", "hyperpod:\n  autoscaling: {}\n  node_provisioning_mode: null\n",
     "hyperpod", "needs node_provisioning_mode Continuous"),
    ("autoscaling without node recovery", "hyperpod:\n  autoscaling: {}\n  node_recovery: None\n",
     "hyperpod", "node_recovery Automatic"),
    ("autoscaler type", "hyperpod:\n  autoscaling: {autoscaler_type: ClusterAutoscaler}\n",
     "hyperpod.autoscaling.autoscaler_type", "Karpenter"),
    ("tiered storage percentage", "hyperpod:\n  tiered_storage: {instance_memory_percentage: 101}\n",
     "hyperpod.tiered_storage.instance_memory_percentage", "less than or equal to 100"),
    ("restricted groups with continuous provisioning",
     "hyperpod:\n  restricted_instance_groups:\n    - {name: rig, instance_type: ml.p5.48xlarge, instance_count: 1, "
     "fsx_lustre: {size_gib: 1200, throughput_mb_per_tib: 125}}\n",
     "hyperpod", "cannot be created with continuous provisioning"),
    ("fsx too small",
     "hyperpod:\n  node_provisioning_mode: null\n  restricted_instance_groups:\n    - {name: rig, instance_type: "
     "ml.p5.48xlarge, instance_count: 1, fsx_lustre: {size_gib: 1000, throughput_mb_per_tib: 125}}\n",
     "hyperpod.restricted_instance_groups[0].fsx_lustre.size_gib", "greater than or equal to 1200"),
    ("training operator without cert-manager", "hyperpod:\n  install_helm_dependencies: false\n",
     "hyperpod", "install_helm_dependencies"),
    ("deep checks without their sub-chart", "hyperpod:\n  helm_subcharts:\n    deep_health_check: false\n",
     "hyperpod", "helm_subcharts.deep_health_check"),
    ("unknown sub-chart", "hyperpod:\n  helm_subcharts:\n    kuberay: true\n", "hyperpod.helm_subcharts.kuberay", "allowed here"),
]


@pytest.mark.parametrize("case, text, key, hint", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_hyperpod_input_exits_2_naming_the_key(case, text, key, hint, tmp_path, monkeypatch, capsys):
    assert_refused(text, key, hint, tmp_path, monkeypatch, capsys)


def test_training_operator_may_be_off_without_helm_dependencies():
    config = parse({"install_helm_dependencies": False, "enable_training_operator": False})
    assert config.hyperpod.installs_cert_manager is False


def test_every_hyperpod_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as error:
        parse({"cluster_name": "bad name", "node_recovery": "Never"})
    assert [p.path for p in error.value.problems] == ["hyperpod.cluster_name", "hyperpod.node_recovery"]


def test_readme_example_is_a_valid_configuration():
    import re

    import yaml

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## SageMaker HyperPod", 1)[1]
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))
    hyperpod = parse_config(example, today=TODAY).hyperpod
    assert hyperpod.instance_groups[0].availability_zone == "us-west-2a"
    assert hyperpod.instance_groups[0].taints[0].effect == "NoSchedule"
