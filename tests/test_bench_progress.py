"""`make bench` says what it does while it runs: a line first, then a line per run, on
stderr (stdout keeps the table). The synths are replaced by stand-ins here."""

from __future__ import annotations

from scripts import bench_synth


def test_bench_prints_progress_before_and_during_the_runs(monkeypatch, capsys):
    order: list[str] = []

    def fake_synth(switches):
        order.append("synth")
        return bench_synth.Run(1.0, 300.0)

    def fake_refusal():
        order.append("refusal")
        return 0.25

    monkeypatch.setattr(bench_synth, "synth_once", fake_synth)
    monkeypatch.setattr(bench_synth, "refuse_once", fake_refusal)
    assert bench_synth.main(["--runs", "2"]) == 0
    captured = capsys.readouterr()
    progress = captured.err.splitlines()
    assert progress[0].startswith("bench: 2 run(s) of")
    per_run = progress[1:]
    assert len(per_run) == 2 * (len(bench_synth.WAYS) + 1) == len(order)
    assert per_run[0].startswith("run 1/2 ") and per_run[-1] == "run 2/2 refused configuration: 0.25 s"
    assert "| way | wall time |" in captured.out and "run 1/2" not in captured.out
