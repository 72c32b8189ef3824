"""Reading synthesized Terraform JSON: references, the dependency graph, the critical path."""

from .graph import Address, DependencyGraph, build_graph
from .references import declared_addresses, expressions, references_in

__all__ = ["Address", "DependencyGraph", "build_graph", "declared_addresses", "expressions", "references_in"]
