"""What Terraform makes of the synthesized configuration: its dependency graph (from
``terraform graph``), the estimated apply critical path, the architecture diagram."""

from .graph import Address, DependencyGraph, address_of, from_dot

__all__ = ["Address", "DependencyGraph", "address_of", "from_dot"]
