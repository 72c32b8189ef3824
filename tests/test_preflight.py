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
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from modules.config import PlatformConfig, parse_config
from scripts import preflight
from scripts.preflight import (
    Clients,
    Verdict,
    check_addon_versions,
    check_control_plane_azs,
    check_gpu_pool_quotas,
    check_hyperpod_quotas,
    check_kubernetes_support,
    run_preflight,
)
from tests.local_endpoints import REGION, aws_client, aws_env, isolate_aws_environment, moto_endpoint  # noqa: F401

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
        results = check_gpu_pool_quotas(config(karpenter={"gpu_pool": pool}), quotas)
        stub.assert_no_pending_responses()

    assert [(r.verdict, r.message.split(";")[0]) for r in results] == [
        (Verdict.FAIL, "Running On-Demand G and VT instances (L-DB2E81BA) is 0 vCPUs"),
        (Verdict.PASS, "All G and VT Spot Instance Requests (L-3819A6DF) is 64 vCPUs"),
        (Verdict.WARN, "Running On-Demand P instances (L-417A185B) is 96 vCPUs"),
        (Verdict.PASS, "All P Spot Instance Requests (L-7212CCBC) is 384 vCPUs"),
    ]
    assert results[3].message.endswith("fits 2 of the largest pool type")


def test_gpu_pool_type_without_facts_warns() -> None:
    pool = {"instance_types": ["trn1.32xlarge"], "capacity_types": ["on-demand"]}
    [result] = check_gpu_pool_quotas(config(karpenter={"gpu_pool": pool}), quotas=None)
    assert result.verdict is Verdict.WARN
    assert result.message.startswith("trn1.32xlarge: no vCPU or quota facts")


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

    assert code == 1
    assert report["failed"] == 3
    failures = [r["message"] for r in report["results"] if r["verdict"] == "fail"]
    assert failures[0] == "could not check (ListServiceQuotas refused: AccessDeniedException: not authorized)"


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


def test_script_without_credentials_exits_2_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_aws_environment(monkeypatch, tmp_path)
    monkeypatch.delenv("HYPERPOD_EKS_CONFIG", raising=False)

    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "preflight.py")],
        env=dict(os.environ), cwd=tmp_path, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "cannot run: no AWS credentials found (set AWS_PROFILE, or run `aws configure` or `aws sso login`)"
    )
    assert result.stdout == ""


def test_run_preflight_covers_every_check_in_order(aws_env: str) -> None:
    quotas, eks = offline_client("service-quotas"), offline_client("eks")
    with Stubber(quotas) as quota_stub, Stubber(eks) as eks_stub:
        _passing_stubs(quota_stub, eks_stub)
        results = run_preflight(config(), Clients(aws_client("ec2", aws_env), eks, quotas), TODAY)

    assert [r.check for r in results] == [
        "hyperpod quota", "gpu pool quota", "availability zones", "kubernetes version", "hyperpod add-on",
    ]
