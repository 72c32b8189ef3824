"""HyperPod task governance policies (``hyperpod.task_governance``): the cluster policy and
the teams' compute allocations, created through Cloud Control. The desired states Terraform
computes (applied with the offline stand-ins) are validated against the published schemas
kept in ``modules/config/data``; synth and plan refuse what those schemas and the regions'
CloudFormation registries refuse, with one message each."""

from __future__ import annotations

import copy
import hashlib
import json
import re

import jsonschema
import pytest
import regex

from modules.config import ConfigError, cfn, parse_config
from modules.config.hyperpod_task_governance import (
    TYPE_NOT_IN_REGION,
    ComputeQuotaConfig,
    PriorityClassConfig,
    QuotaResourceConfig,
    ResourceSharingConfig,
    SchedulerPolicyConfig,
    AcceleratorPartitionConfig,
    type_not_in_region,
)
from tests.stacks import Deployed
from tests.test_hyperpod_desired_state import CfnValidator, _patterns, _without

HP = "hyperpod"
QUOTA = ("aws_cloudcontrolapi_resource", "task_governance_compute_quota_")
POLICY = ("aws_cloudcontrolapi_resource", "task_governance_scheduler_policy")
CLUSTER = ("aws_cloudcontrolapi_resource", "cluster")
ADDON = "aws_eks_addon.addons_taskgovernance_addon"

# Every field of both policies, in a region whose registry publishes both types.
GOVERNED = {
    "region": "us-east-1",
    "hyperpod": {
        "enable_task_governance": True,
        "task_governance": {
            "scheduler": {
                "description": "Inference before training; idle GPUs by fair share",
                "priority_classes": [{"name": "inference", "weight": 100}, {"name": "training", "weight": 75}],
                "fair_share": "Enabled",
                "idle_resource_sharing": "Enabled",
            },
            "compute_quotas": [
                {
                    "team": "research",
                    "fair_share_weight": 60,
                    "resources": [
                        {"instance_type": "ml.g5.xlarge", "count": 1},
                        {"instance_type": "ml.g5.12xlarge", "accelerators": 2, "vcpu": 24.0, "memory_gib": 96.5},
                    ],
                    "sharing": {
                        "strategy": "LendAndBorrow",
                        "borrow_limit": 100,
                        "absolute_borrow_limits": [{"instance_type": "ml.g5.xlarge", "count": 2}],
                    },
                    "preempt_team_tasks": "LowerPriority",
                },
                {
                    "team": "inference",
                    "name": "inference-gpus",
                    "description": "Serving on MIG slices",
                    "resources": [
                        {"instance_type": "ml.p5.48xlarge", "accelerator_partition": {"type": "mig-1g.10gb", "count": 7}}
                    ],
                    "sharing": {"strategy": "Lend"},
                    "activation": "Disabled",
                },
            ],
        },
    },
}
SCHEMAS = {POLICY: cfn.SCHEDULER_CONFIG, QUOTA: cfn.COMPUTE_QUOTA}


def writable(resource_type: cfn.ResourceSchema) -> dict:
    published = resource_type.schema()
    return _without(published, published["readOnlyProperties"])


def problems(state: dict, schema: dict) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in CfnValidator(schema).iter_errors(state)]


@pytest.fixture(scope="module")
def governed(deploy) -> Deployed:
    return deploy(GOVERNED)


@pytest.fixture(scope="module")
def everything(deploy, everything_on) -> Deployed:
    return deploy(everything_on)


def applied_states(applied: Deployed, kind: tuple[str, str]) -> dict[str, dict]:
    """Address -> (desired state, reported properties) of every instance of ``kind``."""
    return {
        a: {"desired": json.loads(v["desired_state"]), "reported": json.loads(v["properties"])}
        for a, v in applied.of_type(kind[0], HP).items()
        if f".{kind[1]}" in a
    }


# --- the kept schemas ---------------------------------------------------------------------


