"""The dependency graph Terraform itself builds (``terraform graph -type=plan``), between
resources and data sources.

Terraform's plan graph also holds variables, locals, outputs, module inputs and provider
nodes; a resource that waits for another through them (a module input that reads an
output of another resource, say) waits for it all the same, so those nodes are collapsed:
an edge here is "waits for, with nothing but Terraform's own bookkeeping between".
Addresses carry their module path and no instance key (``module.hyperpod.aws_iam_role.x``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

Address = str

_EDGE = re.compile(r'^\s*"([^"]+)"\s*->\s*"([^"]+)"')
_NODE = re.compile(r'^\s*"([^"]+)"\s*\[')
_NOT_RESOURCES = ("var.", "local.", "output.", "provider", "module.", "root", "meta.", "check.")


def address_of(node: str) -> Address | None:
    """The resource or data-source address a plan-graph node stands for, else None."""
    name = node.removeprefix("[root] ")
    name = re.sub(r" \((expand|close|prune|destroy)\)$", "", name)
    module_path = ""
    while name.startswith("module."):
        parts = name.split(".", 2)
        if len(parts) < 3:
            return None
        module_path += f"module.{parts[1]}."
        name = parts[2]
    if name.startswith(_NOT_RESOURCES) or "." not in name:
        return None
    kind, rest = name.split(".", 1)
    if kind == "data":
        if rest.count(".") != 1:
            return None
    elif "_" not in kind or rest.count(".") != 0:
        return None
    return module_path + name


@dataclass(frozen=True)
class DependencyGraph:
    edges: dict[Address, frozenset[Address]]
    """Address -> the addresses it waits for directly."""

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

    def longest_path(self, weight: dict[Address, float]) -> tuple[float, list[Address]]:
        """The chain of waits with the largest sum of weights (the critical path)."""

        @cache
        def best(node: Address) -> tuple[float, tuple[Address, ...]]:
            options = [best(dependency) for dependency in self.edges.get(node, ())]
            total, chain = max(options, default=(0.0, ()))
            return total + weight.get(node, 0.0), (*chain, node)

        total, chain = max((best(node) for node in self.edges), default=(0.0, ()))
        return total, list(chain)


def from_dot(text: str) -> DependencyGraph:
    """Parse ``terraform graph -type=plan`` and collapse the nodes that are not resources."""
    raw: dict[str, set[str]] = {}
    for line in text.splitlines():
        edge = _EDGE.match(line)
        if edge:
            raw.setdefault(edge.group(1), set()).add(edge.group(2))
            raw.setdefault(edge.group(2), set())
            continue
        node = _NODE.match(line)
        if node:
            raw.setdefault(node.group(1), set())
    edges: dict[Address, frozenset[Address]] = {}
    for node in raw:
        address = address_of(node)
        if address is None:
            continue
        reached: set[Address] = set()
        seen: set[str] = set()
        pending = list(raw[node])
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            target = address_of(current)
            if target is not None:
                if target != address:
                    reached.add(target)
            else:
                pending.extend(raw.get(current, ()))
        edges[address] = frozenset(edges.get(address, frozenset()) | reached)
    return DependencyGraph(edges)
