"""``karpenter.*`` configuration: defaults, overrides and bad input refused naming the key."""

from __future__ import annotations

import pytest

from modules.config import ConfigError, parse_config
from modules.config.karpenter import DEFAULT_POOL, GPU_NODE_CLASS, GPU_POOL, PoolConfig
from tests.bad_input import assert_refused


def test_defaults_are_the_two_seed_pools():
    karpenter = parse_config({}).karpenter
    assert karpenter.chart_version == "1.14.1"
    assert karpenter.controller_replicas == 2
    general, gpu = karpenter.pools
    assert (general.kind, general.pool_name, general.node_class_name) == ("general", "default", "default")
    assert general.capacity_types == ["spot", "on-demand"]
    assert (general.min_vcpu, general.max_vcpu) == (4, 32)
    assert (gpu.kind, gpu.pool_name, gpu.node_class_name) == ("gpu", GPU_POOL, GPU_NODE_CLASS)
    assert gpu.instance_types == ["p5.48xlarge"]
    assert gpu.capacity_types == ["spot"]
    assert not gpu.efa and gpu.zones == [] and gpu.capacity_reservations == [] and gpu.placement_group is None
    assert karpenter.tfvars_pool == (1, gpu)


def test_gpu_pool_can_switch_to_a100_on_demand():
    (gpu,) = pools([{"kind": "gpu", "instance_types": ["p4d.24xlarge"], "capacity_types": ["spot", "on-demand"]}])
    assert gpu.instance_types == ["p4d.24xlarge"]
    assert gpu.capacity_types == ["spot", "on-demand"]


def test_soci_tuning_overrides_keep_the_other_defaults_of_the_kind():
    gpu, general = pools([
        {"kind": "gpu", "soci": {"max_concurrent_downloads_per_image": 40}},
        {"kind": "general", "soci": {"max_concurrent_unpacks_per_image": 5}},
    ])
    assert gpu.soci.max_concurrent_downloads_per_image == 40
    assert gpu.soci.concurrent_download_chunk_size == "32mb"
    assert (general.soci.max_concurrent_unpacks_per_image, general.soci.concurrent_download_chunk_size) == (5, "16mb")


@pytest.mark.parametrize(
    "instance_types, pool, node_class",
    [
        (["p5.48xlarge"], "p5-gpu-h100", "h100-gpu"),
        (["g6e.48xlarge"], "g6e-gpu-l40s", "l40s-gpu"),
        (["p5en.48xlarge", "p5e.48xlarge"], "p5en-p5e-gpu-h200", "h200-gpu"),
        (["p5en.48xlarge", "p5.48xlarge"], "p5en-p5-gpu-h200-h100", "h200-h100-gpu"),
        (["g6.xlarge", "g6.2xlarge"], "g6-gpu-l4", "l4-gpu"),
    ],
)
def test_unnamed_gpu_pools_are_named_after_their_gpus(instance_types, pool, node_class):
    (found,) = pools([{"kind": "gpu", "instance_types": instance_types}])
    assert (found.pool_name, found.node_class_name) == (pool, node_class)


def test_named_pools_keep_their_names_and_name_their_class():
    (gpu,) = pools([{"kind": "gpu", "name": "inference", "instance_types": ["g6e.48xlarge"]}])
    assert (gpu.pool_name, gpu.node_class_name) == ("inference", "inference")
    (gpu,) = pools([{"kind": "gpu", "name": "inference", "node_class": "l40s"}])
    assert (gpu.pool_name, gpu.node_class_name) == ("inference", "l40s")


def test_capacity_reservations_and_capacity_blocks_by_id_or_tags():
    (gpu,) = pools([{
        "kind": "gpu",
        "capacity_types": ["reserved", "on-demand"],
        "capacity_reservations": [
            {"id": "cr-0123456789abcdef0"},
            {"tags": {"purpose": "training"}, "owner_id": "123456789012"},
            {"instance_match_criteria": "targeted", "tags": {"team": "*"}},
        ],
    }])
    assert [t.manifest() for t in gpu.capacity_reservations] == [
        {"id": "cr-0123456789abcdef0"},
        {"tags": {"purpose": "training"}, "ownerID": "123456789012"},
        {"tags": {"team": "*"}, "instanceMatchCriteria": "targeted"},
    ]


def test_efa_zone_and_placement_group():
    (gpu,) = pools([{"kind": "gpu", "efa": True, "zones": ["us-west-2a"], "placement_group": {"name": "training"}}])
    assert gpu.efa and gpu.zones == ["us-west-2a"] and gpu.placement_group.name == "training"
    assert parse_config({"karpenter": {"pools": [{"kind": "gpu", "efa": True}]}}).karpenter.efa_pools == [
        PoolConfig(kind="gpu", efa=True)
    ]


def test_a_configuration_without_gpu_pools_has_no_tfvars_pool():
    karpenter = parse_config({"karpenter": {"pools": [{"kind": "general"}]}}).karpenter
    assert karpenter.tfvars_pool is None
    assert [p.pool_name for p in karpenter.pools] == [DEFAULT_POOL]


