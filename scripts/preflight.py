#!/usr/bin/env python
"""Preflight: what a deploy of the configuration needs from the account and region.

    python scripts/preflight.py [--json]        # HYPERPOD_EKS_CONFIG names the YAML, else defaults

Checks service quotas for the HyperPod instance groups (SageMaker "for cluster usage") and
the Karpenter GPU pool (EC2 vCPU quotas per family and capacity type), that at least two
availability zones can host the EKS control plane, the Kubernetes version's support phase,
and that the enabled HyperPod add-ons support that version.

Exit codes: 0 no failures (warnings may be listed), 1 at least one check failed,
2 cannot check: invalid configuration, no or rejected AWS credentials, or a check AWS refused
or did not answer (an [UNKNOWN] line) while none failed. A failed check outranks an unknown
one: 1 means "fix these before deploying" even when something else could not be checked.

--json prints one JSON document on stdout in every case, failures and "cannot check" included:
{"result": "passed" | "failed" | "cannot-check", "exit_code": 0 | 1 | 2, "error": null or the
one-line reason nothing was checked, "region", "results": [{"verdict", "check", "message"}],
"failed", "warned", "unknown"}; with an invalid configuration also "problems".
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modules.config import ConfigError, PlatformConfig, load_config  # noqa: E402
from modules.config.ec2_instance_types import GPU_INSTANCES  # noqa: E402
from modules.config.eks import CONTROL_PLANE_EXCLUDED_AZ_IDS  # noqa: E402
from modules.config.support_calendar import EKS_SUPPORT_CALENDAR, SupportPhase, support_phase  # noqa: E402
from scripts.aws_session import (  # noqa: E402
    NO_CREDENTIALS,
    NoCredentials,
    checked_session,
    client_config,
    describe_client_error,
    one_line,
)

EXIT_PASSED, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2
RESULT_NAMES = {EXIT_PASSED: "passed", EXIT_FAILED: "failed", EXIT_CANNOT_RUN: "cannot-check"}
# Error codes AWS answers when it rejects the credentials themselves: every later call would be
# rejected the same way, so preflight stops ("cannot check") instead of listing each.
CREDENTIAL_ERROR_CODES = frozenset({
    "AuthFailure", "ExpiredToken", "ExpiredTokenException", "IncompleteSignature",
    "InvalidClientTokenId", "InvalidSignatureException", "MissingAuthenticationToken",
    "SignatureDoesNotMatch", "UnrecognizedClientException",
})  # fmt: skip
# A whole configuration's problems fit on the one line, unlike an AWS reason.
MAX_CONFIG_REASON_CHARS = 4000

# vCPUs per instance type: EC2 GPU quotas are counted in vCPUs, not instances.
INSTANCE_VCPUS: dict[str, int] = {name: facts.vcpus for name, facts in GPU_INSTANCES.items()}


@dataclass(frozen=True)
class QuotaRef:
    code: str
    name: str


# EC2 vCPU quotas by (family letter, capacity type). Capacity reservations ("reserved")
# count against the on-demand quota.
EC2_GPU_QUOTAS: dict[tuple[str, str], QuotaRef] = {
    ("p", "on-demand"): QuotaRef("L-417A185B", "Running On-Demand P instances"),
    ("p", "spot"): QuotaRef("L-7212CCBC", "All P Spot Instance Requests"),
    ("g", "on-demand"): QuotaRef("L-DB2E81BA", "Running On-Demand G and VT instances"),
    ("g", "spot"): QuotaRef("L-3819A6DF", "All G and VT Spot Instance Requests"),
}
CAPACITY_QUOTA_KIND = {"spot": "spot", "on-demand": "on-demand", "reserved": "on-demand"}

UNSUPPORTED_CONTROL_PLANE_AZ_IDS = frozenset(CONTROL_PLANE_EXCLUDED_AZ_IDS)
MIN_CONTROL_PLANE_AZS = 2

HYPERPOD_ADDONS: dict[str, str] = {
    "enable_training_operator": "amazon-sagemaker-hyperpod-training-operator",
    "enable_task_governance": "amazon-sagemaker-hyperpod-taskgovernance",
    "enable_observability": "amazon-sagemaker-hyperpod-observability",
}


class Verdict(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"  # the check could not run: AWS refused the call or did not answer


@dataclass(frozen=True)
class CheckResult:
    verdict: Verdict
    check: str
    message: str

    def line(self) -> str:
        return f"[{self.verdict.value.upper()}] {self.check}: {self.message}"


@dataclass(frozen=True)
class Clients:
    ec2: Any
    eks: Any
    service_quotas: Any


class CannotRun(Exception):
    """Preflight cannot run at all; the message is the one-line reason."""


def check_hyperpod_quotas(config: PlatformConfig, quotas: Any) -> list[CheckResult]:
    check = "hyperpod quota"
    if not config.hyperpod.enabled:
        return [CheckResult(Verdict.PASS, check, "HyperPod disabled; no SageMaker cluster quotas needed")]
    needed = Counter()
    for group in config.hyperpod.instance_groups:
        needed[group.instance_type] += group.instance_count
    applied = _sagemaker_cluster_quotas(quotas)
    results = []
    for instance_type, count in sorted(needed.items()):
        name = f"{instance_type} for cluster usage"
        quota = applied.get(name)
        if quota is None:
            results.append(CheckResult(
                Verdict.FAIL, check,
                f"no SageMaker quota {name!r} in {config.region}; HyperPod may not offer {instance_type} there",
            ))
        elif quota[1] < count:
            results.append(CheckResult(
                Verdict.FAIL, check,
                f"{name} is {quota[1]:g}, the instance groups need {count}: request an increase "
                f"(Service Quotas, SageMaker, {quota[0]})",
            ))
        else:
            results.append(CheckResult(Verdict.PASS, check, f"{name} is {quota[1]:g}, need {count}"))
    return results


def _sagemaker_cluster_quotas(quotas: Any) -> dict[str, tuple[str, float]]:
    """Applied SageMaker quotas by name; cluster quotas have opaque codes, so match on name."""
    found: dict[str, tuple[str, float]] = {}
    for page in quotas.get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker"):
        for quota in page.get("Quotas", []):
            found[quota["QuotaName"]] = (quota["QuotaCode"], float(quota["Value"]))
    return found


def check_gpu_pool_quotas(config: PlatformConfig, quotas: Any) -> list[CheckResult]:
    check = "gpu pool quota"
    results: list[CheckResult] = []
    by_quota: dict[tuple[str, str], list[int]] = {}
    # The configuration accepts only the GPU types of modules/config/ec2_instance_types.py,
    # and each of their families has a quota here (a test holds the two together). Every
    # GPU pool draws on the same regional quotas.
    for pool in config.karpenter.pools:
        if pool.kind != "gpu":
            continue
        for instance_type in pool.instance_types:
            for kind in {CAPACITY_QUOTA_KIND[capacity] for capacity in pool.capacity_types}:
                by_quota.setdefault((_family_letter(instance_type), kind), []).append(INSTANCE_VCPUS[instance_type])
    for (family, kind), sizes in sorted(by_quota.items()):
        ref = EC2_GPU_QUOTAS[(family, kind)]
        value = _ec2_quota(quotas, ref.code)
        results.append(_judge_vcpu_quota(check, ref, value, min(sizes), max(sizes)))
    return results


def _family_letter(instance_type: str) -> str:
    match = re.match(r"[a-z]+", instance_type)
    return match.group(0)[0] if match else ""


def _ec2_quota(quotas: Any, code: str) -> float:
    from botocore.exceptions import ClientError

    try:
        return float(quotas.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]["Value"])
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "NoSuchResourceException":
            raise
    # An account that never changed the quota may only have the default.
    return float(quotas.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]["Value"])


def _judge_vcpu_quota(check: str, ref: QuotaRef, value: float, smallest: int, largest: int) -> CheckResult:
    label = f"{ref.name} ({ref.code}) is {value:g} vCPUs"
    if value < smallest:
        return CheckResult(
            Verdict.FAIL, check, f"{label}; the smallest pool type needs {smallest}: request an increase"
        )
    if value < largest:
        return CheckResult(
            Verdict.WARN, check, f"{label}; the largest pool type needs {largest}, only smaller ones fit"
        )
    return CheckResult(Verdict.PASS, check, f"{label}; fits {int(value // largest)} of the largest pool type")


def check_control_plane_azs(config: PlatformConfig, ec2: Any) -> CheckResult:
    check = "availability zones"
    zones = ec2.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}, {"Name": "state", "Values": ["available"]}]
    )["AvailabilityZones"]
    usable = sorted(z["ZoneName"] for z in zones if z["ZoneId"] not in UNSUPPORTED_CONTROL_PLANE_AZ_IDS)
    excluded = sorted(z["ZoneId"] for z in zones if z["ZoneId"] in UNSUPPORTED_CONTROL_PLANE_AZ_IDS)
    skipped = f" (excluded for EKS: {', '.join(excluded)})" if excluded else ""
    if len(usable) < MIN_CONTROL_PLANE_AZS:
        return CheckResult(
            Verdict.FAIL, check,
            f"{len(usable)} usable for the EKS control plane in {config.region}, need {MIN_CONTROL_PLANE_AZS}{skipped}",
        )
    return CheckResult(
        Verdict.PASS, check, f"{len(usable)} usable for the EKS control plane: {', '.join(usable)}{skipped}"
    )


def check_kubernetes_support(config: PlatformConfig, today: _dt.date) -> CheckResult:
    check = "kubernetes version"
    version = config.kubernetes_version
    entry = EKS_SUPPORT_CALENDAR.get(version)
    if entry is None:
        return CheckResult(Verdict.FAIL, check, f"{version} is not in the EKS support calendar")
    phase = support_phase(version, today)
    if phase is SupportPhase.STANDARD:
        return CheckResult(
            Verdict.PASS, check, f"{version} in standard support until {entry.end_of_standard_support.isoformat()}"
        )
    if phase is SupportPhase.EXTENDED:
        return CheckResult(
            Verdict.WARN, check,
            f"{version} in extended support (billed extra) until "
            f"{entry.end_of_extended_support.isoformat()}; plan an upgrade",
        )
    return CheckResult(Verdict.FAIL, check, f"{version} support ended on {entry.end_of_extended_support.isoformat()}")


def check_addon_versions(config: PlatformConfig, eks: Any) -> list[CheckResult]:
    check = "hyperpod add-on"
    if not config.hyperpod.enabled:
        return []
    enabled = [addon for flag, addon in HYPERPOD_ADDONS.items() if getattr(config.hyperpod, flag)]
    if not enabled:
        return [CheckResult(Verdict.PASS, check, "no HyperPod add-ons enabled")]
    return [_addon_result(check, eks, addon, config.kubernetes_version) for addon in enabled]


def _addon_result(check: str, eks: Any, addon: str, version: str) -> CheckResult:
    versions = [
        entry
        for page in eks.get_paginator("describe_addon_versions").paginate(addonName=addon, kubernetesVersion=version)
        for described in page.get("addons", [])
        for entry in described.get("addonVersions", [])
        if any(c.get("clusterVersion") == version for c in entry.get("compatibilities", []))
    ]
    if not versions:
        return CheckResult(Verdict.FAIL, check, f"{addon} has no version for Kubernetes {version}")
    default = next((v for v in versions if any(c.get("defaultVersion") for c in v["compatibilities"])), versions[0])
    return CheckResult(Verdict.PASS, check, f"{addon} supports Kubernetes {version} ({default['addonVersion']})")


CHECKS: list[tuple[str, Callable[[PlatformConfig, Clients, _dt.date], list[CheckResult]]]] = [
    ("HyperPod SageMaker quotas", lambda c, aws, _: check_hyperpod_quotas(c, aws.service_quotas)),
    ("GPU pool EC2 quotas", lambda c, aws, _: check_gpu_pool_quotas(c, aws.service_quotas)),
    ("availability zones", lambda c, aws, _: [check_control_plane_azs(c, aws.ec2)]),
    ("Kubernetes version", lambda c, _aws, today: [check_kubernetes_support(c, today)]),
    ("HyperPod add-ons", lambda c, aws, _: check_addon_versions(c, aws.eks)),
]


def run_preflight(config: PlatformConfig, clients: Clients, today: _dt.date) -> list[CheckResult]:
    """Every check's results. A check AWS refuses or does not answer is UNKNOWN, not FAIL: it
    says nothing about the account. Credentials that do not work stop the run (CannotRun)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        CredentialRetrievalError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
        ReadTimeoutError,
        SSOError,
        TokenRetrievalError,
    )
    from botocore.parsers import ResponseParserError

    credential_errors = (
        CredentialRetrievalError, PartialCredentialsError, ProfileNotFound, SSOError, TokenRetrievalError,
    )  # fmt: skip
    no_answer = (EndpointConnectionError, ReadTimeoutError, ConnectionClosedError)
    results: list[CheckResult] = []

    def unknown(title: str, reason: str) -> None:
        results.append(CheckResult(Verdict.UNKNOWN, title, f"could not check ({reason})"))

    for title, check in CHECKS:
        try:
            results += check(config, clients, today)
        except NoCredentialsError:
            raise CannotRun(NO_CREDENTIALS) from None
        except ClientError as err:
            # "Error" is None when the reply is not AWS's (an HTML page from a proxy).
            if (err.response.get("Error") or {}).get("Code") in CREDENTIAL_ERROR_CODES:
                raise CannotRun(f"AWS rejected the credentials: {describe_client_error(err)}") from None
            unknown(title, f"AWS refused {describe_client_error(err)}")
        except credential_errors as err:
            raise CannotRun(f"AWS credentials: {one_line(err)}") from None
        except ResponseParserError as err:  # not AWS's reply: a proxy's error page, say
            unknown(title, f"AWS's reply could not be read: {one_line(err)}")
        except no_answer as err:
            unknown(title, f"AWS did not answer: {one_line(err)}")
        except BotoCoreError as err:
            unknown(title, one_line(err))
    return results


