"""References into counted resources, which cdktf has no typed accessor for."""

from __future__ import annotations

from cdktf import TerraformResource, Token


def splat(resource: TerraformResource, attribute: str) -> list[str]:
    """``resource[*].attribute`` of a resource created with ``count``, as a list token."""
    return Token.as_list(resource.interpolation_for_attribute(f"*.{attribute}"))