def pools(entries: list[dict]) -> list[PoolConfig]:
    return parse_config({"karpenter": {"pools": entries}}).karpenter.pools


BAD_INPUTS = [
    ("chart before 1.5", 'karpenter:\n  chart_version: "1.4.0"\n', "karpenter.chart_version", "1.5.0"),
    ("chart with a v", 'karpenter:\n  chart_version: "v1.14.1"\n', "karpenter.chart_version", "leading"),
    ("replicas", "karpenter:\n  controller_replicas: 0\n", "karpenter.controller_replicas", "greater"),
    ("the old gpu_pool key", "karpenter:\n  gpu_pool:\n    instance_types: [p5.48xlarge]\n", "karpenter", "karpenter.pools"),
    ("no pools", "karpenter:\n  pools: []\n", "karpenter.pools", "at least 1"),
    ("pool without kind", "karpenter:\n  pools:\n    - name: x\n", "karpenter.pools[0]", "general"),
    ("unknown kind", "karpenter:\n  pools:\n    - kind: tpu\n", "karpenter.pools[0]", "'tpu'"),
    ("a gpu setting on a general pool", "karpenter:\n  pools:\n    - kind: general\n      instance_types: [p5.48xlarge]\n", "karpenter.pools[0]", "not a setting of a general pool"),
    ("efa on a general pool", "karpenter:\n  pools:\n    - kind: general\n      efa: true\n", "karpenter.pools[0]", "efa"),
    ("a general setting on a gpu pool", "karpenter:\n  pools:\n    - kind: gpu\n      min_vcpu: 8\n", "karpenter.pools[0]", "gpu pools: instance_types, efa"),
    ("capacity type", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: [cheap]\n", "karpenter.pools[0].capacity_types[0]", "spot"),
    ("repeated capacity type", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: [spot, spot]\n", "karpenter.pools[0].capacity_types", "more than once"),
    ("empty capacity types", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: []\n", "karpenter.pools[0].capacity_types", "at least 1"),
    ("gpu instance type", "karpenter:\n  pools:\n    - kind: gpu\n      instance_types: [ml.p5.48xlarge]\n", "karpenter.pools[0].instance_types[0]", "EC2"),
    ("gpu limits below one instance", "karpenter:\n  pools:\n    - kind: gpu\n      limits: {cpu: 96, memory_gi: 2048, gpus: 8}\n", "karpenter.pools[0]", "p5.48xlarge"),
    ("gpu limits missing gpus", "karpenter:\n  pools:\n    - kind: gpu\n      limits: {cpu: 192, memory_gi: 2048}\n", "karpenter.pools[0]", "limits.gpus is required"),
    ("gpus on a general pool", "karpenter:\n  pools:\n    - kind: general\n      limits: {cpu: 10, memory_gi: 20, gpus: 1}\n", "karpenter.pools[0]", "no GPUs"),
    ("vcpu range", "karpenter:\n  pools:\n    - kind: general\n      min_vcpu: 64\n", "karpenter.pools[0]", "max_vcpu"),
    ("category", "karpenter:\n  pools:\n    - kind: general\n      instance_categories: [p]\n", "karpenter.pools[0].instance_categories[0]", "'c'"),
    ("architecture", "karpenter:\n  pools:\n    - kind: general\n      architectures: [x86]\n", "karpenter.pools[0].architectures[0]", "amd64"),
    ("consolidation policy", "karpenter:\n  pools:\n    - kind: general\n      disruption: {consolidation_policy: Always, consolidate_after: 1m}\n",
     "karpenter.pools[0].disruption.consolidation_policy", "WhenEmpty"),
    ("consolidate after", "karpenter:\n  pools:\n    - kind: gpu\n      disruption: {consolidation_policy: WhenEmpty, consolidate_after: 10 minutes}\n",
     "karpenter.pools[0].disruption.consolidate_after", "duration"),
    ("expire after", "karpenter:\n  pools:\n    - kind: general\n      expire_after: 30d\n", "karpenter.pools[0].expire_after", "duration"),
    ("chunk size", "karpenter:\n  pools:\n    - kind: gpu\n      soci:\n        concurrent_download_chunk_size: 32MB\n", "karpenter.pools[0].soci.concurrent_download_chunk_size", "16mb"),
    ("chunk size as a number", "karpenter:\n  pools:\n    - kind: gpu\n      soci:\n        concurrent_download_chunk_size: 32\n", "karpenter.pools[0].soci.concurrent_download_chunk_size", "string"),
    ("downloads as a string", "karpenter:\n  pools:\n    - kind: gpu\n      soci:\n        max_concurrent_downloads_per_image: '30'\n", "karpenter.pools[0].soci.max_concurrent_downloads_per_image", "integer"),
    ("discard as a string", "karpenter:\n  pools:\n    - kind: general\n      soci:\n        discard_unpacked_layers: 'yes'\n", "karpenter.pools[0].soci.discard_unpacked_layers", "boolean"),
    ("data volume", "karpenter:\n  pools:\n    - kind: gpu\n      data_volume_gb: 5\n", "karpenter.pools[0].data_volume_gb", "20"),
    ("unknown pool key", "karpenter:\n  pools:\n    - kind: gpu\n      gpu_type: h100\n", "karpenter.pools[0].gpu_type", "instance_types"),
    ("pool name", "karpenter:\n  pools:\n    - kind: gpu\n      name: P5_Pool\n", "karpenter.pools[0].name", "lowercase"),
    ("two unnamed general pools", "karpenter:\n  pools:\n    - kind: general\n    - kind: general\n", "karpenter", "pool name default"),
    ("two pools on one class", "karpenter:\n  pools:\n    - {kind: gpu, name: a, node_class: c}\n    - {kind: gpu, name: b, node_class: c}\n",
     "karpenter", "node class name c"),
    ("efa on a type without efa", "karpenter:\n  pools:\n    - kind: gpu\n      efa: true\n      instance_types: [p5.48xlarge, g6e.xlarge]\n      limits: {cpu: 192, memory_gi: 2048, gpus: 8}\n",
     "karpenter.pools[0]", "g6e.xlarge has no EFA"),
    ("zone shape", "karpenter:\n  pools:\n    - kind: gpu\n      zones: [a]\n", "karpenter.pools[0].zones[0]", "availability zone"),
    ("zone of another region", "karpenter:\n  pools:\n    - kind: gpu\n      zones: [eu-west-1a]\n", "karpenter.pools[0].zones 'eu-west-1a' is not in region us-west-2", "us-west-2a"),
    ("reserved without reservations", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: [reserved]\n", "karpenter.pools[0]", "capacity_reservations is empty"),
    ("reservations without reserved", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_reservations: [{id: cr-0123456789abcdef0}]\n", "karpenter.pools[0]", "add reserved"),
    ("reservation id shape", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: [reserved]\n      capacity_reservations: [{id: cr_1}]\n",
     "karpenter.pools[0].capacity_reservations[0].id", "capacity reservation id"),
    ("reservation id and tags", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: [reserved]\n      capacity_reservations: [{id: cr-1, tags: {a: b}}]\n",
     "karpenter.pools[0].capacity_reservations[0]", "on its own"),
    ("empty reservation term", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: [reserved]\n      capacity_reservations: [{}]\n",
     "karpenter.pools[0].capacity_reservations[0]", "give id, tags"),
    ("empty reservation tag value", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: [reserved]\n      capacity_reservations: [{tags: {a: ''}}]\n",
     "karpenter.pools[0].capacity_reservations[0].tags.a", "at least 1"),
    ("owner id", "karpenter:\n  pools:\n    - kind: gpu\n      capacity_types: [reserved]\n      capacity_reservations: [{tags: {a: b}, owner_id: '12'}]\n",
     "karpenter.pools[0].capacity_reservations[0].owner_id", "12-digit"),
    ("reserved on an old chart", 'karpenter:\n  chart_version: "1.5.0"\n  pools:\n    - kind: gpu\n      capacity_types: [reserved]\n      capacity_reservations: [{id: cr-1}]\n',
     "karpenter", "1.6.0"),
    ("placement group name and id", "karpenter:\n  pools:\n    - kind: gpu\n      placement_group: {name: a, id: pg-1}\n", "karpenter.pools[0].placement_group", "exactly one"),
    ("placement group on an old chart", 'karpenter:\n  chart_version: "1.10.0"\n  pools:\n    - kind: gpu\n      placement_group: {name: a}\n',
     "karpenter", "1.11.0"),
]


@pytest.mark.parametrize("case, text, key, hint", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_karpenter_input_exits_2_naming_the_key(case, text, key, hint, tmp_path, monkeypatch, capsys):
    assert_refused(text, f"  - {key}:", hint, tmp_path, monkeypatch, capsys)


def test_all_limits_are_checked_against_the_gpu_shape():
    for limits in ({"cpu": 192, "memory_gi": 1024, "gpus": 8}, {"cpu": 192, "memory_gi": 2048, "gpus": 4}):
        with pytest.raises(ConfigError, match="cannot hold one p5.48xlarge"):
            pools([{"kind": "gpu", "limits": limits}])
    roomy = {"cpu": 384, "memory_gi": 4096, "gpus": 16}
    assert pools([{"kind": "gpu", "limits": roomy}])[0].limits.gpus == 16


def test_the_gpu_pool_takes_only_types_known_to_have_gpus():
    """A type the facts table does not list cannot be known to have a GPU (or to fit the
    limits): it is refused with where to add it, as a CPU type is."""
    for instance_type in ("p6-b300.48xlarge", "m5.24xlarge", "g5g.xlarge"):
        with pytest.raises(ConfigError, match="ec2_instance_types.py"):
            pools([{"kind": "gpu", "instance_types": [instance_type]}])
    (gpu,) = pools([{"kind": "gpu", "instance_types": ["p5en.48xlarge", "g6e.48xlarge"]}])
    assert gpu.instance_types == ["p5en.48xlarge", "g6e.48xlarge"]
