"""The HyperpodNodeClasses and NodePools of HyperPod's managed Karpenter
(``hyperpod.autoscaling.node_pools``), as Terraform hands them to Helm with the offline
stand-ins, and how they stay apart from the platform's own Karpenter pools, read from the
manifests both releases apply in the everything-on stack."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from modules.config import ConfigError, parse_config
from modules.config.hyperpod_node_pools import MAX_GROUPS_PER_NODE_CLASS, SCALABLE_GROUP
from modules.hyperpod import node_pools as hyperpod_pools
from modules.hyperpod.node_pools import CHART_FOLDER, NODE_CLASS_GROUP, NODE_CLASS_KIND, POOL_LABEL
from modules.karpenter import node_pools as platform_pools
from modules.karpenter import pools as platform_pool_config
from tests.stacks import Deployed
from tests.test_karpenter_pools import NODE_POOLS_RELEASE, by_name, crd_problems, helm_values, requirement

HP = "hyperpod"
HYPERPOD_POOLS_RELEASE = ("helm_release", "node_pools_release", HP)
CHART = Path(__file__).resolve().parent.parent / "modules" / "hyperpod" / CHART_FOLDER
PLATFORM_REF = ("karpenter.k8s.aws", "EC2NodeClass")
HYPERPOD_REF = (NODE_CLASS_GROUP, NODE_CLASS_KIND)
INSTANCE_TYPE = "node.kubernetes.io/instance-type"


@pytest.fixture(scope="module")
def everything(deploy, everything_on) -> Deployed:
    return deploy(everything_on)


@pytest.fixture(scope="module")
def hyperpod_values(everything) -> dict:
    return helm_values(everything.find(*HYPERPOD_POOLS_RELEASE))


@pytest.fixture(scope="module")
def platform_values(everything) -> dict:
    return helm_values(everything.find(*NODE_POOLS_RELEASE))


def ref(pool: dict) -> tuple[str, str]:
    node_class_ref = pool["spec"]["template"]["spec"]["nodeClassRef"]
    return node_class_ref["group"], node_class_ref["kind"]


def requirement_values(pool: dict, key: str) -> list[str]:
    return [v for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] == key for v in r.get("values", [])]


# --- what is rendered -----------------------------------------------------------------------


def test_the_shared_api_and_label_are_the_platform_karpenters():
    """The HyperPod module may not import the Karpenter module's internals (test_layout), so
    it names the NodePool API and the pool label itself: the same as the Karpenter module's."""
    assert hyperpod_pools.POOL_LABEL == platform_pools.POOL_LABEL
    assert (hyperpod_pools.NODE_POOL_API_VERSION, hyperpod_pools.NODE_POOL_KIND) == (platform_pools.API_VERSION, platform_pools.KIND)
    assert hyperpod_pools.ZONE_LABEL == platform_pool_config.ZONE_LABEL


def test_each_pool_is_a_hyperpod_node_class_and_a_node_pool_naming_it(hyperpod_values, everything_on):
    (pool_config,) = everything_on["hyperpod"]["autoscaling"]["node_pools"]
    (node_class,) = hyperpod_values["nodeClasses"]
    assert node_class == {
        "apiVersion": f"{NODE_CLASS_GROUP}/v1",
        "kind": "HyperpodNodeClass",
        "metadata": {"name": "hyperpod-g5"},
        "spec": {"instanceGroups": pool_config["instance_groups"]},
    }
    (pool,) = hyperpod_values["nodePools"]
    template = pool["spec"]["template"]
    assert pool["apiVersion"] == "karpenter.sh/v1" and pool["kind"] == "NodePool" and pool["metadata"]["name"] == "hyperpod-g5"
    assert template["spec"]["nodeClassRef"] == {"group": NODE_CLASS_GROUP, "kind": "HyperpodNodeClass", "name": "hyperpod-g5"}
    assert template["spec"]["expireAfter"] == "Never"
    assert requirement(pool, INSTANCE_TYPE) == ["ml.g5.2xlarge"], "the types of its groups, from the variable"
    assert requirement(pool, "topology.kubernetes.io/zone") == ["us-west-2a"]
    assert template["metadata"]["labels"] == {POOL_LABEL: "hyperpod-g5"}


