"""The training fabric of the Karpenter pools, as Terraform applies it with the offline
stand-ins: EFA (a self-referencing security group, the EFA device plugin on EFA nodes only),
zones, a placement group and capacity reservations, switched on in everything-on.yaml and
absent from the default; and the module's variables for where the controller runs and how
node classes find subnets and security groups (issue 21), planned from an HCL caller."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from modules.config import parse_config
from modules.config.ec2_instance_types import GPU_INSTANCES
from modules.karpenter.efa import DEVICE_PLUGIN_CHART, DEVICE_PLUGIN_CHART_VERSION, DEVICE_PLUGIN_REPOSITORY
from tests.test_examples import tolerated

MODULE = "karpenter"
NODE_POOLS_RELEASE = ("helm_release", "node_pools", MODULE)
EFA_GROUP = ("aws_security_group", "efa_security_group", MODULE)
DEVICE_PLUGIN = ("helm_release", "efa_device_plugin", MODULE)


def values_of(release: dict) -> dict:
    (values,) = release["values"]
    return yaml.safe_load(values)


@pytest.fixture(scope="module")
def fabric(deploy, everything_on):
    return deploy(everything_on)


@pytest.fixture(scope="module")
def config(everything_on):
    return parse_config(everything_on).karpenter


@pytest.fixture(scope="module")
def chart(fabric) -> dict[str, dict[str, dict]]:
    values = values_of(fabric.find(*NODE_POOLS_RELEASE))
    return {kind: {m["metadata"]["name"]: m for m in values[kind]} for kind in ("nodeClasses", "nodePools")}


def requirement(pool: dict, key: str) -> list[str] | None:
    found = [r["values"] for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] == key]
    return found[0] if found else None


def test_the_default_configuration_adds_no_fabric_resource(deployed, stack):
    assert deployed.of_type("aws_security_group", MODULE) == {}
    assert [a for a in deployed.of_type("helm_release", MODULE) if "efa" in a] == []
    assert "vpc_id" not in stack.modules[MODULE]["variable"]
    assert "efa_security_group_id" not in stack.modules[MODULE]["output"]
    for manifest in values_of(deployed.find(*NODE_POOLS_RELEASE))["nodeClasses"]:
        assert set(manifest["spec"]) & {"capacityReservationSelectorTerms", "placementGroupSelector"} == set()
        assert len(manifest["spec"]["securityGroupSelectorTerms"]) == 1


def test_efa_group_admits_all_traffic_between_its_members_only(fabric):
    group = fabric.find(*EFA_GROUP)
    assert group["vpc_id"] == fabric.find("aws_vpc", "network_vpc")["id"]
    assert group["name"].startswith("ml-platform-efa-") and group["ingress"] == [] and group["egress"] == []
    (ingress,) = fabric.of_type("aws_vpc_security_group_ingress_rule", MODULE).values()
    (egress,) = fabric.of_type("aws_vpc_security_group_egress_rule", MODULE).values()
    for rule in (ingress, egress):
        assert rule["security_group_id"] == rule["referenced_security_group_id"] == group["id"]
        assert rule["ip_protocol"] == "-1"
        assert rule.get("cidr_ipv4") is None and rule.get("cidr_ipv6") is None, "no address range: members only"
        assert "EFA" in rule["description"]


def test_efa_pools_nodes_join_the_group_and_carry_the_efa_label(chart, config, fabric):
    group_id = fabric.find(*EFA_GROUP)["id"]
    discovery = {"tags": {"karpenter.sh/discovery": "ml-platform"}}
    for pool in config.pools:
        node_class = chart["nodeClasses"][pool.node_class_name]
        labels = chart["nodePools"][pool.pool_name]["spec"]["template"]["metadata"]["labels"]
        if pool.efa:
            assert node_class["spec"]["securityGroupSelectorTerms"] == [discovery, {"id": group_id}]
            assert labels["ml-platform/efa"] == "true"
            assert all(GPU_INSTANCES[t].efa_interfaces >= 1 for t in pool.instance_types)
        else:
            assert node_class["spec"]["securityGroupSelectorTerms"] == [discovery]
            assert "ml-platform/efa" not in labels
    assert fabric.outputs["karpenter_efa_security_group_id"] == group_id


def test_device_plugin_is_pinned_and_runs_only_on_efa_nodes_tolerating_their_taints(fabric, chart, config):
    release = fabric.find(*DEVICE_PLUGIN)
    assert (release["repository"], release["chart"], release["version"]) == (
        DEVICE_PLUGIN_REPOSITORY,
        DEVICE_PLUGIN_CHART,
        DEVICE_PLUGIN_CHART_VERSION,
    )
    assert release["repository"].startswith("https://") and release["version"] == "v0.5.30"
    assert release["namespace"] == "kube-system"
    values = values_of(release)
    assert values["nodeSelector"] == {"ml-platform/efa": "true"}
    for pool in config.efa_pools:
        taints = chart["nodePools"][pool.pool_name]["spec"]["template"]["spec"]["taints"]
        assert taints and all(tolerated(taint, values["tolerations"]) for taint in taints)
        assert set(pool.instance_types) <= set(values["supportedInstanceLabels"]["values"])
    other = chart["nodePools"]["g6e-gpu-l40s"]["spec"]["template"]["spec"]["taints"]
    assert not all(tolerated(taint, values["tolerations"]) for taint in other), "only the EFA pools' taints"


def test_device_plugin_waits_for_the_cluster(synth, everything_on):
    block = synth(everything_on).block("helm_release", "efa_device_plugin", MODULE)
    assert block["depends_on"] == ["var.cluster_ready"]
    assert block["wait"] is False, "a DaemonSet on nodes that come and go with EFA pods"


def test_zone_and_placement_group(chart):
    pool = chart["nodePools"]["p5-gpu-h100"]
    assert requirement(pool, "topology.kubernetes.io/zone") == ["us-west-2a"]
    assert chart["nodeClasses"]["h100-gpu"]["spec"]["placementGroupSelector"] == {"name": "ml-platform-training"}
    assert requirement(chart["nodePools"]["g6e-gpu-l40s"], "topology.kubernetes.io/zone") is None
    assert "placementGroupSelector" not in chart["nodeClasses"]["l40s-gpu"]["spec"]


def test_capacity_reservations_and_blocks(chart):
    pool = chart["nodePools"]["h100-reserved"]
    assert requirement(pool, "karpenter.sh/capacity-type") == ["reserved", "on-demand"]
    assert pool["spec"]["template"]["spec"]["nodeClassRef"]["name"] == "h100-reserved"
    terms = chart["nodeClasses"]["h100-reserved"]["spec"]["capacityReservationSelectorTerms"]
    assert terms == [{"id": "cr-0123456789abcdef0"}, {"tags": {"purpose": "training"}}]


def test_named_and_unnamed_pools(chart):
    assert list(chart["nodePools"]) == ["default", "p5-gpu-h100", "h100-reserved", "g6e-gpu-l40s"]
    assert list(chart["nodeClasses"]) == ["default", "h100-gpu", "h100-reserved", "l40s-gpu"]
    l40s = chart["nodePools"]["g6e-gpu-l40s"]["spec"]["template"]["spec"]
    assert {t["key"] for t in l40s["taints"]} == {"nvidia.com/gpu", "workload"}


def test_controller_can_launch_into_reservations_and_placement_groups(fabric):
    import json

    policy = json.loads(fabric.find("aws_iam_policy", "controller_policy_node_lifecycle", MODULE)["policy"])
    (shared,) = [s for s in policy["Statement"] if s["Sid"] == "LaunchFromSharedResources"]
    resources = " ".join(shared["Resource"])
    assert ":capacity-reservation/*" in resources and ":placement-group/*" in resources
    assert all(":123456789012:" in arn for arn in shared["Resource"] if "reservation" in arn or "placement" in arn)


# --- issue 21 item 3: the module's controller node selector and discovery tag ---------------

CALLER = """
provider "aws" {
  region = "us-west-2"
}

