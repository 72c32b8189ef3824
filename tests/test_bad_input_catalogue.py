"""The bad-input catalogue: one row per distinct mistake, across every subsystem.

Each row is a configuration file as a user would write it. Every one must end the program
with exit code 2, name the key (or the file) in its message with a hint of the fix, print
no traceback, and leave an existing cdktf.out exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cli import run
from modules.config import CONFIG_ENV_VAR
from tests.bad_input import assert_refused


def group(**fields):
    return {"name": "workers", "instance_type": "ml.g5.xlarge", "instance_count": 2, **fields}


def as_yaml(data) -> str:
    return yaml.safe_dump(data, sort_keys=False)


# (case, file content, key named in the message, hint of the fix or the allowed values)
CATALOGUE = [
    # --- the file itself
    ("malformed YAML", "vpc: [unclosed\n", "invalid YAML", "line"),
    ("duplicate key", "region: us-west-2\nregion: eu-west-1\n", "duplicate key", "region"),
    ("top level is a list", "- region\n", "top level", "mapping"),
    ("not UTF-8", b"region: \xff\xfe\n", "cannot read", "HYPERPOD_EKS_CONFIG"),
    # --- platform
    ("unknown top-level key", "regoin: us-west-2\n", "regoin", "allowed here"),
    ("name pattern", "name: ML_Platform\n", "name", "lowercase"),
    ("region shape", "region: Oregon\n", "region", "us-west-2"),
    ("version unquoted", "kubernetes_version: 1.33\n", "kubernetes_version", "quoted"),
    ("version unknown", 'kubernetes_version: "1.99"\n', "kubernetes_version", "1.33"),
    ("version past extended support", 'kubernetes_version: "1.30"\n', "kubernetes_version", "ended"),
    ("tag key reserved", "tags:\n  'aws:owner': me\n", "tags", "aws:"),
    # --- network
    ("unknown nested key", "vpc:\n  nat: single\n", "vpc.nat", "allowed here"),
    ("nat enum", "vpc:\n  nat_gateways: two\n", "vpc.nat_gateways", "one_per_az"),
    ("cidr syntax", "vpc:\n  cidr: 10.0.0.0/33\n", "vpc.cidr", "IPv4"),
    ("cidr leaves no room for the plan", "vpc:\n  cidr: 10.0.0.0/20\n", "vpc.cidr", "room"),
    ("cidr larger than AWS allows", "vpc:\n  cidr: 10.0.0.0/8\n", "vpc.cidr", "/16"),
    ("max_azs range", "vpc:\n  max_azs: 12\n", "vpc.max_azs", "8"),
    ("flow log traffic enum", "vpc:\n  flow_logs:\n    traffic_type: SOME\n", "vpc.flow_logs.traffic_type", "REJECT"),
    # --- eks
    ("public cidr", "eks:\n  public_access_cidrs: [everyone]\n", "eks.public_access_cidrs", "IPv4"),
    ("no endpoint at all", "eks:\n  endpoint_public_access: false\n  endpoint_private_access: false\n", "eks", "at least one"),
    ("node sizes out of order", "eks:\n  system_node_group:\n    min_size: 3\n    desired_size: 2\n", "eks.system_node_group", "min_size"),
    ("node size type", "eks:\n  system_node_group:\n    desired_size: two\n", "eks.system_node_group.desired_size", "integer"),
    ("ml type on EC2 nodes", "eks:\n  system_node_group:\n    instance_types: [ml.g5.xlarge]\n", "eks.system_node_group.instance_types", "EC2"),
    ("log retention value", "eks:\n  log_retention_days: 100\n", "eks.log_retention_days", "365"),
    ("standard support on an extended version", "eks:\n  upgrade_policy:\n    support_type: STANDARD\n", "eks.upgrade_policy.support_type", "EXTENDED"),
    # --- state
    ("s3 state without a bucket", "state:\n  backend: s3\n", "state.s3_bucket", "bucket"),
    ("absolute local state path", "state:\n  local_path: /var/tf.tfstate\n", "state.local_path", "relative"),
    # --- karpenter
    ("karpenter chart too old", 'karpenter:\n  chart_version: "1.4.0"\n', "karpenter.chart_version", "1.5.0"),
    ("gpu capacity type enum", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: [cheap]\n", "karpenter.pools[0].capacity_types[0]", "spot"),
    ("gpu limits below one instance", as_yaml({"karpenter": {"pools": [{"kind": "gpu", "limits": {"cpu": 8, "memory_gi": 64, "gpus": 1}}]}}), "karpenter.pools[0]", "raise limits"),
    ("vcpu bounds inverted", as_yaml({"karpenter": {"pools": [{"kind": "general", "min_vcpu": 64, "max_vcpu": 8}]}}), "karpenter.pools[0]", "max_vcpu"),
    ("soci chunk size format", as_yaml({"karpenter": {"pools": [{"kind": "general", "soci": {"concurrent_download_chunk_size": "lots"}}]}}), "concurrent_download_chunk_size", "16mb"),
    ("soci concurrency range", as_yaml({"karpenter": {"pools": [{"kind": "gpu", "soci": {"max_concurrent_downloads_per_image": 0}}]}}), "max_concurrent_downloads_per_image", "greater than or equal to 1"),
    # --- hyperpod
    ("hyperpod cluster name", "hyperpod:\n  cluster_name: bad_name!\n", "hyperpod.cluster_name", "1-63"),
    ("node recovery enum", "hyperpod:\n  node_recovery: Manual\n", "hyperpod.node_recovery", "Automatic"),
    ("instance type without ml.", as_yaml({"hyperpod": {"instance_groups": [group(instance_type="g5.xlarge")]}}), "hyperpod.instance_groups[0].instance_type", "ml.g5.xlarge"),
    ("min above count", as_yaml({"hyperpod": {"instance_groups": [group(instance_count=1, min_instance_count=3)]}}), "hyperpod.instance_groups[0]", "min_instance_count"),
    ("deep health checks on a CPU type", as_yaml({"hyperpod": {"instance_groups": [group(instance_type="ml.m5.xlarge", deep_health_checks=["InstanceStress"])]}}), "hyperpod.instance_groups[0]", "remove deep_health_checks"),
    ("ebs volume range", as_yaml({"hyperpod": {"instance_groups": [group(ebs_volume_gb=20000)]}}), "hyperpod.instance_groups[0].ebs_volume_gb", "16384"),
    ("threads per core", as_yaml({"hyperpod": {"instance_groups": [group(threads_per_core=4)]}}), "hyperpod.instance_groups[0].threads_per_core", "less than or equal to 2"),
    ("duplicate group names", as_yaml({"hyperpod": {"instance_groups": [group(), group()]}}), "hyperpod.instance_groups", "used twice"),
    ("group field missing", as_yaml({"hyperpod": {"instance_groups": [{"name": "a", "instance_count": 1}]}}), "hyperpod.instance_groups[0].instance_type", "required"),
    ("taint effect enum", as_yaml({"hyperpod": {"instance_groups": [group(taints=[{"key": "k", "value": "v", "effect": "Sometimes"}])]}}), "taints[0].effect", "NoSchedule"),
    ("training operator without its helm dependencies", as_yaml({"hyperpod": {"install_helm_dependencies": False, "enable_training_operator": True}}), "hyperpod", "install_helm_dependencies"),
    # --- crashes before: values the schemas forbid, odd YAML shapes
    ("tag value with braces", "tags:\n  owner: 'bad{value}'\n", "tags.owner", "Unicode letters"),
    ("tag value too long", as_yaml({"tags": {"owner": "x" * 257}}), "tags.owner", "256"),
    ("tag key with a star", "tags:\n  'cost*center': x\n", "tags['cost*center'] (the key)", "Unicode letters"),
    ("tag values with HyperPod off", "hyperpod:\n  enabled: false\ntags:\n  team: 'a|b'\n", "tags.team", "Unicode letters"),
    ("name ending in a newline", "name: |\n  ml-platform\n", "name", "newline"),
    ("group name with a trailing space", as_yaml({"hyperpod": {"instance_groups": [group(name="workers ")]}}), "hyperpod.instance_groups[0].name", "whitespace"),
    ("chart version from a block", 'karpenter:\n  chart_version: |\n    1.14.1\n', "karpenter.chart_version", "newline"),
    ("a mapping as a key", "{region: x}: us-west-2\n", "invalid YAML", "plain name"),
    ("a list as a key", "? [a, b]\n: 1\n", "invalid YAML", "plain name"),
    ("deep nesting", "vpc: " + "[" * 60 + "]" * 60 + "\n", "invalid YAML", "levels deep"),
    ("very deep nesting", "x: " + "[" * 5000 + "]" * 5000 + "\n", "invalid YAML", "levels deep"),
    # --- exhaust the machine: aliases that expand, a huge file
    ("alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", "invalid YAML", "anchors"),
    ("a single alias", "x: &name us-west-2\nregion: *name\n", "invalid YAML", "anchors"),
    ("a file over a megabyte", "region: us-west-2\n" + "# padding\n" * 110_000, "HYPERPOD_EKS_CONFIG", "more than"),
    # --- accepted with another meaning before
    ("threads per core true", as_yaml({"hyperpod": {"instance_groups": [group(threads_per_core=True)]}}), "hyperpod.instance_groups[0].threads_per_core", "integer"),
    ("instance count true", as_yaml({"hyperpod": {"instance_groups": [group(instance_count=True)]}}), "hyperpod.instance_groups[0].instance_count", "integer"),
    ("max azs as a float", "vpc:\n  max_azs: 3.0\n", "vpc.max_azs", "integer"),
    ("flow logs on as a string", "vpc:\n  flow_logs:\n    enabled: 'yes'\n", "vpc.flow_logs.enabled", "boolean"),
    # --- accepted, refused by AWS only at apply
    ("too many instance groups", as_yaml({"hyperpod": {"instance_groups": [group(name=f"g{i}") for i in range(101)]}}), "hyperpod.instance_groups", "at most 100"),
    ("too many instances in a group", as_yaml({"hyperpod": {"instance_groups": [group(instance_count=7000)]}}), "hyperpod.instance_groups[0].instance_count", "6758"),
    ("too many labels", as_yaml({"hyperpod": {"instance_groups": [group(labels={f"k{i}": "v" for i in range(51)})]}}), "hyperpod.instance_groups[0].labels", "at most 50"),
    ("too many taints", as_yaml({"hyperpod": {"instance_groups": [group(taints=[{"key": f"k{i}", "effect": "NoSchedule"} for i in range(51)])]}}), "hyperpod.instance_groups[0].taints", "at most 50"),
    ("an instance type HyperPod does not offer", as_yaml({"hyperpod": {"instance_groups": [group(instance_type="ml.p3.2xlarge")]}}), "hyperpod.instance_groups[0].instance_type", "offers no HyperPod instance type"),
    ("a zone of another region", as_yaml({"hyperpod": {"instance_groups": [group(availability_zone="eu-west-1a")]}}), "hyperpod.instance_groups[0].availability_zone", "us-west-2a"),
    ("a zone that is no zone", as_yaml({"hyperpod": {"instance_groups": [group(availability_zone="us-west-2")]}}), "hyperpod.instance_groups[0].availability_zone", "availability zone name"),
    ("a region that does not exist", "region: us-west-9\n", "region", "no AWS region"),
    ("a region of the future", "region: xx-north-7\n", "region", "refresh_reference_data"),
    ("system nodes on Graviton", "eks:\n  system_node_group:\n    instance_types: [m7g.large]\n", "eks.system_node_group.instance_types", "x86_64"),
    ("a GPU pool of CPU types", "karpenter:\n  pools:\n    - kind: gpu\n      instance_types: [c5.24xlarge]\n", "karpenter.pools[0].instance_types", "not a GPU instance type"),
    ("state bucket with two dots", "state:\n  backend: s3\n  s3_bucket: my..state\n", "state.s3_bucket", "two dots"),
    ("state bucket like an IP", "state:\n  backend: s3\n  s3_bucket: 192.168.10.1\n", "state.s3_bucket", "IP address"),
    ("state bucket with a reserved suffix", "state:\n  backend: s3\n  s3_bucket: team-state-s3alias\n", "state.s3_bucket", "-s3alias"),
    ("state bucket in capitals", "state:\n  backend: s3\n  s3_bucket: TeamState\n", "state.s3_bucket", "lowercase"),
    ("state region unknown", "state:\n  backend: s3\n  s3_bucket: team-state\n  s3_region: us-west-9\n", "state.s3_region", "no AWS region"),
]


def test_the_catalogue_covers_every_subsystem():
    assert len(CATALOGUE) >= 70
    assert len({case for case, *_ in CATALOGUE}) == len(CATALOGUE)
    named = " ".join(key for _, _, key, _ in CATALOGUE)
    for subsystem in ("region", "vpc.", "eks.", "state.", "karpenter.", "hyperpod.", "invalid YAML"):
        assert subsystem in named


@pytest.mark.parametrize("case, content, key, hint", CATALOGUE, ids=[row[0] for row in CATALOGUE])
def test_bad_input_exits_2_naming_the_key(case, content, key, hint, tmp_path: Path, monkeypatch, capsys):
    assert_refused(content, key, hint, tmp_path, monkeypatch, capsys)


def test_a_folder_instead_of_a_file_is_unreadable(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CONFIG_ENV_VAR, str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        run(lambda app, config: None)
    assert exit_info.value.code == 2
    assert "not a regular file" in capsys.readouterr().err


# The whole process, as a user runs it, on what could exhaust or hang it.
MEMORY_LIMIT = 1 << 30
HOSTILE = {
    "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
    ),
    "deep nesting": "x: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "a file over a megabyte": "region: us-west-2\n" + "#" * (2 << 20) + "\n",
}


def _limited() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _refused_by_main(tmp_path: Path, config: str) -> None:
    import resource
    import subprocess

    from tests.bad_input import MAX_OUTPUT_BYTES, MAX_SECONDS
    from tests.processes import main_command, main_environment

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    started = children_cpu()
    result = subprocess.run(
        main_command(), cwd=tmp_path, env=main_environment(HYPERPOD_EKS_CONFIG=config),
        capture_output=True, timeout=10, preexec_fn=_limited,
    )
    seconds = children_cpu() - started  # the refusing process's CPU time (see tests/bad_input.py)
    assert result.returncode == 2, result.stderr[-500:]
    assert b"Traceback" not in result.stderr
    assert len(result.stdout + result.stderr) < MAX_OUTPUT_BYTES
    assert seconds < MAX_SECONDS, f"{seconds:.2f} s of CPU"
    assert not (tmp_path / "cdktf.out").exists()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused_quickly_in_bounded_memory(case, tmp_path):
    config = tmp_path / "platform.yaml"
    config.write_text(HOSTILE[case])
    _refused_by_main(tmp_path, str(config))


def test_a_named_pipe_and_a_device_are_refused_without_reading_them(tmp_path):
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    _refused_by_main(tmp_path, str(fifo))
    _refused_by_main(tmp_path, "/dev/zero")
