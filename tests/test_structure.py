"""Terraform accepts the synthesized configuration (its references, its modules, its
dependency graph) on the default stack and with every option on; the critical-path
report reads Terraform's own graph."""

from __future__ import annotations

import pytest

from scripts.plan_report import report
from tooling.analysis import DependencyGraph, from_dot


@pytest.fixture(scope="module", params=["default", "everything on"])
def configuration(request, everything_on):
    return {} if request.param == "default" else everything_on


def test_terraform_validates_it(workspace, configuration):
    """Every reference and depends_on names a declared object, every module call matches
    the module's variables, every type and attribute is the provider's."""
    result = workspace(configuration, 3, "plan").validate()
    assert "Success! The configuration is valid." in result.stdout


def test_the_plan_has_no_cycle_and_creates_everything(plan, configuration):
    """A cycle would fail the plan; nothing exists yet, so everything is created."""
    counts = plan(configuration).counts
    assert counts["add"] > 100 and counts["change"] == 0 and counts["destroy"] == 0


def test_system_nodes_wait_for_private_egress(workspace):
    ws = workspace({}, 3, "plan")
    ws.init()
    graph = from_dot(ws.run("graph", "-type=plan").stdout)
    node_group = "aws_eks_node_group.eks_system_nodes_node_group"
    assert graph.waits_for(node_group, "aws_route.network_private_nat_routes")
    assert graph.waits_for(node_group, "aws_nat_gateway.network_nat_gateways")


def test_plan_report_names_the_longest_chain():
    graph = DependencyGraph(
        {
            "aws_vpc.v": frozenset(),
            "aws_eks_cluster.c": frozenset({"aws_vpc.v"}),
            "module.h.aws_cloudcontrolapi_resource.cluster": frozenset({"aws_eks_cluster.c"}),
            "aws_iam_role.r": frozenset(),
        }
    )
    text = report(graph)
    assert text.startswith("Estimated apply critical path: 35 min over 3 steps")
    assert text.index("aws_vpc.v") < text.index("aws_eks_cluster.c") < text.index("module.h.aws_cloudcontrolapi_resource")
    assert "aws_iam_role.r" not in text
