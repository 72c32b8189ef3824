"""What Terraform makes of the synthesized configuration: its dependency graph (from
``terraform graph``), the estimated apply critical path, the architecture diagram."""

from .architecture import render_markdown as architecture_markdown
from .create_times import create_seconds
from .graph import Address, DependencyGraph, address_of, from_dot

__all__ = ["Address", "DependencyGraph", "address_of", "architecture_markdown", "create_seconds", "from_dot"]