provider "helm" {}

module "karpenter" {
  source = "../dist/karpenter"

  cluster_name     = "my-cluster"
  cluster_endpoint = "https://example.eks.amazonaws.com"
%s
}
"""


@pytest.fixture(scope="module")
def module_plan(stack, tmp_path_factory):
    """The module as shipped, planned from a plain HCL caller with and without the new
    variables (the stand-in providers)."""
    from tooling.offline import Workspace, terraform_binary

    if terraform_binary() is None:
        pytest.skip("terraform is not on PATH")
    plans = {}
    for label, arguments in (
        ("defaults", ""),
        (
            "set",
            '  controller_node_selector = { "node-role.example.com/system" = "true" }\n'
            '  discovery_tag_key        = "example.com/karpenter"\n'
            '  discovery_tag_value      = "shared-vpc"\n',
        ),
    ):
        base = tmp_path_factory.mktemp(f"caller-{label}")
        shutil.copytree(stack.folder / "modules" / MODULE, base / "dist" / MODULE)
        (base / "root").mkdir()
        (base / "root" / "main.tf").write_text(CALLER % arguments)
        with Workspace(base / "root", root=base, at="root") as workspace:
            plan = workspace.plan()
            plans[label] = {c["address"]: c["change"]["after"] for c in plan.resource_changes}
    return plans


def _release(plan: dict, name: str) -> dict:
    return values_of(plan[f"module.karpenter.helm_release.{name}"])


def test_controller_node_selector_defaults_to_the_system_nodes_label_and_follows_the_variable(module_plan):
    assert _release(module_plan["defaults"], "release")["nodeSelector"] == {
        "kubernetes.io/os": "linux",
        "karpenter.sh/controller": "true",
    }
    assert _release(module_plan["set"], "release")["nodeSelector"] == {"node-role.example.com/system": "true"}


def test_discovery_tag_defaults_to_the_callers_cluster_and_follows_the_variables(module_plan):
    for label, tags in (
        ("defaults", {"karpenter.sh/discovery": "my-cluster"}),
        ("set", {"example.com/karpenter": "shared-vpc"}),
    ):
        for node_class in _release(module_plan[label], "node_pools")["nodeClasses"]:
            assert node_class["spec"]["subnetSelectorTerms"] == [{"tags": tags}], label
            assert node_class["spec"]["securityGroupSelectorTerms"] == [{"tags": tags}], label


def test_the_new_variables_are_documented_with_their_defaults(stack):
    variables = stack.modules[MODULE]["variable"]
    assert variables["controller_node_selector"]["default"] == {"kubernetes.io/os": "linux", "karpenter.sh/controller": "true"}
    assert variables["discovery_tag_key"]["default"] == "karpenter.sh/discovery"
    assert variables["discovery_tag_value"]["default"] == ""
    for name in ("controller_node_selector", "discovery_tag_key", "discovery_tag_value"):
        assert variables[name]["description"]
    docs = (Path(__file__).resolve().parent.parent / "docs" / "hcl-teams.md").read_text()
    example = (Path(__file__).resolve().parent.parent / "examples" / "hcl" / "main.tf").read_text()
    for name in ("controller_node_selector", "discovery_tag_key", "discovery_tag_value"):
        assert f"`{name}`" in docs and name in example, name


def test_the_efa_example_lands_on_an_efa_pool_and_asks_for_every_interface(chart, config):
    examples = Path(__file__).resolve().parent.parent / "examples" / "workloads"
    (job,) = [d for d in yaml.safe_load_all((examples / "nccl-efa.yaml").read_text()) if d["kind"] == "Job"]
    spec = job["spec"]["template"]["spec"]
    pool = next(p for p in config.pools if p.pool_name == spec["nodeSelector"]["karpenter.sh/nodepool"])
    assert pool.efa
    assert spec["nodeSelector"]["topology.kubernetes.io/zone"] in pool.zones
    instance_type = spec["nodeSelector"]["node.kubernetes.io/instance-type"]
    assert instance_type in pool.instance_types
    taints = chart["nodePools"][pool.pool_name]["spec"]["template"]["spec"]["taints"]
    assert all(tolerated(taint, spec["tolerations"]) for taint in taints)
    (container,) = spec["containers"]
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    facts = GPU_INSTANCES[instance_type]
    assert requests["vpc.amazonaws.com/efa"] == limits["vpc.amazonaws.com/efa"] == str(facts.efa_interfaces)
    assert requests["nvidia.com/gpu"] == limits["nvidia.com/gpu"] == str(facts.gpus)
    assert f"--nproc-per-node {facts.gpus}" in container["args"][0]
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == 2
