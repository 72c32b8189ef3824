"""Preflight against moto's server (availability zones) and Stubber where moto falls short.

moto 5.2 has no values for Service Quotas (GetServiceQuota answers NoSuchResource for EC2
codes, ListServiceQuotas is not implemented) and no EKS DescribeAddonVersions, so those
checks run against botocore's Stubber, which validates every request and response
against the real API model.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import TokenRetrievalError
from botocore.stub import Stubber

from modules.config import PlatformConfig, parse_config
from scripts import aws_session, preflight
from scripts.preflight import (
    CAPACITY_QUOTA_KIND,
    EC2_GPU_QUOTAS,
    Clients,
    Verdict,
    check_addon_versions,
    check_control_plane_azs,
    check_gpu_pool_quotas,
    check_hyperpod_quotas,
    check_kubernetes_support,
    run_preflight,
)
from tests.local_endpoints import (  # noqa: F401 - fixtures
    REGION,
    ErrorPage,
    SilentServer,
    aws_client,
    aws_env,
    error_page_endpoint,
    html_error_page,
    isolate_aws_environment,
    moto_endpoint,
    point_aws_at,
    silent_endpoint,
)

REPO = Path(__file__).resolve().parent.parent
TODAY = _dt.date(2026, 1, 15)  # 1.33 in standard support, 1.31 in extended
SUBPROCESS_TIMEOUT = 60


def config(**overrides: Any) -> PlatformConfig:
    return parse_config({"region": REGION, **overrides}, today=TODAY)


def offline_client(service: str) -> Any:
    # Stubbed clients never send; the loopback endpoint makes sure of it if one ever did.
    return boto3.client(
        service, region_name=REGION, endpoint_url="http://127.0.0.1:1",
        aws_access_key_id="x", aws_secret_access_key="x",
    )


def cluster_quota(instance_type: str, value: float, code: str = "L-0000AAAA") -> dict[str, Any]:
    return {
        "ServiceCode": "sagemaker", "QuotaCode": code, "QuotaName": f"{instance_type} for cluster usage",
        "Value": value, "Unit": "None", "Adjustable": True, "GlobalQuota": False,
    }


def ec2_quota(code: str, value: float) -> dict[str, Any]:
    return {"Quota": {"ServiceCode": "ec2", "QuotaCode": code, "Value": value, "Unit": "None"}}


def expect_quota(stub: Stubber, code: str, value: float) -> None:
    stub.add_response("get_service_quota", ec2_quota(code, value), {"ServiceCode": "ec2", "QuotaCode": code})


def addon_versions(addon: str, cluster_version: str, *versions: str) -> dict[str, Any]:
    return {"addons": [{
        "addonName": addon,
        "type": "machine-learning",
        "addonVersions": [
            {"addonVersion": v, "compatibilities": [{"clusterVersion": cluster_version, "defaultVersion": i == 0}]}
            for i, v in enumerate(versions)
        ],
    }]} if versions else {"addons": []}


# --- availability zones (moto) ---------------------------------------------------------


def test_control_plane_azs_exclude_unsupported_zone_ids(aws_env: str) -> None:
    result = check_control_plane_azs(config(), aws_client("ec2", aws_env, "us-east-1"))

    assert result.verdict is Verdict.PASS
    # moto places use1-az3 at us-east-1e, as in many real accounts.
    assert result.message == (
        "5 usable for the EKS control plane: us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f "
        "(excluded for EKS: use1-az3)"
    )


def test_two_zone_region_passes(aws_env: str) -> None:
    result = check_control_plane_azs(config(region="us-west-1"), aws_client("ec2", aws_env, "us-west-1"))
    assert result.verdict is Verdict.PASS
    assert result.message == "2 usable for the EKS control plane: us-west-1a, us-west-1b"


def test_one_usable_zone_fails() -> None:
    ec2 = offline_client("ec2")
    zones = [
        {"ZoneName": "us-east-1a", "ZoneId": "use1-az6", "State": "available", "ZoneType": "availability-zone"},
        {"ZoneName": "us-east-1e", "ZoneId": "use1-az3", "State": "available", "ZoneType": "availability-zone"},
    ]
    with Stubber(ec2) as stub:
        stub.add_response("describe_availability_zones", {"AvailabilityZones": zones})
        result = check_control_plane_azs(config(), ec2)

    assert result.verdict is Verdict.FAIL
    assert result.message == "1 usable for the EKS control plane in us-east-1, need 2 (excluded for EKS: use1-az3)"


# --- HyperPod SageMaker quotas (Stubber) -----------------------------------------------


def test_hyperpod_quotas_sum_groups_of_one_type_across_pages() -> None:
    groups = [
        {"name": "a", "instance_type": "ml.g5.xlarge", "instance_count": 2},
        {"name": "b", "instance_type": "ml.g5.xlarge", "instance_count": 2},
        {"name": "c", "instance_type": "ml.p5.48xlarge", "instance_count": 1},
    ]
    quotas = offline_client("service-quotas")
    with Stubber(quotas) as stub:
        first_page = {"Quotas": [cluster_quota("ml.g5.xlarge", 3, "L-G5")], "NextToken": "n"}
        stub.add_response("list_service_quotas", first_page, {"ServiceCode": "sagemaker"})
        last_page = {"Quotas": [cluster_quota("ml.p5.48xlarge", 4)]}
        stub.add_response("list_service_quotas", last_page, {"ServiceCode": "sagemaker", "NextToken": "n"})
        results = check_hyperpod_quotas(config(hyperpod={"instance_groups": groups}), quotas)

    assert [(r.verdict, r.message) for r in results] == [
        (Verdict.FAIL, "ml.g5.xlarge for cluster usage is 3, the instance groups need 4: "
                       "request an increase (Service Quotas, SageMaker, L-G5)"),
        (Verdict.PASS, "ml.p5.48xlarge for cluster usage is 4, need 1"),
    ]


def test_hyperpod_instance_type_without_a_quota_fails() -> None:
    quotas = offline_client("service-quotas")
    with Stubber(quotas) as stub:
        page = {"Quotas": [cluster_quota("ml.c5.large", 10)]}
        stub.add_response("list_service_quotas", page, {"ServiceCode": "sagemaker"})
        [result] = check_hyperpod_quotas(config(), quotas)

    assert result.verdict is Verdict.FAIL
    assert "no SageMaker quota 'ml.g5.xlarge for cluster usage' in us-east-1" in result.message


def test_disabled_hyperpod_needs_no_quota_or_addons() -> None:
    disabled = config(hyperpod={"enabled": False})
    [quota] = check_hyperpod_quotas(disabled, quotas=None)
    assert quota.verdict is Verdict.PASS and "HyperPod disabled" in quota.message
    assert check_addon_versions(disabled, eks=None) == []


# --- Karpenter GPU pool EC2 quotas (Stubber) -------------------------------------------


def test_gpu_pool_spot_quota_of_zero_fails() -> None:
    quotas = offline_client("service-quotas")
    with Stubber(quotas) as stub:
        expect_quota(stub, "L-7212CCBC", 0)
        [result] = check_gpu_pool_quotas(config(), quotas)

    assert result.verdict is Verdict.FAIL
    assert result.message == (
        "All P Spot Instance Requests (L-7212CCBC) is 0 vCPUs; the smallest pool type needs 192: request an increase"
    )


def test_gpu_pool_checks_each_family_and_capacity_type() -> None:
    pool = {"instance_types": ["p5.48xlarge", "p4d.24xlarge", "g6e.12xlarge"], "capacity_types": ["spot", "on-demand"]}
    quotas = offline_client("service-quotas")
    with Stubber(quotas) as stub:
        expect_quota(stub, "L-DB2E81BA", 0)
        # An account that never changed the G spot quota has only the default.
        g_spot = {"ServiceCode": "ec2", "QuotaCode": "L-3819A6DF"}
        stub.add_client_error("get_service_quota", "NoSuchResourceException", expected_params=g_spot)
        stub.add_response("get_aws_default_service_quota", ec2_quota("L-3819A6DF", 64), g_spot)
        expect_quota(stub, "L-417A185B", 96)
        expect_quota(stub, "L-7212CCBC", 384)
        results = check_gpu_pool_quotas(config(karpenter={"pools": [{"kind": "gpu", **pool}]}), quotas)
        stub.assert_no_pending_responses()

    assert [(r.verdict, r.message.split(";")[0]) for r in results] == [
        (Verdict.FAIL, "Running On-Demand G and VT instances (L-DB2E81BA) is 0 vCPUs"),
        (Verdict.PASS, "All G and VT Spot Instance Requests (L-3819A6DF) is 64 vCPUs"),
        (Verdict.WARN, "Running On-Demand P instances (L-417A185B) is 96 vCPUs"),
        (Verdict.PASS, "All P Spot Instance Requests (L-7212CCBC) is 384 vCPUs"),
    ]
    assert results[3].message.endswith("fits 2 of the largest pool type")


def test_every_gpu_type_the_configuration_accepts_has_vcpu_and_quota_facts() -> None:
    from modules.config.ec2_instance_types import GPU_INSTANCES
    from scripts.preflight import INSTANCE_VCPUS, _family_letter

    families = {letter for letter, _ in EC2_GPU_QUOTAS}
    for instance_type in GPU_INSTANCES:
        assert instance_type in INSTANCE_VCPUS and _family_letter(instance_type) in families, instance_type
    for letter in families:
        assert {kind for family, kind in EC2_GPU_QUOTAS if family == letter} == set(CAPACITY_QUOTA_KIND.values())


# --- Kubernetes version and add-ons ----------------------------------------------------


@pytest.mark.parametrize(
    ("today", "verdict", "fragment"),
    [
        (_dt.date(2026, 1, 15), Verdict.PASS, "1.33 in standard support until 2026-07-29"),
        (_dt.date(2026, 9, 1), Verdict.WARN, "1.33 in extended support (billed extra) until 2027-07-29"),
        (_dt.date(2027, 8, 1), Verdict.FAIL, "1.33 support ended on 2027-07-29"),
    ],
)
def test_kubernetes_support_phase_comes_from_the_calendar(today: _dt.date, verdict: Verdict, fragment: str) -> None:
    result = check_kubernetes_support(config(kubernetes_version="1.33"), today)
    assert result.verdict is verdict
    assert fragment in result.message


def test_only_enabled_addons_are_checked_and_unsupported_ones_fail() -> None:
    eks = offline_client("eks")
    hyperpod = {"enable_training_operator": True, "enable_task_governance": False, "enable_observability": True}
    training, observability = "amazon-sagemaker-hyperpod-training-operator", "amazon-sagemaker-hyperpod-observability"
    with Stubber(eks) as stub:
        supported = addon_versions(training, "1.33", "v1.2.0-eksbuild.1", "v1.1.0-eksbuild.1")
        stub.add_response("describe_addon_versions", supported, {"addonName": training, "kubernetesVersion": "1.33"})
        none_for_133 = addon_versions(observability, "1.33")
        stub.add_response("describe_addon_versions", none_for_133, {"addonName": observability, "kubernetesVersion": "1.33"})
        results = check_addon_versions(config(hyperpod=hyperpod), eks)
        stub.assert_no_pending_responses()

    assert [(r.verdict, r.message) for r in results] == [
        (Verdict.PASS, f"{training} supports Kubernetes 1.33 (v1.2.0-eksbuild.1)"),
        (Verdict.FAIL, f"{observability} has no version for Kubernetes 1.33"),
    ]


# --- the whole run and the command line ------------------------------------------------


def _passing_stubs(quotas: Stubber, eks: Stubber) -> None:
    quotas.add_response("list_service_quotas", {"Quotas": [cluster_quota("ml.g5.xlarge", 8)]})
    quotas.add_response("get_service_quota", ec2_quota("L-7212CCBC", 384))
    training = addon_versions("amazon-sagemaker-hyperpod-training-operator", "1.33", "v1.2.0")
    eks.add_response("describe_addon_versions", training)


def test_main_passes_with_moto_zones_and_stubbed_quotas(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    quotas, eks = offline_client("service-quotas"), offline_client("eks")
    with Stubber(quotas) as quota_stub, Stubber(eks) as eks_stub:
        _passing_stubs(quota_stub, eks_stub)
        code = preflight.main(
            [], clients_for=lambda region: Clients(aws_client("ec2", aws_env, region), eks, quotas), today=TODAY
        )
    out = capsys.readouterr().out

    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "Preflight for ml-platform in us-west-2"
    assert all(line.startswith("[PASS] ") for line in lines[1:-1]), out
    assert lines[-1] == "5 checks: 0 failed, 0 warnings"


def test_main_fails_and_reports_refused_calls(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    quotas, eks = offline_client("service-quotas"), offline_client("eks")
    with Stubber(quotas) as quota_stub, Stubber(eks) as eks_stub:
        quota_stub.add_client_error("list_service_quotas", "AccessDeniedException", "not authorized")
        quota_stub.add_response("get_service_quota", ec2_quota("L-7212CCBC", 0))
        eks_stub.add_response("describe_addon_versions", addon_versions("x", "1.33"))
        code = preflight.main(
            ["--json"], clients_for=lambda region: Clients(aws_client("ec2", aws_env, region), eks, quotas), today=TODAY
        )
    report = json.loads(capsys.readouterr().out)

    # Two checks failed and one could not run: the failures decide the exit code.
    assert code == 1
    assert (report["result"], report["exit_code"], report["error"]) == ("failed", 1, None)
    assert (report["failed"], report["unknown"]) == (2, 1)
    unknown = [r["message"] for r in report["results"] if r["verdict"] == "unknown"]
    assert unknown == ["could not check (AWS refused ListServiceQuotas: AccessDeniedException: not authorized)"]


def test_refused_call_and_no_failure_cannot_check(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Before, a check AWS refused was a [FAIL] and preflight exited 1: the account was never
    # looked at, so 2 (cannot check) is the honest answer.
    quotas, eks = offline_client("service-quotas"), offline_client("eks")
    with Stubber(quotas) as quota_stub, Stubber(eks) as eks_stub:
        quota_stub.add_client_error("list_service_quotas", "AccessDeniedException", "not authorized")
        quota_stub.add_response("get_service_quota", ec2_quota("L-7212CCBC", 384))
        training = addon_versions("amazon-sagemaker-hyperpod-training-operator", "1.33", "v1")
        eks_stub.add_response("describe_addon_versions", training)
        code = preflight.main(
            [], clients_for=lambda region: Clients(aws_client("ec2", aws_env, region), eks, quotas), today=TODAY
        )
    out = capsys.readouterr().out

    assert code == 2
    assert (
        "[UNKNOWN] HyperPod SageMaker quotas: could not check (AWS refused ListServiceQuotas: AccessDeniedException: "
        "not authorized)" in out.splitlines()
    )
    assert out.splitlines()[-1] == "5 checks: 0 failed, 0 warnings, 1 could not be checked"


class _ExpiredSsoQuotas:
    """A Service Quotas client whose SSO token expired: botocore raises before any request."""

    def get_paginator(self, name: str) -> Any:
        raise TokenRetrievalError(provider="sso", error_msg="Token has expired and refresh failed")


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize(
    ("quotas_for", "reason"),
    [
        ("expired-token", "AWS rejected the credentials: ListServiceQuotas: ExpiredTokenException: "
                          "The security token included in the request is expired"),
        ("expired-sso", "AWS credentials: Error when retrieving token from sso: Token has expired and refresh failed"),
    ],
)
def test_credentials_that_do_not_work_stop_the_run(
    aws_env: str, capsys: pytest.CaptureFixture[str], quotas_for: str, reason: str, as_json: bool
) -> None:
    # Every later call would be refused the same way: one "cannot check", not five failures.
    quotas = offline_client("service-quotas")
    with Stubber(quotas) as stub:
        stub.add_client_error(
            "list_service_quotas", "ExpiredTokenException", "The security token included in the request is expired"
        )
        client = quotas if quotas_for == "expired-token" else _ExpiredSsoQuotas()
        code = preflight.main(
            ["--json"] if as_json else [], today=TODAY,
            clients_for=lambda region: Clients(aws_client("ec2", aws_env, region), offline_client("eks"), client),
        )
    captured = capsys.readouterr()

    assert code == 2
    assert captured.err == f"cannot run: {reason}\n"
    if as_json:
        report = json.loads(captured.out)
        assert (report["result"], report["exit_code"], report["error"]) == ("cannot-check", 2, reason)
        assert report["results"] == [] and report["region"] == "us-west-2"
    else:
        assert captured.out == ""


def test_silent_aws_cannot_check_in_bounded_time(
    silent_endpoint: SilentServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Endpoints that accept and never answer: every AWS check is [UNKNOWN] after its bounded
    # wait (shortened here; tests/test_hyperpod_status.py holds the real values to ~15 s).
    point_aws_at(monkeypatch, tmp_path, silent_endpoint.url)
    monkeypatch.delenv("HYPERPOD_EKS_CONFIG", raising=False)
    monkeypatch.setattr(aws_session, "READ_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(aws_session, "TOTAL_MAX_ATTEMPTS", 1)
    started = time.monotonic()

    code = preflight.main(["--json"], today=TODAY)

    elapsed = time.monotonic() - started
    report = json.loads(capsys.readouterr().out)
    assert code == 2
    assert (report["result"], report["failed"], report["unknown"]) == ("cannot-check", 0, 4)
    unknown = [r for r in report["results"] if r["verdict"] == "unknown"]
    assert [r["check"] for r in unknown] == [
        "HyperPod SageMaker quotas", "GPU pool EC2 quotas", "availability zones", "HyperPod add-ons",
    ]
    did_not_answer = "could not check (AWS did not answer: Read timeout on endpoint URL"
    assert all(r["message"].startswith(did_not_answer) for r in unknown)
    assert silent_endpoint.accepted == 4
    assert elapsed < 4 * 0.3 + 2, elapsed


def test_aws_error_page_is_one_line_per_check(
    error_page_endpoint: ErrorPage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    error_page_endpoint.body = html_error_page("403 Forbidden")
    point_aws_at(monkeypatch, tmp_path, error_page_endpoint.url)
    monkeypatch.delenv("HYPERPOD_EKS_CONFIG", raising=False)

    code = preflight.main([], today=TODAY)

    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert code == 2, captured.err
    assert (
        "[UNKNOWN] HyperPod SageMaker quotas: could not check (AWS refused ListServiceQuotas: 403: 403 Forbidden)"
        in lines
    )
    # EC2 answers in XML, and botocore cannot parse the page at all.
    assert "[UNKNOWN] availability zones: could not check (AWS's reply could not be read: 403 Forbidden)" in lines
    assert not any("<" in line for line in lines)


def test_invalid_configuration_cannot_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "platform.yaml"
    bad.write_text("kubernetes_version: 1.33\n", encoding="utf-8")
    monkeypatch.setenv("HYPERPOD_EKS_CONFIG", str(bad))

    code = preflight.main([], clients_for=lambda region: pytest.fail("no AWS call for an invalid configuration"))
    err = capsys.readouterr().err

    assert code == 2
    assert err.startswith("cannot run: invalid configuration: kubernetes_version: must be a quoted string")
    assert len(err.strip().splitlines()) == 1


def _invalid_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    bad = tmp_path / "platform.yaml"
    bad.write_text("kubernetes_version: 1.33\n", encoding="utf-8")
    monkeypatch.setenv("HYPERPOD_EKS_CONFIG", str(bad))
    return ["--json"]


def _usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    return ["--json", "--bogus"]


def _unexpected_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    monkeypatch.delenv("HYPERPOD_EKS_CONFIG", raising=False)
    return ["--json"]


def _explode(region: str) -> Clients:
    raise RuntimeError("boom\nsecond line")


@pytest.mark.parametrize(
    ("arrange", "error"),
    [
        (_invalid_configuration, "invalid configuration: kubernetes_version: must be a quoted string"),
        (_usage_error, "usage: unrecognized arguments: --bogus"),
        (_unexpected_error, "unexpected RuntimeError: boom second line"),
    ],
    ids=["invalid-configuration", "usage", "unexpected"],
)
def test_json_document_on_stdout_whenever_it_cannot_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], arrange: Any, error: str
) -> None:
    argv = arrange(monkeypatch, tmp_path)

    code = preflight.main(argv, clients_for=_explode, today=TODAY)
    captured = capsys.readouterr()

    assert code == 2
    report = json.loads(captured.out)
    assert (report["result"], report["exit_code"], report["results"]) == ("cannot-check", 2, [])
    assert report["error"].startswith(error)
    assert captured.err.strip().splitlines()[-1] == f"cannot run: {report['error']}"
    if arrange is _invalid_configuration:
        assert report["problems"][0].startswith("kubernetes_version: must be a quoted string")


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_script_without_credentials_exits_2_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, as_json: bool
) -> None:
    isolate_aws_environment(monkeypatch, tmp_path)
    monkeypatch.delenv("HYPERPOD_EKS_CONFIG", raising=False)

    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "preflight.py"), *(["--json"] if as_json else [])],
        env=dict(os.environ), cwd=tmp_path, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False,
    )

    assert result.returncode == 2
    reason = "no AWS credentials found (set AWS_PROFILE, or run `aws configure` or `aws sso login`)"
    assert result.stderr.strip() == f"cannot run: {reason}"
    if as_json:
        report = json.loads(result.stdout)
        assert (report["result"], report["exit_code"], report["error"]) == ("cannot-check", 2, reason)
        assert report["region"] == "us-west-2"
    else:
        assert result.stdout == ""


def test_run_preflight_covers_every_check_in_order(aws_env: str) -> None:
    quotas, eks = offline_client("service-quotas"), offline_client("eks")
    with Stubber(quotas) as quota_stub, Stubber(eks) as eks_stub:
        _passing_stubs(quota_stub, eks_stub)
        results = run_preflight(config(), Clients(aws_client("ec2", aws_env), eks, quotas), TODAY)

    assert [r.check for r in results] == [
        "hyperpod quota", "gpu pool quota", "availability zones", "kubernetes version", "hyperpod add-on",
    ]
