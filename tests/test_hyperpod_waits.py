"""What the HyperPod module's resources wait for, read from the graph Terraform builds for
the everything-on stack: each needed wait is there, the unneeded ones are not."""

from __future__ import annotations

import pytest

from tests.test_dependencies import COREDNS, HYPERPOD_CLUSTER, LOAD_BALANCER_CONTROLLER, SYSTEM_NODES, terraform_graph
from tooling.analysis import DependencyGraph

HP = "module.hyperpod"
DEPENDENCIES_CHART = f"{HP}.helm_release.helm_dependencies_release"
TASK_GOVERNANCE = f"{HP}.aws_eks_addon.addons_taskgovernance_addon"
OBSERVABILITY = f"{HP}.aws_eks_addon.addons_observability_addon"
TRAINING_OPERATOR = f"{HP}.aws_eks_addon.addons_training_operator_addon"
INFERENCE_OPERATOR = f"{HP}.aws_eks_addon.addons_inference_addon"
METRICS_SERVER = f"{HP}.aws_eks_addon.addons_metrics_server_addon"
NODE_POOLS = f"{HP}.helm_release.node_pools_release"
QUOTAS = (f"{HP}.aws_cloudcontrolapi_resource.task_governance_compute_quota_research",
          f"{HP}.aws_cloudcontrolapi_resource.task_governance_compute_quota_inference")


@pytest.fixture(scope="module")
def graph(workspace, everything_on) -> DependencyGraph:
    return terraform_graph(workspace, everything_on)


def test_the_cluster_waits_for_its_chart_role_scripts_and_network(graph):
    for needed in (
        DEPENDENCIES_CHART,
        f"{HP}.aws_iam_role_policy.execution_role_policy_lifecycle_scripts",
        f"{HP}.aws_s3_object.lifecycle_scripts_script_on_create_sh",
        f"{HP}.aws_vpc_security_group_ingress_rule.security_group_from_eks_cluster_https",
        f"{HP}.aws_iam_role_policy.autoscaler_role_policy_scale_instance_groups",
    ):
        assert graph.waits_for(HYPERPOD_CLUSTER, needed), needed


def test_the_chart_waits_for_the_nodes_its_pods_run_on(graph):
    assert graph.waits_for(DEPENDENCIES_CHART, SYSTEM_NODES)
    assert graph.waits_for(DEPENDENCIES_CHART, COREDNS)


@pytest.mark.parametrize("addon", [TASK_GOVERNANCE, OBSERVABILITY, METRICS_SERVER])
def test_add_ons_that_read_no_hyperpod_cluster_install_while_it_is_created(graph, addon):
    assert graph.waits_for(addon, SYSTEM_NODES), "their Deployments need the nodes"
    assert not graph.waits_for(addon, HYPERPOD_CLUSTER)
    assert not graph.waits_for(HYPERPOD_CLUSTER, addon)


def test_the_training_operator_waits_for_the_cluster_and_cert_manager(graph):
    assert graph.waits_for(TRAINING_OPERATOR, HYPERPOD_CLUSTER)
    assert graph.waits_for(TRAINING_OPERATOR, DEPENDENCIES_CHART)


def test_the_inference_operator_waits_for_every_documented_dependency(graph):
    for needed in (HYPERPOD_CLUSTER, DEPENDENCIES_CHART, LOAD_BALANCER_CONTROLLER, METRICS_SERVER):
        assert graph.waits_for(INFERENCE_OPERATOR, needed), needed


def test_policies_wait_for_the_cluster_and_the_task_governance_add_on(graph):
    for quota in QUOTAS:
        assert graph.waits_for(quota, HYPERPOD_CLUSTER) and graph.waits_for(quota, TASK_GOVERNANCE), quota


def test_hyperpods_node_pools_wait_for_the_cluster_whose_autoscaling_brings_their_crd(graph):
    assert graph.waits_for(NODE_POOLS, HYPERPOD_CLUSTER)
