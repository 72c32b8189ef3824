"""Start-up of the jsii runtime, called explicitly by each entry point (``main.py``, the
tests' conftest, the scripts that synthesize) before any cdktf binding is imported.

Nothing here runs on import: ``prepare()`` is the one call. It sets environment variables
that the jsii runtime reads when it starts its Node.js process, and installs the lean
Python import hook for the provider packages:

| what | why | switch |
|---|---|---|
| ``JSII_NODE``: the pinned Node.js 24 | no end-of-life banner; supported runtime | set ``JSII_NODE`` |
| lean Python imports of the provider packages | ~2,200 submodules not imported | ``ML_PLATFORM_LEAN_IMPORTS=0`` |
| lazy Node.js provider index (``--require`` preload) | ~2,200 JS modules not loaded | ``ML_PLATFORM_LAZY_NODE_MODULES=0`` |
| ``NODE_COMPILE_CACHE`` in the project cache | V8 code of the kernel reused | set ``NODE_COMPILE_CACHE`` |
| a private temporary folder (``private_temp``) | removed by every exit, even a fast or interrupted one | |

The jsii Python runtime writes its JavaScript (2.2 MB) to a fresh temporary folder at each
start and removes it only in its own clean-up at a normal interpreter exit, which the
command line skips (``cli.app.exit_without_teardown``) or which an interrupt can reach
before the runtime has registered it. With ``private_temp`` every temporary file of the
process, Python's and Node's, goes into one folder of its own that ``discard_private_temp``
removes at any exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import MutableMapping

from . import lean_imports, node

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE = PROJECT_ROOT / ".cache"


@dataclass(frozen=True)
class Runtime:
    node: str | None
    lean_imports: bool
    lazy_node_modules: bool


def prepare(environ: MutableMapping[str, str] = os.environ, cache: Path = CACHE, private_temp: bool = False) -> Runtime:
    """Prepare the runtime; idempotent. Must run before the first cdktf import.
    ``private_temp`` is for processes that end by ``discard_private_temp`` (the command
    line), not for a test session, whose own temporary folders must outlive it."""
    if private_temp:
        _use_private_temp(environ)
    node.keep_compile_cache(cache / "node-compile-cache", environ)
    return Runtime(
        node=node.select_node(environ),
        lean_imports=lean_imports.install(environ),
        lazy_node_modules=node.preload_lazy_provider_index(environ),
    )


_private_temp: Path | None = None


def _use_private_temp(environ: MutableMapping[str, str]) -> None:
    global _private_temp
    if _private_temp is None:
        # Ctrl-C or SIGTERM waits until the folder is recorded: an interrupt between its
        # creation and its recording would leave it behind.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            _private_temp = Path(tempfile.mkdtemp(prefix="ml-platform-"))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        tempfile.tempdir = str(_private_temp)  # Python's side: the runtime's JavaScript
        environ["TMPDIR"] = str(_private_temp)  # Node's side: the kernel's package folder
        atexit.register(discard_private_temp)  # before jsii registers its own: runs after it


def discard_private_temp() -> None:
    """Remove the process's temporary folder (the jsii runtime's files with it). Safe to
    call more than once, and while the jsii Node.js process still runs: it has loaded
    its files already."""
    global _private_temp
    if _private_temp is not None:
        tempfile.tempdir = None
        # Interrupted while the jsii Node.js process still unpacks its files there, the
        # folder can gain a file during the removal: try again for a moment.
        deadline = time.monotonic() + 2
        shutil.rmtree(_private_temp, ignore_errors=True)
        while _private_temp.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
            shutil.rmtree(_private_temp, ignore_errors=True)
        _private_temp = None
