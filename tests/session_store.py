"""Results every process of a test session shares: a synth, a plan or an apply of one
configuration is computed once per session, by the first pytest-xdist worker that needs
it; a worker that needs it meanwhile waits for it and then reads it.

The results sit in a folder the session owns (the controller makes it and hands it to
the workers); a lock file per result (``flock``, released by the kernel if its holder
dies) makes the computing exclusive. A result whose computing fails is not kept: the
next process that asks computes it again and meets the same failure.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
from pathlib import Path
from typing import Callable

COMPLETE = ".complete"


class SessionStore:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def once(self, kind: str, key: str, compute: Callable[[Path], None]) -> Path:
        """The folder of the result ``kind``/``key``: ``compute(folder)`` fills it the first
        time any process of the session asks for it."""
        name = f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:20]}"
        folder = self.folder / name
        with open(self.folder / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / COMPLETE).exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                (folder / "key").write_text(key + "\n")
                compute(folder)
                (folder / COMPLETE).touch()
        return folder
