"""Status of the SageMaker HyperPod cluster: AWS side, Kubernetes side, SSM commands.

    python -m scripts.hyperpod_status <hyperpod-cluster-name> <region>
    python -m scripts.hyperpod_status --outputs outputs.json [--stack ml-platform]

Exit codes:
  0  healthy: the AWS side, and the Kubernetes side when a kube context for the cluster exists
  1  degraded or unhealthy (each problem is listed)
  2  cannot check: no credentials, cluster not found, AWS refused or did not answer, outputs
     missing or malformed (one line on stderr)
  3  unknown: the AWS side is healthy but the Kubernetes API, asked through the cluster's kube
     context, did not answer or refused; its health is not known

Every network call is bounded (scripts/aws_session.py, scripts/hyperpod_kube.py), so a server
that accepts connections and never answers ends the check in about 15 seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from scripts.aws_session import (
    NO_CREDENTIALS,
    NoCredentials,
    checked_session,
    client_config,
    describe_client_error,
    one_line,
)
from scripts.deployment_outputs import DeploymentOutputs, OutputsError, read_outputs
from scripts.hyperpod_kube import EksIdentity, KubeReport, collect_kube_report, find_context, kubeconfig_path

EXIT_HEALTHY, EXIT_UNHEALTHY, EXIT_CANNOT_CHECK, EXIT_UNKNOWN = 0, 1, 2, 3
HEALTHY, UNHEALTHY, UNKNOWN = "HEALTHY", "UNHEALTHY", "UNKNOWN"
VERDICT_EXIT_CODES = {HEALTHY: EXIT_HEALTHY, UNHEALTHY: EXIT_UNHEALTHY, UNKNOWN: EXIT_UNKNOWN}
HEALTHY_CLUSTER_STATUS = "InService"
HEALTHY_GROUP_STATUS = "InService"
HEALTHY_NODE_STATUS = "Running"
NOT_REPORTED = "-"  # older API responses carry no instance-group Status
NOT_FOUND_MARKERS = ("could not find", "not found", "does not exist")


class CannotCheck(Exception):
    """The status cannot be determined; the message is the one-line reason."""


@dataclass(frozen=True)
class Target:
    cluster: str  # HyperPod cluster name or ARN, as DescribeCluster accepts either
    region: str
    eks_cluster: str | None = None


@dataclass(frozen=True)
class InstanceGroup:
    name: str
    instance_type: str
    status: str
    current_count: int
    target_count: int


@dataclass(frozen=True)
class ClusterNode:
    group: str
    instance_id: str
    instance_type: str
    status: str
    message: str
    launch_time: str
    ssm_command: str


@dataclass
class StatusReport:
    cluster_name: str
    cluster_arn: str
    region: str
    status: str
    failure_message: str
    eks_cluster_arn: str | None
    groups: list[InstanceGroup]
    nodes: list[ClusterNode]
    kube: KubeReport
    problems: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """A known problem outranks an unanswered question: UNHEALTHY when anything is wrong,
        UNKNOWN when nothing is but the Kubernetes API could not be asked, else HEALTHY."""
        if self.problems:
            return UNHEALTHY
        if self.kube.unreachable:
            return UNKNOWN
        return HEALTHY

    @property
    def healthy(self) -> bool:
        return self.verdict == HEALTHY


def cluster_id_from_arn(arn: str) -> str:
    """HyperPod's SSM targets use the id that ends the ARN (…:cluster/<id>), not the name."""
    return arn.rsplit("/", 1)[-1]


def ssm_command(cluster_arn: str, group: str, instance_id: str, region: str) -> str:
    target = f"sagemaker-cluster:{cluster_id_from_arn(cluster_arn)}_{group}-{instance_id}"
    return f"aws ssm start-session --target {target} --region {region}"


def aws_problems(status: str, failure: str, groups: list[InstanceGroup], nodes: list[ClusterNode]) -> list[str]:
    found = []
    if status != HEALTHY_CLUSTER_STATUS:
        found.append(f"cluster is {status}" + (f": {one_line(failure)}" if failure else ""))
    for group in groups:
        if group.status not in (HEALTHY_GROUP_STATUS, NOT_REPORTED):
            found.append(f"instance group {group.name} is {group.status}")
        if group.current_count < group.target_count:
            found.append(f"instance group {group.name} has {group.current_count} of {group.target_count} instances")
    for node in nodes:
        if node.status != HEALTHY_NODE_STATUS:
            detail = f": {one_line(node.message)}" if node.message else ""
            found.append(f"node {node.instance_id} ({node.group}) is {node.status}{detail}")
    return found


KubeLookup = Callable[[EksIdentity], KubeReport]


