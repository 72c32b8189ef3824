"""The HyperPod status check against moto's server and a local Kubernetes API.

moto 5.2 implements CreateCluster, DescribeCluster and ListClusterNodes, but starts every
cluster InService and every node Running with no API to change that, so the failed-node
and failed-cluster cases change moto's in-process state. Its ListClusterNodes pagination
repeats the same NextToken, and its DescribeCluster has no instance-group Status, so
paging and degraded groups are covered with botocore's Stubber (validated against the
real API model).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from botocore.stub import Stubber

from scripts import aws_session, hyperpod_kube, hyperpod_status
from scripts.hyperpod_kube import EksIdentity, KubeReport
from scripts.hyperpod_status import Target, collect_status, ssm_command
from tests.local_endpoints import (  # noqa: F401 - fixtures
    EKS_ARN,
    EKS_CLUSTER,
    REGION,
    ErrorPage,
    FakeKubeApi,
    SilentServer,
    aws_env,
    create_hyperpod_cluster,
    error_page_endpoint,
    html_error_page,
    hyperpod_node,
    isolate_aws_environment,
    kube_api,
    moto_endpoint,
    moto_hyperpod_cluster,
    plain_node,
    point_aws_at,
    pod,
    silent_endpoint,
    write_kubeconfig,
)

REPO = Path(__file__).resolve().parent.parent
WRAPPER = REPO / "scripts" / "check-hyperpod-status.sh"
SUBPROCESS_TIMEOUT = 60


def run_status(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = hyperpod_status.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def closed_loopback_port() -> int:
    """A loopback port with no listener, so connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_line_reason(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cannot check: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def healthy_kube(kube_api: FakeKubeApi, tmp_path: Path) -> Path:
    kube_api.nodes = [
        hyperpod_node("hyperpod-i-0", "gpu-workers"),
        hyperpod_node("hyperpod-i-1", "gpu-workers"),
        plain_node("ip-10-0-1-1.ec2.internal"),
    ]
    kube_api.pods = [pod("health-monitoring-agent-x1"), pod("job-auto-restart-0", phase="Succeeded", ready=False)]
    return write_kubeconfig(tmp_path / "kubeconfig", kube_api.url)


# --- healthy cluster -------------------------------------------------------------------


def test_healthy_cluster_reports_groups_nodes_kubernetes_and_ssm(
    aws_env: str, healthy_kube: Path, kube_api: FakeKubeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 2})

    code, out, err = run_status(
        capsys, "training", REGION, "--eks-cluster", EKS_CLUSTER, "--kubeconfig", str(healthy_kube)
    )

    assert code == 0, err
    assert "HyperPod cluster training (us-east-1): InService" in out
    assert f"ARN: {arn}" in out
    assert "gpu-workers  ml.g5.xlarge  -       2        2" in out
    assert out.count("Running") >= 2
    assert f"Kubernetes (context {EKS_ARN})" in out
    assert "hyperpod-i-0  gpu-workers  yes    Schedulable  Passed" in out
    assert "ip-10-0-1-1" not in out, "only HyperPod nodes are listed"
    assert "health-monitoring-agent-x1  Running" in out
    cluster_id = arn.rsplit("/", 1)[-1]
    assert f"--target sagemaker-cluster:{cluster_id}_gpu-workers-gpu-workers-0 --region us-east-1" in out
    assert out.rstrip().endswith("Result: HEALTHY")
    node_queries = [parse_qs(urlparse(r).query) for r in kube_api.requests if r.startswith("/api/v1/nodes")]
    assert node_queries == [{"labelSelector": ["sagemaker.amazonaws.com/compute-type=hyperpod"]}]


def test_json_report_is_machine_readable(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1, "cpu-workers": 2})

    code, out, _ = run_status(capsys, "training", REGION, "--json")

    report = json.loads(out)
    assert code == 0
    assert report["healthy"] is True and report["problems"] == []
    assert sorted((g["name"], g["current_count"], g["target_count"]) for g in report["groups"]) == [
        ("cpu-workers", 2, 2), ("gpu-workers", 1, 1)
    ]
    assert len(report["nodes"]) == 3
    ssm_prefix = "aws ssm start-session --target sagemaker-cluster:"
    assert all(n["ssm_command"].startswith(ssm_prefix) for n in report["nodes"])
    assert report["kube"]["context"] is None
    assert "reporting the AWS side only" in report["kube"]["note"]


