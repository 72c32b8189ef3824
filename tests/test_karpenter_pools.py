"""The EC2NodeClasses, NodePools and Bottlerocket user data: as Terraform hands them to Helm
(the node-pools release's values in the applied state, variables interpolated) and as the
constructs render them for other configurations, each validated against the Karpenter v1
CRDs kept in ``modules/karpenter/crds`` (see SOURCES.md there)."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterator

import jsonschema
import pytest
import yaml

from modules.config import parse_config
from modules.karpenter.pools import Pools, platform_pools
from tests.test_eks import VARIANT, VARIANT_ZONES

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "charts" / "karpenter-nodepools"
CRDS = REPO / "modules" / "karpenter" / "crds"
NODE_POOLS_RELEASE = ("helm_release", "node_pools", "karpenter")
# The GPU pool chosen in terraform.tfvars rather than the YAML.
GPU_TFVARS = {"karpenter_gpu_instance_types": ["p5en.48xlarge", "p5.48xlarge"], "karpenter_gpu_capacity_types": ["spot", "on-demand"]}


def render(overrides: dict | None = None) -> Pools:
    config = parse_config(overrides or {})
    return platform_pools(config.karpenter, config.cluster_name, f"{config.name}-karpenter-node", config.tags)


def helm_values(release: dict) -> dict:
    """A release's values as Helm reads them: the YAML string Terraform interpolated."""
    (values,) = release["values"]
    return yaml.safe_load(values)


@pytest.fixture(scope="module")
def values(deployed) -> dict:
    """The default configuration's chart values, as applied."""
    return helm_values(deployed.find(*NODE_POOLS_RELEASE))


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


# --- The Karpenter v1 CRDs ---------------------------------------------------------------


@cache
def crds() -> dict[str, tuple[str, dict]]:
    """Kind -> (apiVersion, the v1 openAPIV3Schema) of each CRD in the project."""
    found = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
        assert version["served"] and version["storage"], path.name
        found[crd["spec"]["names"]["kind"]] = (f"{crd['spec']['group']}/v1", version["schema"]["openAPIV3Schema"])
    return found