def test_a_pool_carries_the_taints_hyperpod_puts_on_its_groups_nodes(hyperpod_values, everything):
    """Karpenter places a pod only where it tolerates the node's taints: the pool says what
    HyperPod applies to the group's nodes (KubernetesConfig.Taints of the applied cluster)."""
    cluster = json.loads(everything.find("aws_cloudcontrolapi_resource", "cluster", HP)["desired_state"])
    (group,) = [g for g in cluster["InstanceGroups"] if g["InstanceGroupName"] == "g5-autoscaled"]
    applied_taints = [{k.lower(): v for k, v in t.items()} for t in group["KubernetesConfig"]["Taints"]]
    (pool,) = hyperpod_values["nodePools"]
    assert pool["spec"]["template"]["spec"]["taints"] == applied_taints == [
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    ]


def test_node_pools_are_valid_karpenter_v1_objects(hyperpod_values):
    for pool in hyperpod_values["nodePools"]:
        assert crd_problems(pool) == [], pool["metadata"]["name"]


def test_node_classes_name_existing_groups_within_hyperpods_limit(hyperpod_values, everything):
    cluster = json.loads(everything.find("aws_cloudcontrolapi_resource", "cluster", HP)["desired_state"])
    groups = {g["InstanceGroupName"]: g for g in cluster["InstanceGroups"]}
    for node_class in hyperpod_values["nodeClasses"]:
        names = node_class["spec"]["instanceGroups"]
        assert 1 <= len(names) <= MAX_GROUPS_PER_NODE_CLASS
        for name in names:
            assert groups[name]["InstanceCount"] == 0, "Karpenter scales it from zero"
            assert "TrainingPlanArn" not in groups[name] and "OnStartDeepHealthChecks" not in groups[name]


def test_a_tfvars_change_of_a_group_reaches_its_pool(planned, everything_on):
    groups = copy.deepcopy(everything_on["hyperpod"]["instance_groups"])
    (scaled,) = [g for g in groups if g["name"] == "g5-autoscaled"]
    scaled["instance_type"] = "ml.g5.4xlarge"
    scaled["taints"] = [{"key": "dedicated", "effect": "NoExecute"}]
    values = helm_values(planned(everything_on, {"hyperpod_instance_groups": groups}).find(*HYPERPOD_POOLS_RELEASE))
    (pool,) = values["nodePools"]
    assert requirement(pool, INSTANCE_TYPE) == ["ml.g5.4xlarge"]
    assert pool["spec"]["template"]["spec"]["taints"] == [{"key": "dedicated", "effect": "NoExecute"}]
    assert crd_problems(pool) == []


def test_the_release_waits_for_the_cluster_and_nothing_without_pools(synth, everything_on, stack):
    release = synth(everything_on).block("helm_release", "node_pools_release", HP)
    assert release["depends_on"] == ["aws_cloudcontrolapi_resource.cluster"]
    assert "node_pools_release" not in stack.blocks("helm_release", HP)


def test_the_chart_emits_exactly_the_rendered_values(hyperpod_values):
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "hyperpod-nodepools"
    referenced = set()
    for template in (CHART / "templates").glob("*.yaml"):
        referenced |= set(re.findall(r"\.Values\.(\w+)", template.read_text()))
    assert referenced == set(hyperpod_values) == set(yaml.safe_load((CHART / "values.yaml").read_text()))


# --- apart from the platform's Karpenter --------------------------------------------------------


def test_each_karpenter_acts_only_on_its_own_node_class_kind(hyperpod_values, platform_values):
    """A Karpenter v1 controller manages only the NodePools whose nodeClassRef names a kind
    its cloud provider supports: the platform's (AWS provider) EC2NodeClass, HyperPod's
    HyperpodNodeClass. No pool of either chart names the other's kind, and each names a
    node class its own chart creates."""
    assert platform_values["nodePools"] and hyperpod_values["nodePools"]
    for values, expected in ((platform_values, PLATFORM_REF), (hyperpod_values, HYPERPOD_REF)):
        classes = {(c["apiVersion"].split("/")[0], c["kind"], c["metadata"]["name"]) for c in values["nodeClasses"]}
        for pool in values["nodePools"]:
            assert ref(pool) == expected, pool["metadata"]["name"]
            assert (*ref(pool), pool["spec"]["template"]["spec"]["nodeClassRef"]["name"]) in classes


def test_pool_names_and_pool_labels_are_disjoint(hyperpod_values, platform_values):
    """NodePools are cluster-wide objects of one API: a shared name would be one object the
    two releases overwrite; the pool label tells a workload's nodes apart."""
    platform, hyperpod = by_name(platform_values["nodePools"]), by_name(hyperpod_values["nodePools"])
    assert set(platform).isdisjoint(hyperpod)
    labels = [p["spec"]["template"]["metadata"]["labels"][POOL_LABEL] for p in [*platform.values(), *hyperpod.values()]]
    assert len(labels) == len(set(labels))