def test_without_a_kube_context_it_says_so_and_reports_aws(
    aws_env: str, kube_api: FakeKubeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})
    other = write_kubeconfig(tmp_path / "kubeconfig", kube_api.url, context="arn:aws:eks:us-east-1:1:cluster/other")

    code, out, _ = run_status(capsys, "training", REGION, "--eks-cluster", EKS_CLUSTER, "--kubeconfig", str(other))

    assert code == 0
    assert f"Kubernetes: not checked: no context for EKS cluster {EKS_CLUSTER}" in out
    assert "reporting the AWS side only" in out
    assert "gpu-workers-0" in out
    assert kube_api.requests == [], "a context for another cluster must not be used"


# --- unhealthy -------------------------------------------------------------------------


def test_failed_node_is_unhealthy_and_named(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 3})
    moto_hyperpod_cluster("training").nodes["gpu-workers-1"].status = "Failure"

    code, out, _ = run_status(capsys, "training", REGION)

    assert code == 1
    assert "Result: UNHEALTHY" in out
    assert "  - node gpu-workers-1 (gpu-workers) is Failure" in out
    assert "gpu-workers-0 (gpu-workers)" not in out


def test_failed_cluster_reports_its_failure_message(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})
    cluster = moto_hyperpod_cluster("training")
    cluster.status, cluster.failure_message = "Failed", "Lifecycle script on_create.sh exited 1"

    code, out, _ = run_status(capsys, "training", REGION)

    assert code == 1
    assert "HyperPod cluster training (us-east-1): Failed" in out
    assert "Failure: Lifecycle script on_create.sh exited 1" in out
    assert "  - cluster is Failed: Lifecycle script on_create.sh exited 1" in out


def test_kubernetes_health_labels_and_pods_make_it_unhealthy(
    aws_env: str, kube_api: FakeKubeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 2})
    kube_api.nodes = [
        hyperpod_node("hyperpod-i-0", "gpu-workers"),
        hyperpod_node("hyperpod-i-1", "gpu-workers", health="UnschedulablePendingReplacement", deep="Failed"),
    ]
    kube_api.pods = [pod("health-monitoring-agent-x1"), pod("training-operator-0", phase="Running", ready=False)]
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube_api.url)

    code, out, _ = run_status(capsys, "training", REGION, "--eks-cluster", EKS_CLUSTER, "--kubeconfig", str(kubeconfig))

    assert code == 1
    assert "  - node hyperpod-i-1 health is UnschedulablePendingReplacement" in out
    assert "  - node hyperpod-i-1 failed its deep health check" in out
    assert "  - pod aws-hyperpod/training-operator-0 is Running (0/1 ready)" in out
    assert "hyperpod-i-0 health" not in out


def test_unreachable_kubernetes_api_is_unknown_not_healthy(
    aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{closed_loopback_port()}")

    code, out, _ = run_status(capsys, "training", REGION, "--kube-context", EKS_ARN, "--kubeconfig", str(kubeconfig))

    assert code == hyperpod_status.EXIT_UNKNOWN == 3
    assert f"Kubernetes: unknown: Kubernetes API unreachable via context {EKS_ARN}" in out
    assert "Result: UNKNOWN" in out and "HEALTHY" not in out.replace("UNHEALTHY", "")
    assert f"  ? Kubernetes side unknown: Kubernetes API unreachable via context {EKS_ARN}" in out


def test_refused_kubernetes_api_is_unknown(
    aws_env: str, kube_api: FakeKubeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})
    kube_api.refuse_with = 403
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube_api.url)

    code, out, _ = run_status(capsys, "training", REGION, "--eks-cluster", EKS_CLUSTER, "--kubeconfig", str(kubeconfig))

    assert code == 3
    assert f"Kubernetes: unknown: Kubernetes API refused the request via context {EKS_ARN}: 403 Forbidden" in out
    assert "Result: UNKNOWN" in out


