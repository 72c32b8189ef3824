"""Create and destroy order, read from the dependency graph Terraform itself builds
(``terraform graph -type=plan`` with the offline stand-ins).

Terraform destroys in the reverse order of creation: whatever waits for X is destroyed
before X. So "A waits for B" also means "A is gone before B is removed".
"""

from __future__ import annotations

import pytest

from tooling.analysis import DependencyGraph, from_dot

SYSTEM_NODES = "aws_eks_node_group.eks_system_nodes_node_group"
COREDNS = "aws_eks_addon.eks_addons_coredns_addon"
HYPERPOD_CLUSTER = "module.hyperpod.aws_cloudcontrolapi_resource.cluster"
KARPENTER_RELEASE = "module.karpenter.helm_release.release"
NODE_POOLS_RELEASE = "module.karpenter.helm_release.node_pools"
LOAD_BALANCER_CONTROLLER = "helm_release.load_balancer_controller_release"


def terraform_graph(workspace, overrides) -> DependencyGraph:
    ws = workspace(overrides, 3, "plan")
    ws.init()
    return from_dot(ws.run("graph", "-type=plan").stdout)


@pytest.fixture(scope="module")
def graph(workspace) -> DependencyGraph:
    return terraform_graph(workspace, {})


@pytest.fixture(scope="module")
def graph_everything_on(workspace, everything_on) -> DependencyGraph:
    return terraform_graph(workspace, everything_on)


def test_the_graph_holds_every_resource(graph, stack):
    root = sum(len(blocks) for blocks in stack.root["resource"].values())
    in_modules = sum(len(blocks) for doc in stack.modules.values() for blocks in doc["resource"].values())
    managed = [a for a in graph.edges if ".data." not in f".{a}"]
    assert len(managed) == root + in_modules


@pytest.mark.parametrize("which", ["default", "everything on"])
def test_every_helm_release_and_add_on_after_the_nodes_waits_for_them(which, graph, graph_everything_on):
    graph = graph if which == "default" else graph_everything_on
    releases = [a for a in graph.edges if ".helm_release." in f".{a}"]
    assert len(releases) >= 4
    for release in releases:
        assert graph.waits_for(release, SYSTEM_NODES), release
        assert graph.waits_for(release, COREDNS), release


def test_node_pools_are_removed_before_karpenter(graph):
    """Node classes and pools go first, while the controller can still drain their nodes."""
    assert graph.waits_for(NODE_POOLS_RELEASE, KARPENTER_RELEASE)


def test_hyperpod_never_waits_for_karpenter_or_the_load_balancer_controller(graph_everything_on):
    waited_for = graph_everything_on.dependencies(HYPERPOD_CLUSTER)
    assert not [a for a in waited_for if "karpenter" in a or "load_balancer" in a]


def test_karpenter_and_hyperpod_are_created_in_parallel(graph):
    assert not graph.waits_for(KARPENTER_RELEASE, HYPERPOD_CLUSTER)
    assert not graph.waits_for(HYPERPOD_CLUSTER, KARPENTER_RELEASE)


def test_the_load_balancer_controller_comes_after_karpenter(graph):
    """Its Service webhook must not be half-installed while Karpenter's chart creates Services."""
    assert graph.waits_for(LOAD_BALANCER_CONTROLLER, KARPENTER_RELEASE)


def test_the_load_balancer_controller_outlives_what_creates_load_balancers(graph_everything_on):
    """The inference operator's endpoints get load balancers through the controller: it is
    removed while the controller still runs, or their load balancers are orphaned."""
    graph = graph_everything_on
    creators = [a for a in graph.edges if "inference" in a and (".aws_eks_addon." in a or ".helm_release." in a)]
    assert creators, "the inference operator add-on is in the everything-on stack"
    for creator in creators:
        assert graph.waits_for(creator, LOAD_BALANCER_CONTROLLER), creator
    assert not graph.waits_for(HYPERPOD_CLUSTER, LOAD_BALANCER_CONTROLLER)