def aws_clients(region: str) -> Clients:
    session, timeouts = checked_session(region), client_config()
    return Clients(
        ec2=session.client("ec2", config=timeouts),
        eks=session.client("eks", config=timeouts),
        service_quotas=session.client("service-quotas", config=timeouts),
    )


def exit_code(results: Sequence[CheckResult]) -> int:
    verdicts = {r.verdict for r in results}
    if Verdict.FAIL in verdicts:
        return EXIT_FAILED
    if Verdict.UNKNOWN in verdicts:
        return EXIT_CANNOT_RUN
    return EXIT_PASSED


def report_document(
    results: Sequence[CheckResult], region: str | None, error: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The --json document: the same keys whether the checks ran, failed or could not run."""
    code = EXIT_CANNOT_RUN if error is not None else exit_code(results)
    return {
        "result": RESULT_NAMES[code],
        "exit_code": code,
        "error": error,
        "region": region,
        "results": [{**asdict(r), "verdict": r.verdict.value} for r in results],
        "failed": sum(r.verdict is Verdict.FAIL for r in results),
        "warned": sum(r.verdict is Verdict.WARN for r in results),
        "unknown": sum(r.verdict is Verdict.UNKNOWN for r in results),
        **extra,
    }


def render(results: Sequence[CheckResult], config: PlatformConfig, as_json: bool) -> str:
    if as_json:
        return json.dumps(report_document(results, config.region), indent=2)
    document = report_document(results, config.region)
    summary = f"{len(results)} checks: {document['failed']} failed, {document['warned']} warnings"
    if document["unknown"]:
        summary += f", {document['unknown']} could not be checked"
    return "\n".join([f"Preflight for {config.name} in {config.region}", *(r.line() for r in results), summary])


class UsageError(Exception):
    """A command-line mistake; argparse's own handler would exit before --json could answer."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def cannot_run(reason: str, as_json: bool, region: str | None = None, **extra: Any) -> int:
    """Says why nothing could be checked: one line on stderr, and the JSON document on stdout."""
    print(f"cannot run: {reason}", file=sys.stderr)
    if as_json:
        print(json.dumps(report_document([], region, error=reason, **extra), indent=2))
    return EXIT_CANNOT_RUN


def main(
    argv: Sequence[str] | None = None,
    clients_for: Callable[[str], Clients] = aws_clients,
    today: _dt.date | None = None,
) -> int:
    parser = _Parser(
        prog="preflight",
        description="Check quotas, availability zones and versions before a deploy "
        "(exit 0 passed, 1 a check failed, 2 cannot check). Reads $HYPERPOD_EKS_CONFIG.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout, whatever happens")
    arguments = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in arguments
    try:
        args = parser.parse_args(arguments)
    except UsageError as err:
        parser.print_usage(sys.stderr)
        return cannot_run(f"usage: {one_line(err)}", as_json)
    config: PlatformConfig | None = None
    try:
        today = today or _dt.date.today()
        config = load_config(today=today)
        results = run_preflight(config, clients_for(config.region), today)
    except ConfigError as err:
        problems = [one_line(problem) for problem in err.problems]
        reason = one_line(f"invalid configuration: {'; '.join(problems)}", MAX_CONFIG_REASON_CHARS)
        return cannot_run(reason, as_json, problems=problems)
    except (CannotRun, NoCredentials) as err:
        return cannot_run(one_line(err), as_json, region=config.region if config else None)
    except Exception as err:  # noqa: BLE001 - an operator tool answers in one line, never a traceback
        region = config.region if config else None
        return cannot_run(f"unexpected {type(err).__name__}: {one_line(err)}", as_json, region=region)
    print(render(results, config, args.json))
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