def test_known_problem_outranks_unknown_kubernetes(
    aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 2})
    moto_hyperpod_cluster("training").nodes["gpu-workers-1"].status = "Failure"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{closed_loopback_port()}")

    code, out, _ = run_status(capsys, "training", REGION, "--kube-context", EKS_ARN, "--kubeconfig", str(kubeconfig))

    assert code == 1
    assert "Result: UNHEALTHY" in out
    assert "  - node gpu-workers-1 (gpu-workers) is Failure" in out
    assert "  ? Kubernetes side unknown: " in out


def test_json_report_says_unknown(aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{closed_loopback_port()}")

    code, out, _ = run_status(
        capsys, "training", REGION, "--kube-context", EKS_ARN, "--kubeconfig", str(kubeconfig), "--json"
    )

    report = json.loads(out)
    assert code == 3
    assert report["result"] == "unknown" and report["healthy"] is False and report["problems"] == []
    assert report["kube"]["unreachable"] is True


def test_multi_line_failure_message_stays_one_problem_line(
    aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})
    cluster = moto_hyperpod_cluster("training")
    cluster.status, cluster.failure_message = "Failed", "Lifecycle script failed:\n  on_create.sh exited 1\r\n"

    code, out, _ = run_status(capsys, "training", REGION)

    assert code == 1
    assert "  Failure: Lifecycle script failed: on_create.sh exited 1\n" in out
    assert "  - cluster is Failed: Lifecycle script failed: on_create.sh exited 1\n" in out


# --- bounded time ----------------------------------------------------------------------
#
# The loopback servers below accept and never answer. The tests shrink the timeouts so they
# run in about a second; test_default_timeouts_fit_the_budget holds the real values to the
# ~15 s budget, and these prove the values reach every call and nothing retries beyond them.


@pytest.fixture
def short_aws_timeouts(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(aws_session, "CONNECT_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(aws_session, "READ_TIMEOUT_SECONDS", 0.5)
    # The worst case: every attempt waits its read timeout, with at most a second between them.
    return aws_session.TOTAL_MAX_ATTEMPTS * 0.5 + aws_session.RETRY_BACKOFF_CAP_SECONDS


def test_default_timeouts_fit_the_budget(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = aws_session.client_config()
    attempts = config.retries["total_max_attempts"]
    silent_server_worst = attempts * config.read_timeout + (attempts - 1) * aws_session.RETRY_BACKOFF_CAP_SECONDS
    assert silent_server_worst <= aws_session.CALL_BUDGET_SECONDS <= 15
    assert config.connect_timeout <= 5 and config.retries["mode"] == "standard"
    connect, read = hyperpod_kube.REQUEST_TIMEOUT
    assert connect + read <= hyperpod_kube.KUBE_DEADLINE_SECONDS <= 15
    # The clients the check uses carry the bounds, and so does the session's default, which
    # botocore's own clients (STS for an assumed role, SSO) are made with.
    point_aws_at(monkeypatch, tmp_path, "http://127.0.0.1:1")
    client = hyperpod_status.sagemaker_client(REGION)
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (3, 6)
    assert client.meta.config.retries["total_max_attempts"] == 2
    default = aws_session.checked_session(REGION)._session.get_default_client_config()
    assert (default.read_timeout, default.retries["total_max_attempts"]) == (6, 2)


def test_silent_aws_endpoint_fails_in_bounded_time(
    silent_endpoint: SilentServer, short_aws_timeouts: float, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    point_aws_at(monkeypatch, tmp_path, silent_endpoint.url)
    started = time.monotonic()

    code, out, err = run_status(capsys, "training", REGION)

    elapsed = time.monotonic() - started
    assert code == 2 and out == ""
    assert_one_line_reason(err, "cannot reach AWS: Read timeout on endpoint URL")
    assert elapsed < short_aws_timeouts + 1.5, elapsed
    assert silent_endpoint.accepted == aws_session.TOTAL_MAX_ATTEMPTS, "one retry, no more"


def test_silent_kubernetes_api_is_unknown_in_bounded_time(
    aws_env: str, silent_endpoint: SilentServer, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})
    monkeypatch.setattr(hyperpod_kube, "REQUEST_TIMEOUT", (0.5, 0.5))
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", silent_endpoint.url)
    started = time.monotonic()

    code, out, _ = run_status(capsys, "training", REGION, "--kube-context", EKS_ARN, "--kubeconfig", str(kubeconfig))

    elapsed = time.monotonic() - started
    assert code == 3
    assert "Kubernetes: unknown: Kubernetes API unreachable via context" in out and "Read timed out" in out
    assert elapsed < 3, elapsed
    assert silent_endpoint.accepted == 1, "urllib3 must not retry a request that timed out"


EXEC_CREDENTIAL = json.dumps({
    "apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": {"token": "t"},
})  # fmt: skip


def exec_kubeconfig(path: Path, server_url: str, script: str) -> Path:
    """A kubeconfig whose user gets its token from `sh -c SCRIPT`, as `aws eks get-token` does."""
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": EKS_ARN,
        "clusters": [{"name": EKS_ARN, "cluster": {"server": server_url}}],
        "contexts": [{"name": EKS_ARN, "context": {"cluster": EKS_ARN, "user": EKS_ARN}}],
        "users": [{"name": EKS_ARN, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "sh", "args": ["-c", script],
            "interactiveMode": "Never",
        }}}],
    }), encoding="utf-8")  # fmt: skip
    return path


