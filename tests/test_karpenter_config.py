"""``karpenter.*`` configuration: defaults, overrides and bad input refused naming the key."""

from __future__ import annotations

import pytest

from modules.config import ConfigError, parse_config
from tests.bad_input import assert_refused


def test_defaults():
    karpenter = parse_config({}).karpenter
    assert karpenter.chart_version == "1.14.1"
    assert karpenter.controller_replicas == 2
    assert karpenter.default_pool.capacity_types == ["spot", "on-demand"]
    assert (karpenter.default_pool.min_vcpu, karpenter.default_pool.max_vcpu) == (4, 32)
    assert karpenter.gpu_pool.instance_types == ["p5.48xlarge"]
    assert karpenter.gpu_pool.capacity_types == ["spot"]


def test_gpu_pool_can_switch_to_a100_on_demand():
    gpu = parse_config(
        {"karpenter": {"gpu_pool": {"instance_types": ["p4d.24xlarge"], "capacity_types": ["spot", "on-demand"]}}}
    ).karpenter.gpu_pool
    assert gpu.instance_types == ["p4d.24xlarge"]
    assert gpu.capacity_types == ["spot", "on-demand"]


def test_soci_tuning_overrides_keep_the_other_defaults():
    soci = parse_config({"karpenter": {"gpu_pool": {"soci": {"max_concurrent_downloads_per_image": 40}}}}).karpenter.gpu_pool.soci
    assert soci.max_concurrent_downloads_per_image == 40
    assert soci.concurrent_download_chunk_size == "32mb"


BAD_INPUTS = [
    ("chart before 1.5", 'karpenter:\n  chart_version: "1.4.0"\n', "karpenter.chart_version", "1.5.0"),
    ("chart with a v", 'karpenter:\n  chart_version: "v1.14.1"\n', "karpenter.chart_version", "leading"),
    ("replicas", "karpenter:\n  controller_replicas: 0\n", "karpenter.controller_replicas", "greater"),
    ("capacity type", "karpenter:\n  gpu_pool:\n    capacity_types: [cheap]\n", "karpenter.gpu_pool.capacity_types[0]", "spot"),
    ("empty capacity types", "karpenter:\n  gpu_pool:\n    capacity_types: []\n", "karpenter.gpu_pool.capacity_types", "at least 1"),
    ("gpu instance type", "karpenter:\n  gpu_pool:\n    instance_types: [ml.p5.48xlarge]\n", "karpenter.gpu_pool.instance_types[0]", "EC2"),
    (
        "gpu limits below one instance",
        "karpenter:\n  gpu_pool:\n    limits: {cpu: 96, memory_gi: 2048, gpus: 8}\n",
        "karpenter.gpu_pool",
        "p5.48xlarge",
    ),
    ("gpu limits missing gpus", "karpenter:\n  gpu_pool:\n    limits: {cpu: 192, memory_gi: 2048}\n", "karpenter.gpu_pool.limits.gpus", "required"),
    ("vcpu range", "karpenter:\n  default_pool:\n    min_vcpu: 64\n", "karpenter.default_pool", "max_vcpu"),
    ("category", "karpenter:\n  default_pool:\n    instance_categories: [p]\n", "karpenter.default_pool.instance_categories[0]", "'c'"),
    ("architecture", "karpenter:\n  default_pool:\n    architectures: [x86]\n", "karpenter.default_pool.architectures[0]", "amd64"),
    (
        "consolidation policy",
        "karpenter:\n  default_pool:\n    disruption: {consolidation_policy: Always, consolidate_after: 1m}\n",
        "karpenter.default_pool.disruption.consolidation_policy",
        "WhenEmpty",
    ),
    (
        "consolidate after",
        "karpenter:\n  gpu_pool:\n    disruption: {consolidation_policy: WhenEmpty, consolidate_after: 10 minutes}\n",
        "karpenter.gpu_pool.disruption.consolidate_after",
        "duration",
    ),
    ("expire after", "karpenter:\n  default_pool:\n    expire_after: 30d\n", "karpenter.default_pool.expire_after", "duration"),
    ("chunk size", "karpenter:\n  gpu_pool:\n    soci:\n      concurrent_download_chunk_size: 32MB\n", "karpenter.gpu_pool.soci.concurrent_download_chunk_size", "16mb"),
    ("chunk size as a number", "karpenter:\n  gpu_pool:\n    soci:\n      concurrent_download_chunk_size: 32\n", "karpenter.gpu_pool.soci.concurrent_download_chunk_size", "string"),
    ("downloads as a string", "karpenter:\n  gpu_pool:\n    soci:\n      max_concurrent_downloads_per_image: '30'\n", "karpenter.gpu_pool.soci.max_concurrent_downloads_per_image", "integer"),
    ("discard as a string", "karpenter:\n  default_pool:\n    soci:\n      discard_unpacked_layers: 'yes'\n", "karpenter.default_pool.soci.discard_unpacked_layers", "boolean"),
    ("data volume", "karpenter:\n  gpu_pool:\n    data_volume_gb: 5\n", "karpenter.gpu_pool.data_volume_gb", "20"),
    ("unknown pool key", "karpenter:\n  gpu_pool:\n    gpu_type: h100\n", "karpenter.gpu_pool.gpu_type", "instance_types"),
]


@pytest.mark.parametrize("case, text, key, hint", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_karpenter_input_exits_2_naming_the_key(case, text, key, hint, tmp_path, monkeypatch, capsys):
    assert_refused(text, f"  - {key}:", hint, tmp_path, monkeypatch, capsys)


def test_all_limits_are_checked_against_the_gpu_shape():
    for limits in ({"cpu": 192, "memory_gi": 1024, "gpus": 8}, {"cpu": 192, "memory_gi": 2048, "gpus": 4}):
        with pytest.raises(ConfigError, match="cannot hold one p5.48xlarge"):
            parse_config({"karpenter": {"gpu_pool": {"limits": limits}}})
    roomy = {"cpu": 384, "memory_gi": 4096, "gpus": 16}
    assert parse_config({"karpenter": {"gpu_pool": {"limits": roomy}}}).karpenter.gpu_pool.limits.gpus == 16


def test_the_gpu_pool_takes_only_types_known_to_have_gpus():
    """A type the facts table does not list cannot be known to have a GPU (or to fit the
    limits): it is refused with where to add it, as a CPU type is."""
    for instance_type in ("p6-b300.48xlarge", "m5.24xlarge", "g5g.xlarge"):
        with pytest.raises(ConfigError, match="ec2_instance_types.py"):
            parse_config({"karpenter": {"gpu_pool": {"instance_types": [instance_type]}}})
    config = parse_config({"karpenter": {"gpu_pool": {"instance_types": ["p5en.48xlarge", "g6e.48xlarge"]}}})
    assert config.karpenter.gpu_pool.instance_types == ["p5en.48xlarge", "g6e.48xlarge"]
