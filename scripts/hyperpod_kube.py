"""The Kubernetes side of the HyperPod status: node health labels and add-on pods."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.aws_session import one_line

HYPERPOD_NODE_SELECTOR = "sagemaker.amazonaws.com/compute-type=hyperpod"
INSTANCE_GROUP_LABEL = "sagemaker.amazonaws.com/instance-group-name"
NODE_HEALTH_LABEL = "sagemaker.amazonaws.com/node-health-status"
DEEP_HEALTH_CHECK_LABEL = "sagemaker.amazonaws.com/deep-health-check-status"
HYPERPOD_NAMESPACE = "aws-hyperpod"
HEALTHY_NODE_STATUS = "Schedulable"
FAILED_DEEP_HEALTH_CHECK = "Failed"
NO_LABEL = "-"
# (connect, read) seconds for each API request, and no retries by urllib3 (whose default would
# try a hung GET four times): a status check must answer even when the API server does not.
REQUEST_TIMEOUT = (3, 6)
# The whole Kubernetes side, credentials included: a kubeconfig's exec plugin (`aws eks
# get-token`) runs with no timeout of its own, so the collection runs in a thread given this long.
KUBE_DEADLINE_SECONDS = 12


@dataclass(frozen=True)
class KubeNode:
    name: str
    group: str
    health_status: str
    deep_health_check: str
    ready: bool


@dataclass(frozen=True)
class KubePod:
    name: str
    phase: str
    ready: str
    node: str


@dataclass
class KubeReport:
    """What the Kubernetes API said. ``note`` says why it was not asked or did not answer;
    ``unreachable`` is true when it was asked and did not answer (or refused), which leaves the
    cluster's health unknown rather than healthy."""

    context: str | None
    note: str = ""
    nodes: list[KubeNode] = field(default_factory=list)
    pods: list[KubePod] = field(default_factory=list)
    unreachable: bool = False

    def problems(self) -> list[str]:
        found = []
        for node in self.nodes:
            if node.health_status not in (HEALTHY_NODE_STATUS, NO_LABEL):
                found.append(f"node {node.name} health is {node.health_status}")
            if node.deep_health_check == FAILED_DEEP_HEALTH_CHECK:
                found.append(f"node {node.name} failed its deep health check")
            if not node.ready:
                found.append(f"node {node.name} is not Ready")
        for pod in self.pods:
            if pod.phase == "Succeeded":
                continue
            ready, total = pod.ready.split("/")
            if pod.phase != "Running" or ready != total:
                found.append(f"pod {HYPERPOD_NAMESPACE}/{pod.name} is {pod.phase} ({pod.ready} ready)")
        return found


@dataclass(frozen=True)
class EksIdentity:
    """What names the EKS cluster in a kubeconfig: its ARN (aws eks update-kubeconfig) or name."""

    name: str | None
    arn: str | None

    def matches(self, context: dict[str, Any]) -> bool:
        names = {context.get("name", ""), (context.get("context") or {}).get("cluster", "")}
        wanted = {value for value in (self.name, self.arn) if value}
        if names & wanted:
            return True
        return bool(self.name) and any(n.endswith(f":cluster/{self.name}") for n in names)


def kubeconfig_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    # KUBECONFIG may list several files; the first one is where update-kubeconfig writes.
    env = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(env) if env else Path.home() / ".kube" / "config"


def find_context(config_file: Path, eks: EksIdentity, explicit: str | None) -> tuple[str | None, str]:
    """The context to use, or None and why there is none."""
    from kubernetes import config as kube_config

    if not config_file.is_file():
        return None, f"no kubeconfig at {config_file}"
    try:
        contexts, _active = kube_config.list_kube_config_contexts(config_file=str(config_file))
    except (kube_config.ConfigException, OSError, ValueError) as err:
        return None, f"kubeconfig {config_file} unreadable ({err})"
    names = [context["name"] for context in contexts or []]
    if explicit:
        return (explicit, "") if explicit in names else (None, f"no context {explicit!r} in {config_file}")
    if not (eks.name or eks.arn):
        return None, "EKS cluster unknown (pass --eks-cluster or --kube-context)"
    for context in contexts or []:
        if eks.matches(context):
            return context["name"], ""
    return None, f"no context for EKS cluster {eks.name or eks.arn} in {config_file}"