def test_hung_credential_plugin_is_unknown_at_the_deadline(
    aws_env: str, silent_endpoint: SilentServer, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # `aws eks get-token` waiting on a browser or a dead network: kubernetes runs it with no
    # timeout; the deadline ends the wait. The stand-in ends by itself after 2 s, with a token.
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})
    monkeypatch.setattr(hyperpod_kube, "KUBE_DEADLINE_SECONDS", 0.5)
    kubeconfig = exec_kubeconfig(tmp_path / "kubeconfig", silent_endpoint.url, f"sleep 2; echo '{EXEC_CREDENTIAL}'")
    started = time.monotonic()

    code, out, _ = run_status(capsys, "training", REGION, "--kube-context", EKS_ARN, "--kubeconfig", str(kubeconfig))

    assert code == 3
    assert f"Kubernetes: unknown: Kubernetes API did not answer within 0.5s via context {EKS_ARN}" in out
    assert time.monotonic() - started < 3


def test_failing_credential_plugin_is_named_in_one_line(aws_env: str, kube_api: FakeKubeApi, tmp_path: Path) -> None:
    # An expired SSO session: `aws eks get-token` fails with several lines, the kubernetes client
    # logs them and calls the API without a token, which refuses.
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})
    kube_api.refuse_with = 401
    kubeconfig = exec_kubeconfig(
        tmp_path / "kubeconfig", kube_api.url,
        "printf 'Error when retrieving token from sso:\\nToken has expired and refresh failed\\n' >&2; exit 255",
    )

    # A process of its own: the kubernetes client's log would reach stderr there, not pytest's.
    arguments = ["training", REGION, "--kube-context", EKS_ARN, "--kubeconfig", str(kubeconfig)]
    result = _wrapper(arguments, dict(os.environ))

    assert result.returncode == 3, result.stderr
    assert result.stderr == "", "the plugin's lines are in the report, not scattered on stderr"
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("Kubernetes: unknown:")]
    assert line.endswith(
        "401 Unauthorized (credential plugin: exec: process returned 255. Error when retrieving token from sso: "
        "Token has expired and refresh failed)"
    )


