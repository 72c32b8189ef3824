"""``python main.py`` end to end, in fresh processes, as a user runs it."""

from __future__ import annotations

import pytest

from tests.processes import STACK_FILE, run_main


@pytest.mark.slow
def test_synth_is_byte_identical_in_any_directory(cli_synths):
    (first, a), (second, b) = cli_synths
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    first_bytes = (first / STACK_FILE).read_bytes()
    assert first_bytes == (second / STACK_FILE).read_bytes()
    assert str(first).encode() not in first_bytes and b"/tmp/" not in first_bytes


@pytest.mark.slow
def test_synth_prints_a_summary(cli_synths):
    (_, result), _ = cli_synths
    assert "Synthesized stack 'ml-platform' (platform " in result.stdout and "): cdktf.out/stacks/ml-platform/cdk.tf.json" in result.stdout
    assert "  hcl: dist/hcl/ml-platform/" in result.stdout, "make hcl says where it wrote"
    assert "end-of-life" not in result.stderr, "jsii runs on a supported Node.js"
    for subsystem in ("network", "eks", "module.karpenter", "load_balancer_controller", "module.hyperpod"):
        assert f"    {subsystem} " in result.stdout
    for output in ("cluster_name", "cluster_endpoint", "cluster_version", "region", "configure_kubectl"):
        assert output in result.stdout
    assert "resources: 115 + 8 per zone" in result.stdout  # 139 in three zones: 136, the S3 gateway endpoint, the HyperPod buckets' KMS key and alias
    assert "network: 10.0.0.0/16, every zone of the region up to 8 (read at plan), one NAT gateway" in result.stdout
    # Warnings are part of the report on stdout: `cdktf synth` labels a child's stderr [ERROR].
    assert "warning: Kubernetes 1.33 left EKS standard support" in result.stdout
    assert "warning" not in result.stderr
    # The chart is not fetched in tests (tests/processes.py switches it off): the note says what to do.
    assert "note: the HyperPod dependencies chart is not fetched (ML_PLATFORM_FETCH_CHART=0)" in result.stdout


@pytest.mark.slow
def test_synth_leaves_no_staging_folders(cli_synths):
    (directory, _), _ = cli_synths
    assert sorted(p.name for p in directory.iterdir()) == ["cdktf.out", "dist"]


@pytest.mark.slow
def test_invalid_config_exits_2_without_traceback(tmp_path):
    (tmp_path / "bad.yaml").write_text("vpc:\n  nat_gateways: many\n")
    result = run_main(tmp_path, HYPERPOD_EKS_CONFIG=str(tmp_path / "bad.yaml"))
    assert result.returncode == 2
    assert "vpc.nat_gateways" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "cdktf.out").exists()
