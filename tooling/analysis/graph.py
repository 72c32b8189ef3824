"""The dependency graph Terraform builds from references and ``depends_on``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .references import expressions, references_in

Address = str


@dataclass
class DependencyGraph:
    """``edges[a]`` holds what ``a`` waits for (its references and ``depends_on``)."""

    edges: dict[Address, set[Address]] = field(default_factory=dict)

    def dependencies(self, address: Address) -> set[Address]:
        """Everything ``address`` waits for, directly or not."""
        seen: set[Address] = set()
        pending = list(self.edges.get(address, ()))
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending.extend(self.edges.get(current, ()))
        return seen

    def waits_for(self, address: Address, other: Address) -> bool:
        return other in self.dependencies(address)

    def cycles(self) -> list[list[Address]]:
        """One cycle per strongly connected group of more than one node (or a self-loop)."""
        index: dict[Address, int] = {}
        low: dict[Address, int] = {}
        stack: list[Address] = []
        on_stack: set[Address] = set()
        found: list[list[Address]] = []

        def visit(node: Address) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for target in self.edges.get(node, ()):
                if target not in index:
                    visit(target)
                    low[node] = min(low[node], low[target])
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in self.edges.get(node, ()):
                    found.append(sorted(group))

        for node in sorted(self.edges):
            if node not in index:
                visit(node)
        return found

    def longest_path(self, weight: dict[Address, float]) -> tuple[float, list[Address]]:
        """The chain of waits with the largest total weight (the graph must be acyclic)."""
        memo: dict[Address, tuple[float, list[Address]]] = {}

        def best(node: Address) -> tuple[float, list[Address]]:
            if node not in memo:
                tail = max((best(dep) for dep in self.edges.get(node, ())), default=(0.0, []))
                memo[node] = (tail[0] + weight.get(node, 0.0), [*tail[1], node])
            return memo[node]

        return max((best(node) for node in sorted(self.edges)), default=(0.0, []))


def _blocks(document: dict[str, Any]) -> dict[Address, dict[str, Any]]:
    blocks = {}
    for resource_type, named in document.get("resource", {}).items():
        blocks.update({f"{resource_type}.{name}": body for name, body in named.items()})
    for data_type, named in document.get("data", {}).items():
        blocks.update({f"data.{data_type}.{name}": body for name, body in named.items()})
    return blocks


def build_graph(document: dict[str, Any]) -> DependencyGraph:
    """Resources and data sources, each with what it references or explicitly depends on.
    Variables, locals and module outputs are traversed through (locals may reference
    resources), so an edge always ends at a resource or data source."""
    blocks = _blocks(document)
    locals_ = document.get("locals", {})
    graph = DependencyGraph()
    for address, body in blocks.items():
        body = {k: v for k, v in body.items() if k != "//"}
        targets: set[Address] = set(body.get("depends_on", []))
        for expression in expressions({k: v for k, v in body.items() if k != "depends_on"}):
            targets |= references_in(expression)
        graph.edges[address] = _resolve_locals(targets, locals_) - {address}
    return graph


def _resolve_locals(targets: set[Address], locals_: dict[str, Any]) -> set[Address]:
    resolved, pending, seen = set(), list(targets), set()
    while pending:
        target = pending.pop()
        if target in seen:
            continue
        seen.add(target)
        if target.startswith("local."):
            for expression in expressions(locals_.get(target.removeprefix("local."))):
                pending.extend(references_in(expression))
        elif not target.startswith(("var.", "module.")):
            resolved.add(target)
    return resolved