def test_no_instance_type_constraint_fits_both_kinds_of_pool(hyperpod_values, platform_values):
    """HyperPod pools take only ml.* types (HyperPod's instance groups); every platform pool
    either names EC2 types (never ml.*) or selects by the AWS provider's instance-category
    label, which HyperPod nodes do not carry."""
    for pool in hyperpod_values["nodePools"]:
        types = requirement_values(pool, INSTANCE_TYPE)
        assert types and all(t.startswith("ml.") for t in types), pool["metadata"]["name"]
    for pool in platform_values["nodePools"]:
        types = requirement_values(pool, INSTANCE_TYPE)
        categories = requirement_values(pool, "karpenter.k8s.aws/instance-category")
        assert types or categories, pool["metadata"]["name"]
        assert not any(t.startswith("ml.") for t in types), pool["metadata"]["name"]


# --- refusals ---------------------------------------------------------------------------------


def autoscaled(**changes) -> dict:
    """A configuration with one Karpenter-scaled group and a pool naming it."""
    config = {
        "hyperpod": {
            "autoscaling": {"node_pools": [{"name": "hp", "instance_groups": ["auto"]}]},
            "instance_groups": [
                {"name": "gpu-workers", "instance_type": "ml.g5.xlarge", "instance_count": 2},
                {"name": "auto", "instance_type": "ml.g5.2xlarge", "instance_count": 0},
            ],
        }
    }
    for path, value in changes.items():
        node = config
        *parents, last = path.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return config


@pytest.mark.parametrize(
    "config, said",
    [
        (autoscaled(hyperpod__autoscaling__node_pools__0__name="default"), "also a pool of karpenter.pools"),
        (autoscaled(hyperpod__autoscaling__node_pools__0__name="p5-gpu-h100"), "also a pool of karpenter.pools"),
        (autoscaled(hyperpod__instance_groups__1__instance_count=1), "'auto' has instance_count 1"),
        (
            autoscaled(hyperpod__instance_groups__1__training_plan_arn="arn:aws:sagemaker:us-west-2:123456789012:training-plan/p"),
            "a training plan",
        ),
        (autoscaled(hyperpod__instance_groups__1__deep_health_checks=["InstanceStress"]), "deep health checks"),
        (autoscaled(hyperpod__autoscaling__node_pools__0__instance_groups=["missing"]), "'missing' has no such group"),
        (autoscaled(hyperpod__autoscaling__node_pools__0__instance_groups=[f"g{i}" for i in range(11)]), "at most 10"),
        (autoscaled(hyperpod__autoscaling__node_pools__0__instance_groups=["auto", "auto"]), "twice"),
        (autoscaled(hyperpod__autoscaling__node_pools__0__zones=["eu-west-1a"]), "zones 'eu-west-1a' is not in region us-west-2"),
        (autoscaled(hyperpod__autoscaling__node_pools__0__name="Bad_Name"), "lowercase"),
        (autoscaled(hyperpod__autoscaling__mode="Disable"), "autoscaling.mode Enable"),
        (
            autoscaled(hyperpod__autoscaling__node_pools=[{"name": "a", "instance_groups": ["auto"]}] * 2),
            "appears twice",
        ),
    ],
)
def test_synth_refuses_pools_hyperpods_karpenter_or_the_platform_would_not_take(config, said):
    with pytest.raises(ConfigError) as refused:
        parse_config(config)
    assert said in str(refused.value), str(refused.value)


def test_plan_refuses_a_tfvars_group_karpenter_cannot_scale_with_the_synth_message(plan, everything_on):
    from tooling.offline import TerraformError

    groups = copy.deepcopy(everything_on["hyperpod"]["instance_groups"])
    (scaled,) = [g for g in groups if g["name"] == "g5-autoscaled"]
    scaled["instance_count"] = 2
    with pytest.raises(TerraformError) as refused:
        plan(everything_on, {"hyperpod_instance_groups": groups})
    assert SCALABLE_GROUP in " ".join(refused.value.stderr.split())
    with pytest.raises(ConfigError) as at_synth:
        parse_config({**everything_on, "hyperpod": {**everything_on["hyperpod"], "instance_groups": groups}})
    assert SCALABLE_GROUP in str(at_synth.value)
