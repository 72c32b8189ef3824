"""Structural checks on the synthesized JSON: references resolve, the graph is acyclic."""

from __future__ import annotations

import pytest

from modules.analysis import build_graph, declared_addresses, expressions, references_in
from scripts.plan_report import report


EVERYTHING_ON = {
    "vpc": {"nat_gateways": "one_per_az"},
    "hyperpod": {"enable_task_governance": True, "enable_observability": True, "enable_inference_operator": True},
}


@pytest.fixture(params=["default", "everything on"])
def stack(request, synth):
    """Structural checks hold on the default stack and with every option on."""
    return synth({} if request.param == "default" else EVERYTHING_ON)


def body(stack):
    return {key: value for key, value in stack.items() if key != "//"}


def test_every_reference_resolves(stack):
    declared = declared_addresses(stack)
    unresolved = {
        reference
        for expression in expressions(body(stack))
        for reference in references_in(expression)
        if reference not in declared
    }
    assert not unresolved


def test_every_depends_on_names_a_declared_object(stack):
    declared = declared_addresses(stack)
    for blocks in (stack.get("resource", {}), stack.get("data", {})):
        for named in blocks.values():
            for name, block in named.items():
                missing = set(block.get("depends_on", [])) - declared
                assert not missing, f"{name} depends on undeclared {missing}"


def test_dependency_graph_has_no_cycles(stack):
    assert build_graph(stack).cycles() == []


def test_system_nodes_wait_for_private_egress(stack):
    graph = build_graph(stack)
    node_group = "aws_eks_node_group.eks_system_nodes_node_group"
    assert graph.waits_for(node_group, "aws_route.network_private_nat_routes")
    assert graph.waits_for(node_group, "aws_nat_gateway.network_nat_gateways")


def test_plan_report_names_the_longest_chain(stack):
    text = report(stack)
    assert text.startswith("Estimated apply critical path:")
    assert "aws_eks_cluster.eks_control_plane_cluster" in text


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("aws_vpc.network_vpc.id", {"aws_vpc.network_vpc"}),
        ("element(aws_subnet.a.*.id, count.index)", {"aws_subnet.a"}),
        ("data.aws_partition.p.partition", {"data.aws_partition.p"}),
        ("[for g in var.groups : g.name if g.count > 0]", {"var.groups"}),
        ('jsonencode({"Arn" = "arn:${data.aws_partition.p.partition}:s3:::b"})', {"data.aws_partition.p"}),
        ("local.tags", {"local.tags"}),
        ("path.module", set()),
    ],
)
def test_reference_finder(expression, expected):
    assert references_in(expression) == expected


def test_cycles_are_found():
    from modules.analysis.graph import DependencyGraph

    graph = DependencyGraph({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert graph.cycles() == [["a", "b", "c"]]
