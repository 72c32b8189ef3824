"""The documents generated from code match it: regenerate with ``make docs``."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.generate_docs import Synthesized, documents
from tooling.analysis import from_dot
from tooling.analysis.architecture import SUBSYSTEMS, main_resources, mermaid, subsystem_of

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def synthesized(stack, workspace) -> Synthesized:
    ws = workspace({}, 3, "plan")
    ws.init()
    return Synthesized(stack.root, stack.modules, from_dot(ws.run("graph", "-type=plan").stdout))


@pytest.fixture(scope="module")
def rendered(synthesized) -> dict[str, str]:
    return documents(synthesized)


@pytest.mark.parametrize("name", ["hyperpod-instance-types.md", "hcl-teams.md", "architecture.md"])
def test_document_is_the_code_rendered(rendered, name):
    assert (DOCS / name).read_text() == rendered[name], f"run make docs to regenerate docs/{name}"


def test_hcl_teams_lists_every_variable_and_output(rendered, stack):
    text = rendered["hcl-teams.md"]
    for document in stack.all_documents().values():
        for name in document.get("variable", {}):
            assert f"| `{name}` |" in text, name
        for name in document.get("output", {}):
            assert f"| `{name}` |" in text, name


def test_every_resource_belongs_to_a_subsystem(synthesized):
    for address in synthesized.graph.edges:
        if ".data." not in f".{address}":
            assert subsystem_of(address) in SUBSYSTEMS, address


def test_diagram_shows_each_subsystem_and_the_cluster_dependencies(synthesized):
    documents_by_module = {"": synthesized.root, **synthesized.modules}
    diagram = mermaid(synthesized.graph, documents_by_module)
    for subsystem in SUBSYSTEMS:
        assert f'subgraph {subsystem.replace(".", "__")}["' in diagram
    assert "module__karpenter__helm_release__node_pools --> module__karpenter__helm_release__release" in diagram
    nodes = {address.replace(".", "__") for address in main_resources(synthesized.graph, documents_by_module)}
    for line in diagram.splitlines():
        if "-->" in line:
            waiting, needed = line.strip().split(" --> ")
            assert {waiting, needed} <= nodes