# --- AWS errors in one line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "content_type", "body", "reason"),
    [
        (403, "text/html", html_error_page("403 Forbidden"), "AWS refused DescribeCluster: 403: 403 Forbidden"),
        (400, "application/x-amz-json-1.1",
         json.dumps({"__type": "ValidationException", "message": "first line\nsecond line\r\n\tthird"}),
         "AWS refused DescribeCluster: ValidationException: first line second line third"),
        (400, "application/x-amz-json-1.1",
         json.dumps({"__type": "ValidationException", "message": "word " * 400}),
         "AWS refused DescribeCluster: ValidationException: word word"),
        # A captive portal or proxy answering 200 with a page: not JSON, so not AWS's reply.
        (200, "text/html", html_error_page("Sign in to the network"),
         "the reply to DescribeCluster has no ClusterArn: was it AWS that answered (a proxy?)"),
    ],
    ids=["html-page", "multi-line-message", "long-message", "page-with-200"],
)
def test_aws_error_reply_is_one_short_line(
    error_page_endpoint: ErrorPage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], status: int, content_type: str, body: str, reason: str,
) -> None:
    error_page_endpoint.status, error_page_endpoint.content_type, error_page_endpoint.body = status, content_type, body
    point_aws_at(monkeypatch, tmp_path, error_page_endpoint.url)

    code, out, err = run_status(capsys, "training", REGION)

    assert code == 2 and out == ""
    assert_one_line_reason(err, reason)
    assert len(err.strip()) <= len("cannot check: AWS's reply could not be read: ") + aws_session.MAX_REASON_CHARS
    assert "<" not in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!DOCTYPE html>\n<html><head>\n<title>\n 502 Bad Gateway \n</title></head><body>x</body></html>",
         "502 Bad Gateway"),
        ("<html><body><h1>Service &amp; proxy down</h1>\n<p>try later</p></body></html>",
         "Service & proxy down try later"),
        ("colour \x1b[31mred\x1b[0m\ttab\x00nul", "colour [31mred [0m tab nul"),
        ("", "(no message)"),
        ("a < b and c > d", "a < b and c > d"),
    ],
    ids=["html-title", "html-without-title", "control-characters", "empty", "not-html"],
)
def test_one_line_makes_any_reason_one_printable_line(text: str, expected: str) -> None:
    assert aws_session.one_line(text) == expected


def stubbed_sagemaker() -> Any:
    # Stubber answers before anything is sent; the loopback endpoint makes sure of it if one ever were.
    return boto3.client(
        "sagemaker", region_name=REGION, endpoint_url="http://127.0.0.1:1",
        aws_access_key_id="x", aws_secret_access_key="x",
    )


def test_degraded_group_and_paginated_nodes_with_stubber() -> None:
    """moto repeats its NextToken and omits group Status: Stubber checks both against the API model."""
    sagemaker = stubbed_sagemaker()
    arn = "arn:aws:sagemaker:us-east-1:123456789012:cluster/a1b2c3d4e5f6"
    launched = _dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=_dt.timezone.utc)

    def node(instance_id: str, status: str) -> dict[str, Any]:
        return {
            "InstanceGroupName": "gpu-workers", "InstanceId": instance_id, "InstanceType": "ml.p5.48xlarge",
            "LaunchTime": launched, "InstanceStatus": {"Status": status, "Message": "deep health check"},
        }

    with Stubber(sagemaker) as stub:
        stub.add_response("describe_cluster", {
            "ClusterArn": arn, "ClusterName": "training", "ClusterStatus": "InService",
            "InstanceGroups": [{
                "InstanceGroupName": "gpu-workers", "InstanceType": "ml.p5.48xlarge", "Status": "Degraded",
                "CurrentCount": 2, "TargetCount": 3,
            }],
            "Orchestrator": {"Eks": {"ClusterArn": EKS_ARN}},
        }, {"ClusterName": "training"})
        stub.add_response("list_cluster_nodes", {
            "ClusterNodeSummaries": [node("i-0aaa", "Running")], "NextToken": "page-2",
        }, {"ClusterName": "training"})
        stub.add_response("list_cluster_nodes", {
            "ClusterNodeSummaries": [node("i-0bbb", "DeepHealthCheckInProgress")],
        }, {"ClusterName": "training", "NextToken": "page-2"})
        seen: list[EksIdentity] = []

        def no_kube(eks: EksIdentity) -> KubeReport:
            seen.append(eks)
            return KubeReport(context=None, note="not under test")

        report = collect_status(sagemaker, Target("training", REGION), no_kube)
        stub.assert_no_pending_responses()

    assert [n.instance_id for n in report.nodes] == ["i-0aaa", "i-0bbb"]
    assert report.nodes[0].launch_time == "2026-01-02 03:04:05Z"
    assert report.problems == [
        "instance group gpu-workers is Degraded",
        "instance group gpu-workers has 2 of 3 instances",
        "node i-0bbb (gpu-workers) is DeepHealthCheckInProgress: deep health check",
    ]
    assert seen[0].arn == EKS_ARN and seen[0].name == EKS_CLUSTER, "the EKS cluster comes from the orchestrator"