@pytest.mark.parametrize("resource_type", [cfn.COMPUTE_QUOTA, cfn.SCHEDULER_CONFIG], ids=lambda t: t.type_name)
def test_the_copies_are_the_published_schemas_recorded_beside_them(resource_type):
    published = resource_type.schema()
    assert published["typeName"] == resource_type.type_name
    jsonschema.Draft7Validator.check_schema(published, format_checker=None)
    for pattern in _patterns(published):
        regex.compile(pattern)
    sources = (cfn.DATA / "SOURCES.md").read_text()
    assert resource_type.file.name in sources
    assert hashlib.sha256(resource_type.file.read_bytes()).hexdigest() in sources
    assert hashlib.sha256(cfn.REGIONS_FILE.read_bytes()).hexdigest() in sources
    assert resource_type.regions(), "the registry extract lists the regions that publish it"


# --- applied desired states ----------------------------------------------------------------


@pytest.mark.parametrize("kind", [QUOTA, POLICY], ids=["compute quota", "cluster policy"])
def test_applied_desired_states_satisfy_the_published_schemas(governed, kind):
    states = applied_states(governed, kind)
    assert states
    for address, state in states.items():
        assert problems(state["desired"], writable(SCHEMAS[kind])) == [], address
        # What Cloud Control reports (read-only fields included) is the type's too.
        assert problems(state["reported"], SCHEMAS[kind].schema()) == [], address


def test_everything_on_allocates_compute_in_its_region(everything):
    """us-west-2's registry publishes ComputeQuota (not ClusterSchedulerConfig): everything-on
    has the allocations, which satisfy the schema."""
    states = applied_states(everything, QUOTA)
    assert states and not applied_states(everything, POLICY)
    for state in states.values():
        assert problems(state["desired"], writable(cfn.COMPUTE_QUOTA)) == []


def test_one_allocation_per_team_with_every_field_where_the_schema_puts_it(governed):
    cluster = governed.find(*CLUSTER, module=HP)
    states = {s["desired"]["ComputeQuotaTarget"]["TeamName"]: s["desired"] for s in applied_states(governed, QUOTA).values()}
    assert sorted(states) == ["inference", "research"]
    addresses = sorted(applied_states(governed, QUOTA))
    assert [a.rsplit("_", 1)[1] for a in addresses] == ["inference", "research"], "named by team, not position"
    research, inference = states["research"], states["inference"]
    assert research["Name"] == "ml-platform-research", "unnamed: <platform name>-<team>"
    assert research["ClusterArn"] == cluster["id"] and re.fullmatch(r"arn:aws:sagemaker:us-east-1:\d{12}:cluster/[a-z0-9]{12}", cluster["id"])
    assert research["ComputeQuotaTarget"] == {"TeamName": "research", "FairShareWeight": 60}
    assert research["ComputeQuotaConfig"] == {
        "ComputeQuotaResources": [
            {"InstanceType": "ml.g5.xlarge", "Count": 1},
            {"InstanceType": "ml.g5.12xlarge", "Accelerators": 2, "VCpu": 24, "MemoryInGiB": 96.5},
        ],
        "ResourceSharingConfig": {
            "Strategy": "LendAndBorrow",
            "BorrowLimit": 100,
            "AbsoluteBorrowLimits": [{"InstanceType": "ml.g5.xlarge", "Count": 2}],
        },
        "PreemptTeamTasks": "LowerPriority",
    }
    assert research["ActivationState"] == "Enabled"
    assert {"Key": "project", "Value": "ml-platform"} in research["Tags"]
    assert inference["Name"] == "inference-gpus" and inference["Description"] == "Serving on MIG slices"
    assert inference["ActivationState"] == "Disabled"
    assert inference["ComputeQuotaConfig"] == {
        "ComputeQuotaResources": [
            {"InstanceType": "ml.p5.48xlarge", "AcceleratorPartition": {"Type": "mig-1g.10gb", "Count": 7}}
        ],
        "ResourceSharingConfig": {"Strategy": "Lend"},
    }
    assert "FairShareWeight" not in inference["ComputeQuotaTarget"], "unset stays unset (HyperPod's default)"


def test_the_cluster_policy_has_every_field(governed):
    ((_, state),) = applied_states(governed, POLICY).items()
    desired = state["desired"]
    assert desired["Name"] == "ml-platform-policy"
    assert desired["ClusterArn"] == governed.find(*CLUSTER, module=HP)["id"]
    assert desired["Description"] == "Inference before training; idle GPUs by fair share"
    assert desired["SchedulerConfig"] == {
        "PriorityClasses": [{"Name": "inference", "Weight": 100}, {"Name": "training", "Weight": 75}],
        "FairShare": "Enabled",
        "IdleResourceSharing": "Enabled",
    }