def collect_status(sagemaker: Any, target: Target, kube_lookup: KubeLookup) -> StatusReport:
    described = _call(sagemaker.describe_cluster, target, ClusterName=target.cluster)
    arn = described.get("ClusterArn")
    if not arn:  # botocore reads a 200 reply that is not JSON (a captive portal's page) as {}
        raise CannotCheck("the reply to DescribeCluster has no ClusterArn: was it AWS that answered (a proxy?)")
    groups = [_instance_group(group) for group in described.get("InstanceGroups", [])]
    nodes = [_cluster_node(summary, arn, target.region) for summary in _list_nodes(sagemaker, target)]
    eks_arn = (described.get("Orchestrator") or {}).get("Eks", {}).get("ClusterArn")
    kube = kube_lookup(EksIdentity(name=target.eks_cluster or _name_from_arn(eks_arn), arn=eks_arn))
    status = described.get("ClusterStatus", "Unknown")
    failure = described.get("FailureMessage") or ""
    return StatusReport(
        cluster_name=described.get("ClusterName", target.cluster),
        cluster_arn=arn,
        region=target.region,
        status=status,
        failure_message=failure,
        eks_cluster_arn=eks_arn,
        groups=groups,
        nodes=nodes,
        kube=kube,
        problems=aws_problems(status, failure, groups, nodes) + kube.problems(),
    )


def _list_nodes(sagemaker: Any, target: Target) -> list[dict[str, Any]]:
    pages = sagemaker.get_paginator("list_cluster_nodes").paginate(ClusterName=target.cluster)
    return [summary for page in _call(list, target, pages) for summary in page.get("ClusterNodeSummaries", [])]