def test_ssm_target_uses_the_cluster_id_from_the_arn() -> None:
    arn = "arn:aws:sagemaker:us-west-2:123456789012:cluster/2hd31rmi9mde"
    command = ssm_command(arn, "workers", "i-09e7", "us-west-2")
    assert command == "aws ssm start-session --target sagemaker-cluster:2hd31rmi9mde_workers-i-09e7 --region us-west-2"


# --- cannot check ----------------------------------------------------------------------


def test_missing_cluster_cannot_be_checked(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_status(capsys, "absent", REGION)

    assert code == 2
    assert out == ""
    assert_one_line_reason(err, "HyperPod cluster absent not found in us-east-1")


def test_refused_call_cannot_be_checked() -> None:
    sagemaker = stubbed_sagemaker()
    with Stubber(sagemaker) as stub:
        denied = "not authorized to perform sagemaker:DescribeCluster"
        stub.add_client_error("describe_cluster", "AccessDeniedException", denied)
        with pytest.raises(hyperpod_status.CannotCheck) as refused:
            collect_status(sagemaker, Target("training", REGION), lambda eks: pytest.fail("no Kubernetes lookup"))

    assert str(refused.value) == (
        "AWS refused DescribeCluster: AccessDeniedException: not authorized to perform sagemaker:DescribeCluster"
    )


def test_no_credentials_cannot_be_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_aws_environment(monkeypatch, tmp_path)

    code, _, err = run_status(capsys, "training", REGION)

    assert code == 2
    assert_one_line_reason(err, "no AWS credentials found")


# --- deployment outputs ----------------------------------------------------------------


def _stack_outputs(cluster: str) -> dict[str, Any]:
    return {
        "cluster_name": EKS_CLUSTER,
        "cluster_endpoint": "https://EXAMPLE.gr7.us-east-1.eks.amazonaws.com",
        "cluster_version": "1.33",
        "region": REGION,
        "configure_kubectl": f"aws eks update-kubeconfig --region {REGION} --name {EKS_CLUSTER}",
        "hyperpod_cluster_name": cluster,
        "hyperpod_cluster_status": "InService",
        "lifecycle_scripts_bucket": "sagemaker-lifecycle",
    }


def _terraform_format(outputs: dict[str, Any]) -> dict[str, Any]:
    return {name: {"sensitive": False, "type": "string", "value": value} for name, value in outputs.items()}


@pytest.mark.parametrize("shape", ["cdktf", "terraform"])
def test_reads_cluster_region_and_eks_cluster_from_outputs(
    shape: str, aws_env: str, healthy_kube: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = create_hyperpod_cluster(aws_env, "from-outputs", {"gpu-workers": 2})
    outputs = _stack_outputs("from-outputs")
    outputs["hyperpod_cluster_arn"] = arn
    data = {"ml-platform": outputs} if shape == "cdktf" else _terraform_format(outputs)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    code, out, err = run_status(capsys, "--outputs", str(path), "--kubeconfig", str(healthy_kube))

    assert code == 0, err
    assert "HyperPod cluster from-outputs (us-east-1): InService" in out
    assert f"Kubernetes (context {EKS_ARN})" in out, "cluster_name output finds the kube context"


def test_cdktf_outputs_with_several_stacks_need_stack(
    aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_hyperpod_cluster(aws_env, "second", {"gpu-workers": 1})
    path = tmp_path / "outputs.json"
    stacks = {"first": _stack_outputs("first"), "second": _stack_outputs("second")}
    path.write_text(json.dumps(stacks), encoding="utf-8")

    code, _, err = run_status(capsys, "--outputs", str(path))
    assert code == 2
    assert_one_line_reason(err, "several stacks (first, second); choose one with --stack")

    code, out, _ = run_status(capsys, "--outputs", str(path), "--stack", "second")
    assert code == 0
    assert "HyperPod cluster second (us-east-1)" in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON (line 1"),
        ("[1, 2]", "expected a JSON object of outputs, got list"),
        ("{}", "no outputs (has the stack been deployed?)"),
        ('{"ml-platform": {"region": "us-east-1"}}', "no hyperpod_cluster_name or hyperpod_cluster_arn"),
        ('{"ml-platform": {"hyperpod_cluster_name": "x"}}', "output 'region' is missing or empty"),
        ('{"region": "us-east-1", "hyperpod_cluster_name": "x"}', "neither `cdktf output --outputs-file` nor"),
        ('{"region": {"value": "us-east-1", "type": "string"}}', "no hyperpod_cluster_name"),
    ],
)
def test_malformed_outputs_cannot_be_checked(
    content: str, reason: str, aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(content, encoding="utf-8")

    code, out, err = run_status(capsys, "--outputs", str(path))

    assert code == 2
    assert out == ""
    assert_one_line_reason(err, reason)


def test_missing_outputs_file_cannot_be_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_status(capsys, "--outputs", str(tmp_path / "absent.json"))
    assert code == 2
    assert_one_line_reason(err, "absent.json: no such outputs file")


@pytest.mark.parametrize("kind", ["named-pipe", "device", "folder", "oversized"])
def test_outputs_path_that_is_not_an_outputs_file_is_refused_without_reading(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A named pipe would block the read forever, /dev/zero would never end.
    path = tmp_path / "outputs.json"
    if kind == "named-pipe":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        with path.open("wb") as sparse:
            sparse.truncate(17 * 1024 * 1024)

    code, _, err = run_status(capsys, "--outputs", str(path))

    assert code == 2
    reason = "more than the 16777216 an outputs file can be" if kind == "oversized" else "not a regular file"
    assert_one_line_reason(err, reason)


def test_outputs_with_line_breaks_in_names_still_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"stack\none": {}, "stack\ntwo": {}}), encoding="utf-8")

    code, _, err = run_status(capsys, "--outputs", str(path))

    assert code == 2
    assert_one_line_reason(err, "several stacks (stack one, stack two); choose one with --stack")


# --- the shell wrapper -----------------------------------------------------------------


def _wrapper(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**env, "PYTHON": sys.executable}
    return subprocess.run(
        [str(WRAPPER), *args], env=env, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False
    )


def test_wrapper_help_names_usage_and_exit_codes() -> None:
    result = _wrapper(["--help"], dict(os.environ))
    assert result.returncode == 0
    assert "Usage: check-hyperpod-status.sh <hyperpod-cluster-name> <region>" in result.stdout
    assert "Exit codes: 0 healthy, 1 degraded or unhealthy, 2 cannot check," in result.stdout
    assert "3 unknown: the Kubernetes API did not answer" in " ".join(result.stdout.split())


def test_wrapper_without_arguments_exits_2_with_usage() -> None:
    result = _wrapper([], dict(os.environ))
    assert result.returncode == 2
    assert "Usage:" in result.stderr


def test_wrapper_runs_the_check_from_any_directory(aws_env: str) -> None:
    create_hyperpod_cluster(aws_env, "training", {"gpu-workers": 1})

    healthy = _wrapper(["training", REGION], dict(os.environ))
    missing = _wrapper(["absent", REGION], dict(os.environ))

    assert healthy.returncode == 0, healthy.stderr
    assert "Result: HEALTHY" in healthy.stdout
    assert missing.returncode == 2
    assert_one_line_reason(missing.stderr, "HyperPod cluster absent not found")
