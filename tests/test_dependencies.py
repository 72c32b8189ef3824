"""Create and destroy order, read from the dependency graph Terraform builds.

Terraform destroys in the reverse order of creation: whatever waits for X is destroyed
before X. So "A waits for B" also means "A is gone before B is removed".
"""

from __future__ import annotations

import pytest

from modules.analysis import build_graph

SYSTEM_NODES = "aws_eks_node_group.eks_system_nodes_node_group"
HYPERPOD_CLUSTER = "aws_cloudcontrolapi_resource.hyperpod_cluster"
KARPENTER_RELEASE = "helm_release.karpenter_release"
NODE_POOLS_RELEASE = "helm_release.karpenter_node_pools"
LOAD_BALANCER_CONTROLLER = "helm_release.load_balancer_controller_release"


@pytest.fixture(scope="module")
def graph(stack):
    return build_graph(stack)


@pytest.fixture(scope="module")
def graph_with_inference(synth):
    return build_graph(synth({"hyperpod": {"enable_inference_operator": True}}))


def test_every_helm_release_waits_for_the_nodes_it_runs_on(graph):
    releases = [address for address in graph.edges if address.startswith("helm_release.")]
    assert len(releases) >= 4
    for release in releases:
        assert graph.waits_for(release, SYSTEM_NODES), release


def test_node_pools_are_removed_before_karpenter(graph):
    """Node classes and pools go first, while the controller can still drain their nodes."""
    assert graph.waits_for(NODE_POOLS_RELEASE, KARPENTER_RELEASE)


def test_hyperpod_never_waits_for_karpenter_or_the_load_balancer_controller(graph):
    waited_for = graph.dependencies(HYPERPOD_CLUSTER)
    assert not [a for a in waited_for if a.startswith(("helm_release.karpenter", "helm_release.load_balancer"))]
    assert not [a for a in waited_for if "karpenter" in a or "load_balancer" in a]


def test_karpenter_and_hyperpod_are_created_in_parallel(graph):
    assert not graph.waits_for(KARPENTER_RELEASE, HYPERPOD_CLUSTER)
    assert not graph.waits_for(HYPERPOD_CLUSTER, KARPENTER_RELEASE)


def test_the_load_balancer_controller_outlives_what_creates_load_balancers(graph_with_inference):
    """The inference operator's endpoints get load balancers through the controller: it is
    removed while the controller still runs, or their load balancers are orphaned."""
    graph = graph_with_inference
    creators = [a for a in graph.edges if "inference" in a and a.startswith(("aws_eks_addon.", "helm_release."))]
    assert creators, "the inference operator add-on is in the stack"
    for creator in creators:
        assert graph.waits_for(creator, LOAD_BALANCER_CONTROLLER), creator
    assert not graph.waits_for(HYPERPOD_CLUSTER, LOAD_BALANCER_CONTROLLER)