def test_the_states_use_every_configured_field(governed):
    """Every Cfn-marked field of the models reaches a desired state above, so the schema
    checks cover each of them."""
    quotas = [s["desired"] for s in applied_states(governed, QUOTA).values()]
    (policy,) = [s["desired"] for s in applied_states(governed, POLICY).values()]
    resources = [r for q in quotas for r in q["ComputeQuotaConfig"]["ComputeQuotaResources"]]
    sharing = [q["ComputeQuotaConfig"]["ResourceSharingConfig"] for q in quotas]
    flat = {
        ComputeQuotaConfig: [{**q, **q["ComputeQuotaTarget"], **q["ComputeQuotaConfig"]} for q in quotas],
        QuotaResourceConfig: resources,
        AcceleratorPartitionConfig: [r["AcceleratorPartition"] for r in resources if "AcceleratorPartition" in r],
        ResourceSharingConfig: sharing,
        SchedulerPolicyConfig: [{**policy, **policy["SchedulerConfig"]}],
        PriorityClassConfig: policy["SchedulerConfig"]["PriorityClasses"],
    }
    for model, objects in flat.items():
        for name, field in model.model_fields.items():
            (mark,) = [m for m in field.metadata if isinstance(m, cfn.Cfn)]
            key = mark.key.split(".")[-1]
            assert any(key in o for o in objects), f"{model.__name__}.{name} ({key}) is in no desired state"


def test_mutated_states_are_refused_by_the_schema(governed):
    """The check bites: what CloudFormation refuses is reported."""
    (quota,) = [s["desired"] for s in applied_states(governed, QUOTA).values() if s["desired"]["Name"] == "inference-gpus"]
    schema = writable(cfn.COMPUTE_QUOTA)
    for mutate, expected in (
        (lambda q: q["ComputeQuotaTarget"].update(TeamName="Research"), "does not match"),
        (lambda q: q["ComputeQuotaConfig"]["ComputeQuotaResources"][0].update(InstanceType="p5.48xlarge"), "is not one of"),
        (lambda q: q["ComputeQuotaConfig"]["ResourceSharingConfig"].update(Strategy="Borrow"), "is not one of"),
        (lambda q: q.update(ComputeQuotaArn="arn:aws:sagemaker:us-east-1:123456789012:compute-quota/abc"), "Additional properties"),
        (lambda q: q.pop("ComputeQuotaConfig"), "is a required property"),
    ):
        state = copy.deepcopy(quota)
        mutate(state)
        assert any(expected in p for p in problems(state, schema)), expected


def test_policies_wait_for_the_task_governance_add_on(stack, synth):
    """SageMaker writes each policy into the EKS cluster as Kueue objects of the add-on: the
    add-on first (and, on destroy, the policies go before it)."""
    governed = synth(GOVERNED)
    for name in ("task_governance_compute_quota_research", "task_governance_compute_quota_inference", POLICY[1]):
        assert governed.block("aws_cloudcontrolapi_resource", name, module=HP)["depends_on"] == [ADDON]
    assert not stack.blocks("aws_cloudcontrolapi_resource", HP).keys() - {"cluster"}, "nothing without the policies"


# --- refusals: synth and plan, one message --------------------------------------------------


def template_pattern(template: str) -> re.Pattern:
    """The template with each field a group: one word for the type and region, any text else."""
    parts = re.split(r"\{(\w+)\}", template)
    pattern = ""
    for index, part in enumerate(parts):
        pattern += re.escape(part) if index % 2 == 0 else (r"(\S+)" if part in ("type_name", "region") else "(.+?)")
    return re.compile(pattern)


