"""The rendered EC2NodeClasses, NodePools and Bottlerocket user data (no synth needed)."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from modules.config import parse_config
from modules.karpenter.pools import Pools, platform_pools
from tests.karpenter_v1 import node_class_problems, node_pool_problems

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "charts" / "karpenter-nodepools"
REFERENCE_CRDS = REPO.parent / "shared" / "reference" / "karpenter"


def render(overrides: dict | None = None) -> Pools:
    config = parse_config(overrides or {})
    return platform_pools(config.karpenter, config.cluster_name, f"{config.name}-karpenter-node", config.tags)


@pytest.fixture(scope="module")
def values() -> dict:
    """The chart values as Helm will read them: parsed back from the rendered YAML."""
    return yaml.safe_load(render().values_yaml())


def by_name(manifests: list[dict]) -> dict[str, dict]:
    return {manifest["metadata"]["name"]: manifest for manifest in manifests}


def user_data(node_class: dict) -> dict:
    return tomllib.loads(node_class["spec"]["userData"])


def requirement(pool: dict, key: str, operator: str = "In") -> list[str]:
    found = [
        r["values"] for r in pool["spec"]["template"]["spec"]["requirements"] if (r["key"], r["operator"]) == (key, operator)
    ]
    assert len(found) == 1, f"{key} {operator} appears {len(found)} times"
    return found[0]


def test_rendered_yaml_round_trips_to_the_same_manifests():
    pools = render()
    assert yaml.safe_load(pools.values_yaml()) == pools.values()
    assert "&id" not in pools.values_yaml(), "no YAML anchors in what Helm reads"


def test_values_hold_no_terraform_template_syntax(values):
    text = render().values_yaml()
    assert "${" not in text and "%{" not in text, "Terraform would interpolate these in the values string"


def test_classes_and_pools_are_the_expected_ones(values):
    assert list(by_name(values["nodeClasses"])) == ["default", "h100-gpu"]
    assert list(by_name(values["nodePools"])) == ["default", "p5-gpu-h100"]


def test_every_manifest_is_a_valid_karpenter_v1_object(values):
    for node_class in values["nodeClasses"]:
        assert node_class_problems(node_class) == [], node_class["metadata"]["name"]
    for node_pool in values["nodePools"]:
        assert node_pool_problems(node_pool) == [], node_pool["metadata"]["name"]


def test_structural_checks_catch_broken_manifests(values):
    pool = copy.deepcopy(values["nodePools"][0])
    pool["spec"]["template"]["spec"]["requirements"][0]["operator"] = "Between"
    del pool["spec"]["template"]["spec"]["nodeClassRef"]["group"]
    pool["spec"]["disruption"]["consolidationPolicy"] = "WhenIdle"
    problems = node_pool_problems(pool)
    assert any("Between" in p for p in problems)
    assert any("nodeClassRef.group" in p for p in problems)
    assert any("WhenIdle" in p for p in problems)
    node_class = copy.deepcopy(values["nodeClasses"][0])
    node_class["spec"]["instanceProfile"] = "x"
    node_class["spec"]["metadataOptions"]["httpTokens"] = "always"
    node_class["spec"]["blockDeviceMappings"][0]["ebs"]["volumeSize"] = "100GB"
    problems = node_class_problems(node_class)
    assert len(problems) == 3, problems


def test_pools_reference_existing_node_classes(values):
    classes = set(by_name(values["nodeClasses"]))
    for pool in values["nodePools"]:
        ref = pool["spec"]["template"]["spec"]["nodeClassRef"]
        assert (ref["group"], ref["kind"]) == ("karpenter.k8s.aws", "EC2NodeClass")
        assert ref["name"] in classes


def test_node_classes_are_bottlerocket_with_discovery_selectors_and_the_node_role(values):
    for node_class in values["nodeClasses"]:
        spec = node_class["spec"]
        assert spec["amiSelectorTerms"] == [{"alias": "bottlerocket@latest"}]
        assert spec["role"] == "ml-platform-karpenter-node"
        discovery = [{"tags": {"karpenter.sh/discovery": "ml-platform"}}]
        assert spec["subnetSelectorTerms"] == discovery
        assert spec["securityGroupSelectorTerms"] == discovery


def test_node_classes_require_imdsv2_and_encrypt_every_volume(values):
    for node_class in values["nodeClasses"]:
        spec = node_class["spec"]
        assert spec["metadataOptions"]["httpTokens"] == "required"
        assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
        volumes = spec["blockDeviceMappings"]
        assert [v["deviceName"] for v in volumes] == ["/dev/xvda", "/dev/xvdb"]
        assert all(v["ebs"]["encrypted"] is True and v["ebs"]["volumeType"] == "gp3" for v in volumes)


def test_node_classes_tag_instances_with_the_platform_tags(values):
    for node_class in values["nodeClasses"]:
        assert node_class["spec"]["tags"] == {"managed-by": "cdktf", "project": "ml-platform"}


SOCI_PATH = ("settings", "container-runtime-plugins", "soci-snapshotter")


def soci_settings(node_class: dict) -> dict:
    settings = user_data(node_class)
    for key in SOCI_PATH:
        settings = settings[key]
    return settings


@pytest.mark.parametrize(
    "node_class, expected",
    [
        ("default", (10, "16mb", 10, True)),
        ("h100-gpu", (30, "32mb", 30, True)),
    ],
)
def test_soci_parallel_pull_settings_have_the_values_and_toml_types_bottlerocket_expects(values, node_class, expected):
    data = user_data(by_name(values["nodeClasses"])[node_class])
    assert data["settings"]["container-runtime"] == {"snapshotter": "soci"}
    soci = soci_settings(by_name(values["nodeClasses"])[node_class])
    assert soci["pull-mode"] == "parallel-pull-unpack"
    parallel = soci["parallel-pull-unpack"]
    got = (
        parallel["max-concurrent-downloads-per-image"],
        parallel["concurrent-download-chunk-size"],
        parallel["max-concurrent-unpacks-per-image"],
        parallel["discard-unpacked-layers"],
    )
    assert got == expected
    # A wrong TOML type (a quoted number, a "true" string) stops Bottlerocket from booting.
    assert [type(value) for value in got] == [int, str, int, bool]


def test_h100_binds_containerd_kubelet_pod_logs_and_soci_onto_the_instance_store(values):
    data = user_data(by_name(values["nodeClasses"])["h100-gpu"])
    command = data["settings"]["bootstrap-commands"]["k8s-ephemeral-storage"]
    assert command["essential"] is True and command["mode"] == "always"
    init, bind = command["commands"]
    assert init == ["apiclient", "ephemeral-storage", "init"]
    assert bind[:4] == ["apiclient", "ephemeral-storage", "bind", "--dirs"]
    assert set(bind[4:]) == {"/var/lib/containerd", "/var/lib/kubelet", "/var/log/pods", "/var/lib/soci-snapshotter"}
    assert all(isinstance(arg, str) for arg in init + bind)
    spec = by_name(values["nodeClasses"])["h100-gpu"]["spec"]
    assert "instanceStorePolicy" not in spec, "Karpenter's RAID0 commands would collide with these"


def test_default_class_keeps_data_on_ebs(values):
    data = user_data(by_name(values["nodeClasses"])["default"])
    assert "bootstrap-commands" not in data["settings"]


def test_default_pool_is_general_purpose_spot_and_on_demand(values):
    pool = by_name(values["nodePools"])["default"]
    assert requirement(pool, "karpenter.k8s.aws/instance-category") == ["c", "m", "r"]
    assert requirement(pool, "karpenter.k8s.aws/instance-cpu", "Gt") == ["3"]
    assert requirement(pool, "karpenter.k8s.aws/instance-cpu", "Lt") == ["33"]
    assert requirement(pool, "karpenter.sh/capacity-type") == ["spot", "on-demand"]
    assert requirement(pool, "kubernetes.io/arch") == ["amd64"]
    assert pool["spec"]["limits"] == {"cpu": "1000", "memory": "4000Gi"}
    assert pool["spec"]["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"}
    assert "taints" not in pool["spec"]["template"]["spec"]


def test_vcpu_bounds_are_inclusive():
    pool = by_name(render({"karpenter": {"default_pool": {"min_vcpu": 8, "max_vcpu": 8}}}).values()["nodePools"])["default"]
    assert requirement(pool, "karpenter.k8s.aws/instance-cpu", "Gt") == ["7"]
    assert requirement(pool, "karpenter.k8s.aws/instance-cpu", "Lt") == ["9"]


def quantity(text: str) -> float:
    number, unit = re.match(r"^([0-9.]+)(Gi|Ti)?$", text).groups()
    return float(number) * {"Gi": 1, "Ti": 1024, None: 1}[unit]


def test_gpu_pool_is_tainted_spot_h100_with_room_for_a_whole_p5(values):
    pool = by_name(values["nodePools"])["p5-gpu-h100"]
    template = pool["spec"]["template"]["spec"]
    assert requirement(pool, "node.kubernetes.io/instance-type") == ["p5.48xlarge"]
    assert requirement(pool, "karpenter.sh/capacity-type") == ["spot"]
    assert template["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    limits = pool["spec"]["limits"]
    assert int(limits["cpu"]) >= 192
    assert quantity(limits["memory"]) >= 2048
    assert int(limits["nvidia.com/gpu"]) >= 8
    assert pool["spec"]["disruption"]["consolidationPolicy"] == "WhenEmpty"


def test_gpu_pool_follows_its_configuration():
    pools = render({"karpenter": {"gpu_pool": {"instance_types": ["p4d.24xlarge"], "capacity_types": ["spot", "reserved"]}}})
    pool = by_name(pools.values()["nodePools"])["p5-gpu-h100"]
    assert requirement(pool, "node.kubernetes.io/instance-type") == ["p4d.24xlarge"]
    assert requirement(pool, "karpenter.sh/capacity-type") == ["spot", "reserved"]


def test_same_configuration_renders_identical_values():
    assert render().values_yaml() == render().values_yaml()


def test_chart_emits_exactly_the_rendered_values():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "karpenter-nodepools"
    referenced = set()
    for template in (CHART / "templates").glob("*.yaml"):
        referenced |= set(re.findall(r"\.Values\.(\w+)", template.read_text()))
    assert referenced == set(render().values()) == set(yaml.safe_load((CHART / "values.yaml").read_text()))


@pytest.mark.skipif(not REFERENCE_CRDS.is_dir(), reason="reference CRDs (../shared) are not on this machine")
def test_manifests_validate_against_the_reference_crds(values):
    jsonschema = pytest.importorskip("jsonschema")
    schemas = {}
    for path in REFERENCE_CRDS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
        schemas[crd["spec"]["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    for manifest in values["nodeClasses"] + values["nodePools"]:
        jsonschema.validate(manifest, schemas[manifest["kind"]])


def test_tags_karpenter_reserves_are_left_to_karpenter():
    pools = render({"tags": {"team": "research", "karpenter.sh/nodepool": "x", "kubernetes.io/cluster/other": "owned"}})
    for node_class in pools.values()["nodeClasses"]:
        assert node_class["spec"]["tags"] == {"team": "research"}
