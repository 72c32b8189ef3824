"""The session store: what two pytest-xdist workers both need is computed once."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from tests.session_store import SessionStore


def _compute_slowly(store_dir: str, key: str, log: str) -> str:
    def compute(folder: Path) -> None:
        with open(log, "a") as out:
            out.write(f"{key}\n")
        time.sleep(0.3)  # long enough for the other process to ask meanwhile
        (folder / "result").write_text(f"result of {key}")

    return (SessionStore(Path(store_dir)).once("synth", key, compute) / "result").read_text()


def test_two_processes_asking_at_once_compute_once(tmp_path: Path):
    log = tmp_path / "computed.log"
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.starmap(_compute_slowly, [(str(tmp_path / "store"), "{}", str(log))] * 2)
    assert results == ["result of {}", "result of {}"]
    assert log.read_text() == "{}\n"


def test_a_failed_computing_is_not_kept(tmp_path: Path):
    store = SessionStore(tmp_path / "store")
    calls = []

    def failing(folder: Path) -> None:
        calls.append(folder)
        (folder / "partial").write_text("half done")
        raise RuntimeError("terraform failed")

    for _ in range(2):
        with pytest.raises(RuntimeError, match="terraform failed"):
            store.once("plan", '["{}", 3]', failing)
    assert len(calls) == 2, "the second request computes again"

    def succeeding(folder: Path) -> None:
        assert not (folder / "partial").exists(), "a failed attempt's files are gone"
        (folder / "result").write_text("done")

    assert (store.once("plan", '["{}", 3]', succeeding) / "result").read_text() == "done"
    assert store.once("plan", '["{}", 3]', failing).joinpath("result").read_text() == "done"