def test_a_region_without_the_type_is_refused_at_synth_and_plan_with_one_message(plan):
    """The cluster policy's type is not in us-west-2's registry: synth refuses the YAML, and
    a tfvars region of us-west-2 under a us-east-1 YAML stops the plan, both with
    TYPE_NOT_IN_REGION."""
    from tooling.offline import TerraformError

    with pytest.raises(ConfigError) as at_synth:
        parse_config({**GOVERNED, "region": "us-west-2"})
    with pytest.raises(TerraformError) as at_plan:
        plan(GOVERNED, {"region": "us-west-2"})
    pattern = template_pattern(TYPE_NOT_IN_REGION)
    synth_found = pattern.search(str(at_synth.value)).groups()
    plan_found = pattern.search(" ".join(at_plan.value.stderr.split())).groups()
    assert synth_found[:2] == plan_found[:2] == ("AWS::SageMaker::ClusterSchedulerConfig", "us-west-2")
    assert type_not_in_region("AWS::SageMaker::ClusterSchedulerConfig", "us-west-2") in str(at_synth.value)
    assert type_not_in_region("AWS::SageMaker::ComputeQuota", "us-west-2") is None


def governance(**task_governance) -> dict:
    return {"region": "us-east-1", "hyperpod": {"enable_task_governance": True, "task_governance": task_governance}}


def quota(**fields) -> dict:
    return {"team": "research", "resources": [{"instance_type": "ml.g5.xlarge", "count": 1}], **fields}


@pytest.mark.parametrize(
    "overrides, key, said",
    [
        ({"region": "us-east-1", "hyperpod": {"task_governance": {"compute_quotas": [quota()]}}}, "hyperpod", "enable_task_governance"),
        (governance(compute_quotas=[quota(team="Research")]), "compute_quotas[0].team", "lowercase"),
        (governance(compute_quotas=[quota(team="t" * 52)]), "compute_quotas[0].team", "at most 51"),
        (governance(compute_quotas=[quota(), quota()]), "compute_quotas", "a team has one allocation"),
        (governance(compute_quotas=[quota(name="a", team="x"), quota(name="a", team="y")]), "compute_quotas", "names are unique"),
        (governance(compute_quotas=[quota(resources=[])]), "compute_quotas[0].resources", "at least 1"),
        (governance(compute_quotas=[quota(resources=[{"instance_type": "ml.g5.xlarge", "count": 1}] * 2)]), "resources", "once"),
        (governance(compute_quotas=[quota(resources=[{"instance_type": "ml.g5.xlarge"}])]), "resources[0]", "allocates nothing"),
        (governance(compute_quotas=[quota(resources=[{"instance_type": "p5.48xlarge", "count": 1}])]), "instance_type", "ml.*"),
        (governance(compute_quotas=[quota(resources=[{"instance_type": "ml.g5.xlarge", "count": -1}])]), "count", "greater than or equal to 0"),
        (governance(compute_quotas=[quota(resources=[{"instance_type": "ml.g5.xlarge", "count": True}])]), "count", "integer"),
        (governance(compute_quotas=[quota(fair_share_weight=101)]), "fair_share_weight", "less than or equal to 100"),
        (
            governance(compute_quotas=[quota(resources=[{"instance_type": "ml.g5.xlarge", "accelerator_partition": {"type": "mig-1g.10gb", "count": 1}}])]),
            "resources[0]",
            "cannot be partitioned",
        ),
        (
            governance(compute_quotas=[quota(resources=[{"instance_type": "ml.p4d.24xlarge", "accelerator_partition": {"type": "mig-1g.10gb", "count": 1}}])]),
            "resources[0]",
            "hold 5gb",
        ),
        (governance(compute_quotas=[quota(sharing={"strategy": "Lend", "borrow_limit": 10})]), "sharing", "LendAndBorrow"),
        (governance(compute_quotas=[quota(sharing={"borrow_limit": 501})]), "borrow_limit", "1 to 500"),
        (governance(compute_quotas=[quota(preempt_team_tasks="Always")]), "preempt_team_tasks", "LowerPriority"),
        (governance(scheduler={}), "scheduler", "sets nothing"),
        (governance(scheduler={"priority_classes": [{"name": "a", "weight": 1}] * 2}), "priority_classes", "twice"),
        (governance(scheduler={"priority_classes": [{"name": "a", "weight": 101}]}), "weight", "less than or equal to 100"),
        (governance(scheduler={"fair_share": "On"}), "fair_share", "Enabled"),
        (governance(scheduler={"name": "-policy", "fair_share": "Enabled"}), "scheduler.name", "letters, digits and hyphens"),
    ],
)
def test_synth_refuses_what_the_schemas_and_the_service_refuse(overrides, key, said):
    with pytest.raises(ConfigError) as refused:
        parse_config(overrides)
    text = str(refused.value)
    assert key in text and said in text, text
