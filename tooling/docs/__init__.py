"""Documents generated from the synthesized stack (``make docs``)."""

from .hcl_teams import render_hcl_teams

__all__ = ["render_hcl_teams"]
