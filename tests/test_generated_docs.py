"""The documents generated from code match it: regenerate with ``make docs``."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.analysis.architecture import SUBSYSTEMS, main_resources, mermaid, subsystem_of
from scripts.generate_docs import documents

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("name", ["hyperpod-instance-types.md", "hcl-teams.md", "architecture.md"])
def test_document_is_the_code_rendered(raw_stack, name):
    assert (DOCS / name).read_text() == documents(raw_stack)[name], f"run make docs to regenerate docs/{name}"


def test_hcl_teams_lists_every_variable_and_output(raw_stack):
    text = documents(raw_stack)["hcl-teams.md"]
    for name in raw_stack["variable"]:
        assert f"| `{name}` |" in text, name
    for name in raw_stack["output"]:
        assert f"| `{name}` |" in text, name


def test_every_resource_belongs_to_a_subsystem(raw_stack):
    for named in raw_stack["resource"].values():
        for name in named:
            assert subsystem_of(name) in SUBSYSTEMS or name.startswith("cluster_access"), name


def test_diagram_shows_each_subsystem_and_the_cluster_dependencies(raw_stack):
    diagram = mermaid(raw_stack)
    for subsystem in SUBSYSTEMS:
        assert f"subgraph {subsystem}[" in diagram
    assert "aws_cloudcontrolapi_resource__hyperpod_cluster --> aws_eks_cluster__eks_control_plane_cluster" in diagram
    assert "helm_release__karpenter_node_pools --> helm_release__karpenter_release" in diagram
    nodes = {address.replace(".", "__") for address in main_resources(raw_stack)}
    for line in diagram.splitlines():
        if "-->" in line:
            waiting, needed = line.strip().split(" --> ")
            assert {waiting, needed} <= nodes
