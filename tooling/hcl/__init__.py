"""HCL copies of the synthesized JSON, for review (``make hcl``)."""

from .write import HCL_DIR, write_hcl

__all__ = ["HCL_DIR", "write_hcl"]