def collect_kube_report(config_file: Path, context: str, deadline: float | None = None) -> KubeReport:
    """The HyperPod nodes and aws-hyperpod pods, or a report saying why the API did not answer
    (``unreachable``). Returns within ``deadline`` seconds (KUBE_DEADLINE_SECONDS) whatever the
    API server or the kubeconfig's credential plugin do."""
    limit = KUBE_DEADLINE_SECONDS if deadline is None else deadline
    outcome: list[KubeReport] = []
    # A daemon thread: if it is still stuck at the deadline, the process may exit without it.
    worker = threading.Thread(
        target=lambda: outcome.append(_query_kube(config_file, context)), name="kube-status", daemon=True
    )
    worker.start()
    worker.join(limit)
    if outcome:
        return outcome[0]
    return KubeReport(
        context=context,
        note=f"Kubernetes API did not answer within {limit:g}s via context {context}",
        unreachable=True,
    )


class _LoggedErrors(logging.Handler):
    """Keeps what the kubernetes client logs instead of letting it reach stderr. Its config
    loader logs a failed credential plugin (`aws eks get-token`, often several lines of AWS's
    error) to the root logger and goes on without a token; the reason belongs in the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _query_kube(config_file: Path, context: str) -> KubeReport:
    from kubernetes import client as kube_client
    from kubernetes import config as kube_config
    from kubernetes.client.exceptions import ApiException

    report = KubeReport(context=context)
    logged = _LoggedErrors()
    root = logging.getLogger()
    root.addHandler(logged)
    try:
        configuration = kube_client.Configuration()
        kube_config.load_kube_config(
            config_file=str(config_file), context=context, client_configuration=configuration
        )
        configuration.retries = False
        core = kube_client.CoreV1Api(kube_client.ApiClient(configuration))
        nodes = core.list_node(label_selector=HYPERPOD_NODE_SELECTOR, _request_timeout=REQUEST_TIMEOUT)
        pods = core.list_namespaced_pod(HYPERPOD_NAMESPACE, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as err:
        reason = f"Kubernetes API refused the request via context {context}: {err.status} {err.reason}"
        report.note = one_line(reason + _plugin_detail(logged))
        report.unreachable = True
        return report
    except Exception as err:  # noqa: BLE001 - urllib3, exec-plugin and config errors share no base
        report.note = one_line(f"Kubernetes API unreachable via context {context}: {err}{_plugin_detail(logged)}")
        report.unreachable = True
        return report
    finally:
        root.removeHandler(logged)
    report.nodes = [_kube_node(node) for node in nodes.items]
    report.pods = [_kube_pod(pod) for pod in pods.items]
    return report


def _plugin_detail(logged: _LoggedErrors) -> str:
    return f" (credential plugin: {one_line(logged.messages[-1])})" if logged.messages else ""


def _kube_node(node: Any) -> KubeNode:
    labels = node.metadata.labels or {}
    conditions = (node.status.conditions if node.status else None) or []
    ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
    return KubeNode(
        name=node.metadata.name,
        group=labels.get(INSTANCE_GROUP_LABEL, NO_LABEL),
        health_status=labels.get(NODE_HEALTH_LABEL, NO_LABEL),
        deep_health_check=labels.get(DEEP_HEALTH_CHECK_LABEL, NO_LABEL),
        ready=ready,
    )


def _kube_pod(pod: Any) -> KubePod:
    statuses = (pod.status.container_statuses if pod.status else None) or []
    ready = sum(1 for status in statuses if status.ready)
    return KubePod(
        name=pod.metadata.name,
        phase=(pod.status.phase if pod.status else None) or "Unknown",
        ready=f"{ready}/{len(statuses)}",
        node=(pod.spec.node_name if pod.spec else None) or "-",
    )