def _call(function: Any, target: Target, *args: Any, **kwargs: Any) -> Any:
    """Run one AWS call; every failure becomes a one-line CannotCheck."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    from botocore.parsers import ResponseParserError

    try:
        return function(*args, **kwargs)
    except NoCredentialsError:
        raise CannotCheck(NO_CREDENTIALS) from None
    except ClientError as err:
        error = err.response.get("Error") or {}  # None when the reply is not AWS's (an HTML page)
        code, message = error.get("Code") or "", error.get("Message") or ""
        if code == "ResourceNotFound" or any(marker in message.lower() for marker in NOT_FOUND_MARKERS):
            raise CannotCheck(f"HyperPod cluster {target.cluster} not found in {target.region}") from None
        raise CannotCheck(f"AWS refused {describe_client_error(err)}") from None
    except ResponseParserError as err:  # not AWS's reply: a proxy's error page, say
        raise CannotCheck(f"AWS's reply could not be read: {one_line(err)}") from None
    except BotoCoreError as err:
        # Timeouts and unreachable endpoints end here, after the bounded retries.
        raise CannotCheck(f"cannot reach AWS: {one_line(err)}") from None


def _instance_group(group: dict[str, Any]) -> InstanceGroup:
    return InstanceGroup(
        name=group.get("InstanceGroupName", "-"),
        instance_type=group.get("InstanceType", "-"),
        status=group.get("Status", NOT_REPORTED),
        current_count=int(group.get("CurrentCount", 0)),
        target_count=int(group.get("TargetCount", 0)),
    )


def _cluster_node(summary: dict[str, Any], cluster_arn: str, region: str) -> ClusterNode:
    group, instance_id = summary.get("InstanceGroupName", "-"), summary.get("InstanceId", "-")
    state = summary.get("InstanceStatus") or {}
    launched = summary.get("LaunchTime")
    return ClusterNode(
        group=group,
        instance_id=instance_id,
        instance_type=summary.get("InstanceType", "-"),
        status=state.get("Status", "Unknown"),
        message=state.get("Message", "") if state.get("Status") != HEALTHY_NODE_STATUS else "",
        launch_time=_timestamp(launched),
        ssm_command=ssm_command(cluster_arn, group, instance_id, region),
    )


def _timestamp(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        return value.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return str(value) if value else "-"


def _name_from_arn(arn: str | None) -> str | None:
    return arn.rsplit("/", 1)[-1] if arn else None


def target_from_outputs(outputs: DeploymentOutputs) -> Target:
    cluster = outputs.get("hyperpod_cluster_arn") or outputs.get("hyperpod_cluster_name")
    if cluster is None:
        raise OutputsError(
            f"{outputs.source}: no hyperpod_cluster_name or hyperpod_cluster_arn output "
            "(is hyperpod.enabled true and the stack deployed?)"
        )
    return Target(cluster=cluster, region=outputs.require("region"), eks_cluster=outputs.get("cluster_name"))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()
             for line in (headers, *rows)]
    return "\n".join(lines)


def render_text(report: StatusReport) -> str:
    parts = [
        f"HyperPod cluster {report.cluster_name} ({report.region}): {report.status}",
        f"  ARN: {report.cluster_arn}",
    ]
    if report.failure_message:
        parts.append(f"  Failure: {one_line(report.failure_message)}")
    parts += ["", "Instance groups", format_table(
        ("GROUP", "TYPE", "STATUS", "CURRENT", "TARGET"),
        [(g.name, g.instance_type, g.status, str(g.current_count), str(g.target_count)) for g in report.groups],
    )]
    parts += ["", "Nodes", format_table(
        ("GROUP", "INSTANCE", "TYPE", "STATUS", "LAUNCHED"),
        [(n.group, n.instance_id, n.instance_type, n.status, n.launch_time) for n in report.nodes],
    )]
    parts += ["", *_render_kube(report.kube)]
    if report.nodes:
        parts += ["", "SSM sessions", *(f"  {n.instance_id}: {n.ssm_command}" for n in report.nodes)]
    parts += ["", f"Result: {report.verdict}", *(f"  - {problem}" for problem in report.problems)]
    if report.kube.unreachable:
        parts.append(f"  ? Kubernetes side unknown: {report.kube.note}")
    return "\n".join(parts)


def _render_kube(kube: KubeReport) -> list[str]:
    if kube.unreachable:
        return [f"Kubernetes: unknown: {kube.note}"]
    if kube.context is None or kube.note:
        return [f"Kubernetes: not checked: {kube.note}"]
    return [
        f"Kubernetes (context {kube.context})",
        format_table(
            ("NODE", "GROUP", "READY", "HEALTH", "DEEP HEALTH CHECK"),
            [(n.name, n.group, "yes" if n.ready else "no", n.health_status, n.deep_health_check) for n in kube.nodes],
        ),
        "",
        "Pods in aws-hyperpod",
        format_table(("POD", "PHASE", "READY", "NODE"), [(p.name, p.phase, p.ready, p.node) for p in kube.pods]),
    ]


def render_json(report: StatusReport) -> str:
    data = dataclasses.asdict(report)
    data["result"] = report.verdict.lower()
    data["healthy"] = report.healthy
    return json.dumps(data, indent=2)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="check-hyperpod-status",
        description="Report the SageMaker HyperPod cluster's health (exit 0 healthy, 1 unhealthy, "
        "2 cannot check, 3 unknown: the Kubernetes API did not answer).",
    )
    parser.add_argument("cluster", nargs="?", help="HyperPod cluster name or ARN")
    parser.add_argument("region", nargs="?", help="AWS region of the cluster")
    parser.add_argument(
        "--outputs", metavar="FILE", help="read cluster and region from cdktf or terraform outputs JSON"
    )
    parser.add_argument("--stack", help="stack to read in a cdktf outputs file with several stacks")
    parser.add_argument("--eks-cluster", help="EKS cluster name, to find its kube context")
    parser.add_argument("--kube-context", help="kube context to use (default: the one for the EKS cluster)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    if args.outputs and (args.cluster or args.region):
        parser.error("pass either <cluster> <region> or --outputs, not both")
    if not args.outputs and not (args.cluster and args.region):
        parser.error("pass <cluster> <region>, or --outputs FILE")
    return args


def resolve_target(args: argparse.Namespace) -> Target:
    if args.outputs:
        target = target_from_outputs(read_outputs(Path(args.outputs), args.stack))
        return dataclasses.replace(target, eks_cluster=args.eks_cluster or target.eks_cluster)
    return Target(cluster=args.cluster, region=args.region, eks_cluster=args.eks_cluster)


def sagemaker_client(region: str) -> Any:
    from botocore.exceptions import BotoCoreError

    try:
        return checked_session(region).client("sagemaker", config=client_config())
    except BotoCoreError as err:  # a profile that does not exist, an unknown region, ...
        raise CannotCheck(f"AWS configuration: {one_line(err)}") from None


def kube_lookup_for(args: argparse.Namespace) -> KubeLookup:
    config_file = kubeconfig_path(args.kubeconfig)

    def lookup(eks: EksIdentity) -> KubeReport:
        context, why = find_context(config_file, eks, args.kube_context)
        if context is None:
            return KubeReport(context=None, note=f"{why}; reporting the AWS side only")
        return collect_kube_report(config_file, context)

    return lookup


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        target = resolve_target(args)
        report = collect_status(sagemaker_client(target.region), target, kube_lookup=kube_lookup_for(args))
    except (CannotCheck, OutputsError, NoCredentials) as err:
        print(f"cannot check: {one_line(err)}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    except KeyboardInterrupt:
        print("cannot check: interrupted", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    except Exception as err:  # noqa: BLE001 - an operator tool answers in one line, never a traceback
        print(f"cannot check: unexpected {type(err).__name__}: {one_line(err)}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    print(render_json(report) if args.json else render_text(report))
    return VERDICT_EXIT_CODES[report.verdict]


if __name__ == "__main__":
    sys.exit(main())
