"""Addresses of the previous release, for the ``moved`` blocks that carry a state over.

Until this release HyperPod and Karpenter lived in the root module: a resource's address
was its construct path joined with ``_`` (an exact repeat of the part before left out),
and every HyperPod resource was counted by ``var.hyperpod_enabled`` (``[0]``). They are now
modules (``module.hyperpod[0]``, ``module.karpenter``) whose construct tree below the
subsystem is the one it was, so the old address follows from the path. Remove this, and
the moved blocks, once every deployment has applied this release (see the README's
upgrade notes).
"""

from __future__ import annotations

import re

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def previous_address(resource_type: str, path: list[str], counted_before: bool) -> str:
    """``path``: the construct path below the module stack, its first part the
    subsystem's construct (``hyperpod``, ``karpenter``), which was a child of the root
    stack before."""
    kept = [part for i, part in enumerate(path) if i == 0 or part != path[i - 1]]
    name = _NOT_IDENTIFIER.sub("_", "_".join(kept))
    return f"{resource_type}.{name}" + ("[0]" if counted_before else "")