def walk(schema: dict, value: Any, path: str) -> Iterator[tuple[str, dict, Any]]:
    """(path, schema node, value) of every schema node the manifest gives a value."""
    yield path, schema, value
    if isinstance(value, dict):
        for key, item in value.items():
            if key in schema.get("properties", {}):
                yield from walk(schema["properties"][key], item, f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                yield from walk(schema["additionalProperties"], item, f"{path}[{key}]")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from walk(schema["items"], item, f"{path}[{index}]")


# The CRDs' CEL rules (x-kubernetes-validations): the API server evaluates them, jsonschema
# does not. Each rule on a field our manifests set has its check here, keyed by its
# message, as a literal reading of the rule; test_every_cel_rule_on_a_field_we_set_is_checked
# fails for a rule missing here (new CRDs of a newer chart), so none is skipped silently.
# Rules on oldSelf compare an update with the stored object and do not apply to a create.
Check = Callable[[Any, str], bool]


def listed(rule: str) -> list[str]:
    """The string list a rule spells out (``x in ["a", "b"]``)."""
    return json.loads(re.search(r" in (\[[^\]]*\])", rule).group(1))


def domain(key: str) -> str:
    return re.match(r"^([^/]+)", key).group(1)


def label_rules(each: Callable[[Callable[[str], bool]], Callable[[Any, str], bool]]) -> dict[str, Check]:
    """The label key rules, on a labels map (``each`` = all keys) or on one key."""
    return {
        'label "karpenter.sh/nodepool" is restricted': each(lambda k, r: k != "karpenter.sh/nodepool"),
        'label "kubernetes.io/hostname" is restricted': each(lambda k, r: k != "kubernetes.io/hostname"),
        'label domain "karpenter.k8s.aws" is restricted': each(
            lambda k, r: k in listed(r) or not domain(k).endswith("karpenter.k8s.aws")
        ),
        'label domain "karpenter.sh" is restricted': each(lambda k, r: k in listed(r) or not domain(k).endswith("karpenter.sh")),
    }


def selector_terms(allowed: tuple[str, ...], exclusive: dict[str, tuple[str, ...]]) -> dict[str, Check]:
    return {
        **{
            f"'{field}' is mutually exclusive, cannot be set with a combination of other fields in a {what}": (
                lambda s, r, field=field, others=others: not all(field in x and any(o in x for o in others) for x in s)
            )
            for (field, what), others in exclusive.items()
        },
        f"expected at least one, got none, {allowed_text(allowed)}": lambda s, r: all(any(a in x for a in allowed) for x in s),
    }


def allowed_text(fields: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{f}'" for f in fields) + "]"


NO_EMPTY_TAG = {"empty tag keys or values aren't supported": lambda s, r: all(k != "" and v != "" for k, v in s.items())}

CEL_CHECKS: dict[str, Check] = {
    # EC2NodeClass spec
    "must specify exactly one of ['role', 'instanceProfile']": lambda s, r: ("role" in s) != ("instanceProfile" in s),
    "must specify amiFamily if amiSelectorTerms does not contain an alias": lambda s, r: (
        any("alias" in t for t in s["amiSelectorTerms"]) or "amiFamily" in s
    ),
    "role cannot be empty": lambda s, r: s != "",
    "instanceProfile cannot be empty": lambda s, r: s != "",
    # amiSelectorTerms
    "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms": lambda s, r: not (
        any("alias" in x for x in s) and len(s) != 1
    ),
    "'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms": lambda s, r: not any(
        "alias" in x and any(k in x for k in ("id", "tags", "name", "owner")) for x in s
    ),
    "'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms": lambda s, r: not any(
        "id" in x and any(k in x for k in ("alias", "tags", "name", "owner")) for x in s
    ),
    "expected at least one, got none, ['tags', 'id', 'name', 'alias', 'ssmParameter']": lambda s, r: all(
        any(k in x for k in ("tags", "id", "name", "alias", "ssmParameter")) for x in s
    ),
    "'alias' is improperly formatted, must match the format 'family@version'": lambda s, r: bool(re.search(r"^[a-zA-Z0-9]+@.+$", s)),
    "family is not supported, must be one of the following: 'al2', 'al2023', 'bottlerocket', 'windows2019', 'windows2022', 'windows2025'": (
        lambda s, r: s.split("@")[0] in listed(r.replace("'", '"'))
    ),
    "windows families may only specify version 'latest'": lambda s, r: (
        s.split("@")[1] == "latest" if s.split("@")[0] in ("windows2019", "windows2022", "windows2025") else True
    ),
    # blockDeviceMappings
    "must have only one blockDeviceMappings with rootVolume": lambda s, r: sum(x.get("rootVolume") is True for x in s) <= 1,
    "snapshotID or volumeSize must be defined": lambda s, r: "snapshotID" in s or "volumeSize" in s,
    "snapshotID must be set when volumeInitializationRate is set": lambda s, r: (
        "volumeInitializationRate" not in s or s.get("snapshotID", "") != ""
    ),
    # security group and subnet selectors
    "securityGroupSelectorTerms cannot be empty": lambda s, r: len(s) != 0,
    "subnetSelectorTerms cannot be empty": lambda s, r: len(s) != 0,
    **selector_terms(
        ("tags", "id", "name"),
        {("id", "security group selector term"): ("tags", "name"), ("name", "security group selector term"): ("tags", "id")},
    ),
    **selector_terms(("tags", "id"), {("id", "subnet selector term"): ("tags",)}),
    **NO_EMPTY_TAG,
    # capacityReservationSelectorTerms
    "expected at least one, got none, ['tags', 'id', 'instanceMatchCriteria']": lambda s, r: all(
        any(k in x for k in ("tags", "id", "instanceMatchCriteria")) for x in s
    ),
    # Literally "not every term has id with another field": a single such term is refused.
    "'id' is mutually exclusive, cannot be set along with other fields in a capacity reservation selector term": (
        lambda s, r: not all("id" in x and any(k in x for k in ("tags", "ownerID", "instanceMatchCriteria")) for x in s)
    ),
    # placementGroupSelector
    "expected at least one, got none, ['name', 'id']": lambda s, r: "name" in s or "id" in s,
    "'name' and 'id' are mutually exclusive": lambda s, r: not ("name" in s and "id" in s),
    # the tags of instances, volumes and interfaces
    "empty tag keys aren't supported": lambda s, r: all(k != "" for k in s),
    **{
        f"tag contains a restricted tag matching {tag}": (
            lambda s, r, tag=tag: all(not k.startswith(tag.rstrip("/")) if tag.endswith("/") else k != tag for k in s)
        )
        for tag in (
            "eks:eks-cluster-name",
            "kubernetes.io/cluster/",
            "karpenter.sh/nodepool",
            "karpenter.sh/nodeclaim",
            "karpenter.k8s.aws/ec2nodeclass",
        )
    },
    # NodePool spec (static pools have replicas; ours have none)
    "'weight' is not supported on static NodePools": lambda s, r: "replicas" not in s or "weight" not in s,
    "only 'limits.nodes' is supported on static NodePools": lambda s, r: (
        "replicas" not in s or not s.get("limits") or list(s["limits"]) == ["nodes"]
    ),
    # nodeClassRef
    "group may not be empty": lambda s, r: s != "",
    "kind may not be empty": lambda s, r: s != "",
    "name may not be empty": lambda s, r: s != "",
    # requirements
    "requirements operator 'Gt', 'Lt', 'Gte', or 'Lte' must have a single positive integer value": lambda s, r: all(
        len(x.get("values", [])) == 1 and re.fullmatch(r"[+-]?[0-9]+", x["values"][0]) and int(x["values"][0]) >= 0
        for x in s
        if x["operator"] in ("Gt", "Lt", "Gte", "Lte")
    ),
    "requirements with 'minValues' must have at least that many values specified in the 'values' field": lambda s, r: all(
        len(x.get("values", [])) >= x["minValues"] for x in s if x["operator"] == "In" and "minValues" in x
    ),
    "requirements with operator 'In' must have a value defined": lambda s, r: all(
        len(x.get("values", [])) != 0 for x in s if x["operator"] == "In"
    ),
}
# Keys of a labels map, or one requirement key.
LABEL_MAP_CHECKS = label_rules(lambda check: lambda s, r: all(check(k, r) for k in s))
LABEL_KEY_CHECKS = label_rules(lambda check: lambda s, r: check(s, r))
# "if set, amiFamily must be 'AL2023' or 'Custom' when using an AL2023 alias", one per family.
AMI_FAMILY = re.compile(r"^if set, amiFamily must be '(\w+)' or 'Custom' when using an? (\w+) alias$")


def cel_check(path: str, message: str) -> Check | None:
    if message in CEL_CHECKS:
        return CEL_CHECKS[message]
    if message in LABEL_MAP_CHECKS:
        return (LABEL_KEY_CHECKS if ".requirements[" in path else LABEL_MAP_CHECKS)[message]
    match = AMI_FAMILY.match(message)
    if match:
        family, alias = match.group(1), match.group(2).lower()
        return lambda s, r: "amiFamily" not in s or (
            s["amiFamily"] in ("Custom", family)
            if any(t.get("alias", "").split("@")[0] == alias for t in s["amiSelectorTerms"])
            else True
        )
    return None


def cel_rules(manifest: dict) -> Iterator[tuple[str, dict, Any]]:
    """(path, rule, value) of every CEL rule on a field the manifest sets."""
    _, schema = crds()[manifest["kind"]]
    for path, node, value in walk(schema, manifest, manifest["kind"]):
        for rule in node.get("x-kubernetes-validations", []):
            yield path, rule, value


def crd_problems(manifest: dict) -> list[str]:
    """What the API server would refuse in a manifest: its kind and name, the v1 schema
    (jsonschema) and the CEL rules."""
    if manifest.get("kind") not in crds():
        return [f"no CRD of kind {manifest.get('kind')!r}"]
    api_version, schema = crds()[manifest["kind"]]
    problems = []
    if manifest.get("apiVersion") != api_version:
        problems.append(f"apiVersion {manifest.get('apiVersion')!r} is not {api_version}")
    name = manifest.get("metadata", {}).get("name", "")
    if not (re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name) and len(name) <= 253):
        problems.append(f"metadata.name {name!r} is not a DNS subdomain name")
    for error in jsonschema.Draft4Validator(schema).iter_errors(manifest):
        problems.append(f"{'.'.join(str(p) for p in error.absolute_path)}: {error.message}")
    for path, rule, value in cel_rules(manifest):
        if "oldSelf" in rule["rule"]:
            continue
        check = cel_check(path, rule["message"])
        if check is None:
            problems.append(f"{path}: no check for the CEL rule {rule['rule']!r}")
        elif not check(value, rule["rule"]):
            problems.append(f"{path}: {rule['message']}")
    return problems


def manifests(chart_values: dict) -> list[dict]:
    return chart_values["nodeClasses"] + chart_values["nodePools"]


# --- Tests --------------------------------------------------------------------------------


def test_rendered_yaml_round_trips_to_the_same_manifests():
    pools = render()
    assert yaml.safe_load(pools.values_yaml()) == pools.values()
    assert "&id" not in pools.values_yaml(), "no YAML anchors in what Helm reads"


def test_terraform_gives_helm_what_the_constructs_render(values):
    """The module writes the cluster name and the GPU pool's choices as variables; once
    Terraform interpolates them, Helm reads what the configuration renders."""
    assert values == render().values()


def test_values_hold_no_unintended_terraform_template_syntax(stack, values):
    text = render().values_yaml()
    assert "${" not in text and "%{" not in text, "Terraform would interpolate these in the values string"
    # In the module, only the variables are templates, and nothing is left once applied.
    (written,) = stack.block("helm_release", "node_pools", "karpenter")["values"]
    assert set(interpolations(written)) == {
        "var.cluster_name",
        "jsonencode(var.gpu_pool_instance_types)",
        "jsonencode(var.gpu_pool_capacity_types)",
        "local.gpu_pool_name",
        "local.gpu_node_class_name",
        "jsonencode({(var.discovery_tag_key) = coalesce(var.discovery_tag_value, var.cluster_name)})",
    }
    assert "%{" not in written
    assert "${" not in yaml.safe_dump(values)


def interpolations(text: str) -> list[str]:
    """The expressions of the ``${...}`` sequences of a template (braces balanced)."""
    found, start = [], text.find("${")
    while start != -1:
        depth, end = 0, start + 1
        for end in range(start + 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        found.append(text[start + 2 : end])
        start = text.find("${", end)
    return found


def test_classes_and_pools_are_the_expected_ones(values):
    assert list(by_name(values["nodeClasses"])) == ["default", "h100-gpu"]
    assert list(by_name(values["nodePools"])) == ["default", "p5-gpu-h100"]


def test_every_manifest_is_a_valid_karpenter_v1_object(values):
    for manifest in manifests(values):
        assert crd_problems(manifest) == [], manifest["metadata"]["name"]


@pytest.mark.parametrize("source", ["everything on", "variant", "gpu tfvars", "small default pool", "other gpu pool"])
def test_every_rendered_configuration_is_valid_against_the_crds(source, deploy, planned, everything_on):
    if source == "everything on":
        chart_values = helm_values(deploy(everything_on).find(*NODE_POOLS_RELEASE))
    elif source == "variant":
        chart_values = helm_values(deploy(VARIANT, VARIANT_ZONES).find(*NODE_POOLS_RELEASE))
    elif source == "gpu tfvars":
        chart_values = helm_values(planned({}, GPU_TFVARS).find(*NODE_POOLS_RELEASE))
    elif source == "small default pool":
        chart_values = render({"karpenter": {"pools": [{"kind": "general", "min_vcpu": 8, "max_vcpu": 8}, {"kind": "gpu"}]}}).values()
    else:
        gpu = {"kind": "gpu", "instance_types": ["p4d.24xlarge"], "capacity_types": ["spot", "on-demand"]}
        chart_values = render({"karpenter": {"pools": [{"kind": "general"}, gpu]}, "tags": {"team": "research"}}).values()
    assert len(manifests(chart_values)) >= 4
    for manifest in manifests(chart_values):
        assert crd_problems(manifest) == [], manifest["metadata"]["name"]


def test_every_cel_rule_on_a_field_we_set_is_checked(values):
    rules = [(path, rule) for m in manifests(values) for path, rule, _ in cel_rules(m)]
    assert len(rules) > 40, "the walk reaches the CEL rules"
    unchecked = {rule["rule"] for path, rule in rules if "oldSelf" not in rule["rule"] and cel_check(path, rule["message"]) is None}
    assert unchecked == set()


def test_structural_checks_catch_broken_manifests(values):
    pool = copy.deepcopy(values["nodePools"][0])
    pool["spec"]["template"]["spec"]["requirements"][0]["operator"] = "Between"
    del pool["spec"]["template"]["spec"]["nodeClassRef"]["group"]
    pool["spec"]["disruption"]["consolidationPolicy"] = "WhenIdle"
    pool["spec"]["template"]["spec"]["requirements"][1]["values"] = ["three"]
    pool["spec"]["template"]["metadata"]["labels"]["karpenter.sh/custom"] = "x"
    problems = crd_problems(pool)
    assert any("Between" in p for p in problems)
    assert any("nodeClassRef" in p and "'group' is a required property" in p for p in problems)
    assert any("WhenIdle" in p for p in problems)
    assert any("single positive integer value" in p for p in problems)
    assert any('label domain "karpenter.sh" is restricted' in p for p in problems)
    node_class = copy.deepcopy(values["nodeClasses"][0])
    node_class["spec"]["instanceProfile"] = "x"
    node_class["spec"]["metadataOptions"]["httpTokens"] = "always"
    node_class["spec"]["blockDeviceMappings"][0]["ebs"]["volumeSize"] = "100GB"
    node_class["spec"]["tags"] = {"kubernetes.io/cluster/other": "owned"}
    problems = crd_problems(node_class)
    assert len(problems) == 4, problems
    assert any("exactly one of ['role', 'instanceProfile']" in p for p in problems)
    assert any("kubernetes.io/cluster/" in p for p in problems)
    node_class["apiVersion"] = "karpenter.sh/v1"
    assert any("apiVersion" in p for p in crd_problems(node_class))


def test_pools_reference_existing_node_classes(values):
    classes = set(by_name(values["nodeClasses"]))
    for pool in values["nodePools"]:
        ref = pool["spec"]["template"]["spec"]["nodeClassRef"]
        assert (ref["group"], ref["kind"]) == ("karpenter.k8s.aws", "EC2NodeClass")
        assert ref["name"] in classes


def test_node_classes_are_bottlerocket_with_discovery_selectors_and_the_node_role(values, deployed):
    for node_class in values["nodeClasses"]:
        spec = node_class["spec"]
        assert spec["amiSelectorTerms"] == [{"alias": "bottlerocket@latest"}]
        assert spec["role"] == deployed.find("aws_iam_role", "node_role", "karpenter")["name"] == "ml-platform-karpenter-node"
        discovery = [{"tags": {"karpenter.sh/discovery": "ml-platform"}}]
        assert spec["subnetSelectorTerms"] == discovery
        assert spec["securityGroupSelectorTerms"] == discovery
    # The tags the selectors look for are on the private subnets and the node security group.
    private = [v for a, v in deployed.of_type("aws_subnet").items() if ".network_private_subnets[" in a]
    assert private and all(s["tags_all"]["karpenter.sh/discovery"] == "ml-platform" for s in private)
    node_group = deployed.find("aws_security_group", "eks_security_groups_node")
    assert node_group["tags_all"]["karpenter.sh/discovery"] == "ml-platform"


def test_node_classes_require_imdsv2_and_encrypt_every_volume(values):
    for node_class in values["nodeClasses"]:
        spec = node_class["spec"]
        assert spec["metadataOptions"]["httpTokens"] == "required"
        assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
        volumes = spec["blockDeviceMappings"]
        assert [v["deviceName"] for v in volumes] == ["/dev/xvda", "/dev/xvdb"]
        assert all(v["ebs"]["encrypted"] is True and v["ebs"]["volumeType"] == "gp3" for v in volumes)


def test_node_classes_tag_instances_with_the_platform_tags(values, deploy):
    for node_class in values["nodeClasses"]:
        assert node_class["spec"]["tags"] == {"managed-by": "cdktf", "project": "ml-platform"}
    # Configured tags replace them, as they replace the provider's default tags.
    for node_class in helm_values(deploy(VARIANT, VARIANT_ZONES).find(*NODE_POOLS_RELEASE))["nodeClasses"]:
        assert node_class["spec"]["tags"] == {"team": "ml"}


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
    pool = by_name(render({"karpenter": {"pools": [{"kind": "general", "min_vcpu": 8, "max_vcpu": 8}]}}).values()["nodePools"])["default"]
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


def test_gpu_pool_follows_its_configuration_and_is_named_after_its_gpus(planned):
    gpu = {"kind": "gpu", "instance_types": ["p4d.24xlarge"], "capacity_types": ["spot", "on-demand"]}
    values = render({"karpenter": {"pools": [gpu]}}).values()
    pool = by_name(values["nodePools"])["p4d-gpu-a100"]
    assert requirement(pool, "node.kubernetes.io/instance-type") == ["p4d.24xlarge"]
    assert requirement(pool, "karpenter.sh/capacity-type") == ["spot", "on-demand"]
    assert pool["spec"]["template"]["spec"]["nodeClassRef"]["name"] == "a100-gpu"
    assert list(by_name(values["nodeClasses"])) == ["a100-gpu"]
    # Chosen in terraform.tfvars instead: Terraform writes the lists into the values, and
    # names the pool and its class after the GPUs as the YAML would.
    from_tfvars = helm_values(planned({}, GPU_TFVARS).find(*NODE_POOLS_RELEASE))
    pool = by_name(from_tfvars["nodePools"])["p5en-p5-gpu-h200-h100"]
    assert requirement(pool, "node.kubernetes.io/instance-type") == ["p5en.48xlarge", "p5.48xlarge"]
    assert requirement(pool, "karpenter.sh/capacity-type") == ["spot", "on-demand"]
    assert pool["spec"]["template"]["metadata"]["labels"]["ml-platform/pool"] == "p5en-p5-gpu-h200-h100"
    assert pool["spec"]["template"]["spec"]["nodeClassRef"]["name"] == "h200-h100-gpu"
    assert list(by_name(from_tfvars["nodeClasses"])) == ["default", "h200-h100-gpu"]
    same_in_yaml = {"kind": "gpu", "instance_types": GPU_TFVARS["karpenter_gpu_instance_types"], "capacity_types": ["spot", "on-demand"]}
    assert from_tfvars == render({"karpenter": {"pools": [{"kind": "general"}, same_in_yaml]}}).values()


def test_same_configuration_renders_identical_values():
    assert render().values_yaml() == render().values_yaml()


def test_chart_emits_exactly_the_rendered_values():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "karpenter-nodepools"
    referenced = set()
    for template in (CHART / "templates").glob("*.yaml"):
        referenced |= set(re.findall(r"\.Values\.(\w+)", template.read_text()))
    assert referenced == set(render().values()) == set(yaml.safe_load((CHART / "values.yaml").read_text()))


def test_the_crds_are_those_of_the_pinned_chart():
    """SOURCES.md names the chart version the CRDs come from: the configured default."""
    sources = (CRDS / "SOURCES.md").read_text()
    pinned = parse_config({}).karpenter.chart_version
    for path in CRDS.glob("*.yaml"):
        (row,) = [line for line in sources.splitlines() if line.startswith(f"| {path.name} |")]
        assert f"v{pinned} " in row, f"{path.name} is not from chart {pinned}: {row}"
    assert set(crds()) == {"NodePool", "EC2NodeClass"}


def test_tags_karpenter_reserves_are_left_to_karpenter():
    pools = render({"tags": {"team": "research", "karpenter.sh/nodepool": "x", "kubernetes.io/cluster/other": "owned"}})
    for node_class in pools.values()["nodeClasses"]:
        assert node_class["spec"]["tags"] == {"team": "research"}
        assert crd_problems(node_class) == []
