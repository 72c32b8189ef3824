"""Check workload manifests against the platform before they are applied.

    python -m scripts.validate_workload FILE [FILE ...]
    HYPERPOD_EKS_CONFIG=platform.yaml python -m scripts.validate_workload examples/training/*.yaml

Two rules, for every container of every pod template (Pods, Deployments, StatefulSets,
DaemonSets, ReplicaSets, Jobs, CronJobs, Kubeflow PyTorchJobs and other *ReplicaSpecs jobs,
HyperPodPyTorchJobs) and for the HyperPod inference operator's JumpStartModel and
InferenceEndpointConfig:

- accelerators (nvidia.com/gpu, aws.amazon.com/neuron, aws.amazon.com/neuroncore,
  aws.amazon.com/neurondevice, vpc.amazonaws.com/efa) are requested exactly as limited.
  Kubernetes refuses these devices in requests without limits, never shares them, and
  defaults a missing request to the limit; a different request is a mistake.
- the instance type and Karpenter pool the workload selects (node selector or required node
  affinity on node.kubernetes.io/instance-type and karpenter.sh/nodepool) exist in the
  configuration: a HyperPod instance group's ml.* type, a GPU pool's instance types, or a
  type inside a general pool's categories, vCPU range and architectures.

Exit codes: 0 every manifest passes, 1 a rule is broken (one line per problem),
2 cannot check (a file is missing or not YAML, the configuration is invalid).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml

from modules.config import ConfigError, PlatformConfig, load_config
from modules.config.karpenter import PoolConfig

EXIT_VALID, EXIT_INVALID, EXIT_CANNOT_CHECK = 0, 1, 2
ACCELERATOR_RESOURCES = (
    "nvidia.com/gpu",
    "aws.amazon.com/neuron",
    "aws.amazon.com/neuroncore",
    "aws.amazon.com/neurondevice",
    "vpc.amazonaws.com/efa",
)
INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
NODEPOOL_LABEL = "karpenter.sh/nodepool"
INFERENCE_GROUP = "inference.sagemaker.aws.amazon.com"
# Controllers whose pod template is at spec.template.
TEMPLATED_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController")
# EC2 names: family letters, generation, attribute letters, size (m5.2xlarge, c7gd.metal).
EC2_TYPE = re.compile(r"^(?P<category>[a-z]+?)(?P<generation>\d+)(?P<attributes>[a-z-]*)\.(?P<size>[a-z0-9-]+)$")
SIZE_VCPUS = {"medium": 1, "large": 2, "xlarge": 4}
SIZE_MULTIPLE = re.compile(r"^(\d+)xlarge$")


class CannotCheck(Exception):
    """The manifests cannot be checked; the message is the one-line reason."""


@dataclass(frozen=True)
class Problem:
    document: str
    container: str
    message: str

    def __str__(self) -> str:
        return f"{self.document}: {self.container}: {self.message}"


@dataclass(frozen=True)
class Pool:
    """What one Karpenter pool launches: named GPU types, or c/m/r types by size."""

    name: str
    gpu_types: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    vcpus: tuple[int, int] = (0, 0)
    architectures: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, pool: PoolConfig) -> "Pool":
        if pool.kind == "gpu":
            return cls(pool.pool_name, gpu_types=frozenset(pool.instance_types))
        return cls(
            pool.pool_name,
            categories=frozenset(pool.instance_categories),
            vcpus=(pool.min_vcpu, pool.max_vcpu),
            architectures=frozenset(pool.architectures),
        )

    def runs(self, instance_type: str) -> bool:
        if self.gpu_types:
            return instance_type in self.gpu_types
        match = EC2_TYPE.match(instance_type)
        vcpus = _size_vcpus(match.group("size")) if match else None
        if not match or vcpus is None:
            return False
        architecture = "arm64" if "g" in match.group("attributes") else "amd64"
        low, high = self.vcpus
        return match.group("category") in self.categories and low <= vcpus <= high and architecture in self.architectures

    def describe(self) -> str:
        if self.gpu_types:
            return f"pool {self.name}: {', '.join(sorted(self.gpu_types))}"
        low, high = self.vcpus
        return (
            f"pool {self.name}: {'/'.join(sorted(self.categories))} families, {low}-{high} vCPU, "
            f"{'/'.join(sorted(self.architectures))}"
        )


@dataclass(frozen=True)
class Capacity:
    """What the configuration can run workloads on."""

    hyperpod_types: frozenset[str]
    karpenter_pools: tuple[Pool, ...]

    @classmethod
    def from_config(cls, config: PlatformConfig) -> "Capacity":
        hyperpod = config.hyperpod
        groups = hyperpod.instance_groups if hyperpod.enabled else []
        return cls(
            hyperpod_types=frozenset(group.instance_type for group in groups),
            karpenter_pools=tuple(Pool.from_config(pool) for pool in config.karpenter.pools),
        )

    @property
    def pools(self) -> tuple[str, ...]:
        return tuple(pool.name for pool in self.karpenter_pools)

    def in_pool(self, pool: str, instance_type: str) -> bool:
        return any(p.name == pool and p.runs(instance_type) for p in self.karpenter_pools)

    def provides(self, instance_type: str, pools: Sequence[str] | None = None) -> bool:
        """Some HyperPod group (when no pool is named) or one of ``pools`` runs this type."""
        if pools is None and instance_type in self.hyperpod_types:
            return True
        return any(self.in_pool(pool, instance_type) for pool in (pools or self.pools))

    def describe(self) -> str:
        hyperpod = ", ".join(sorted(self.hyperpod_types)) or "none (hyperpod.enabled is false)"
        return f"HyperPod groups: {hyperpod}; " + "; ".join(pool.describe() for pool in self.karpenter_pools)


def _size_vcpus(size: str) -> int | None:
    """vCPUs of a c, m or r size; metal sizes vary by family and are not guessed."""
    if size in SIZE_VCPUS:
        return SIZE_VCPUS[size]
    multiple = SIZE_MULTIPLE.match(size)
    return 4 * int(multiple.group(1)) if multiple else None


@dataclass(frozen=True)
class Placement:
    """Where a pod template asks to run; None means "anywhere"."""

    instance_types: tuple[str, ...] | None = None
    pools: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PodTemplate:
    where: str
    """e.g. ``replicaSpecs[0] (workers)``; empty for a plain Pod."""
    spec: dict[str, Any]


@dataclass
class Document:
    source: str
    index: int
    body: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    @property
    def label(self) -> str:
        kind = self.body.get("kind", "?")
        name = (self.body.get("metadata") or {}).get("name", "?")
        if not self.source:  # a single object built in memory
            return f"{kind}/{name}"
        return f"{self.source} document {self.index} ({kind}/{name})"

    def report(self, container: str, message: str) -> None:
        self.problems.append(Problem(self.label, container, message))


# --- reading ------------------------------------------------------------------------------


def read_documents(path: Path) -> list[Document]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise CannotCheck(f"{path}: cannot read ({err.strerror or err})") from None
    return parse_documents(text, str(path))


def parse_documents(text: str, source: str) -> list[Document]:
    try:
        bodies = list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise CannotCheck(f"{source}: invalid YAML{at}: {getattr(err, 'problem', None) or err}") from None
    documents = []
    for index, body in enumerate(bodies, start=1):
        if body is None:
            continue
        if not isinstance(body, dict):
            raise CannotCheck(f"{source} document {index}: not a Kubernetes object (a mapping with kind)")
        documents.append(Document(source, index, body))
    return documents


# --- pod templates --------------------------------------------------------------------------


def pod_templates(body: dict[str, Any]) -> Iterator[PodTemplate]:
    kind, spec = body.get("kind"), body.get("spec") or {}
    if kind == "Pod":
        yield PodTemplate("", spec)
    elif kind in TEMPLATED_KINDS:
        yield PodTemplate("template", _dig(spec, "template", "spec"))
    elif kind == "CronJob":
        yield PodTemplate("jobTemplate", _dig(spec, "jobTemplate", "spec", "template", "spec"))
    elif kind == "HyperPodPyTorchJob":
        for index, replica in enumerate(spec.get("replicaSpecs") or []):
            yield PodTemplate(f"replicaSpecs[{index}] ({replica.get('name', '?')})", _dig(replica, "template", "spec"))
    else:
        # Kubeflow jobs: pytorchReplicaSpecs, mpiReplicaSpecs, tfReplicaSpecs... keyed by role.
        for key, replicas in spec.items():
            if key.endswith("ReplicaSpecs") and isinstance(replicas, dict):
                for role, replica in replicas.items():
                    yield PodTemplate(f"{key}.{role}", _dig(replica or {}, "template", "spec"))


def _dig(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) or {} if isinstance(data, dict) else {}
    return data if isinstance(data, dict) else {}


def placement_of(spec: dict[str, Any]) -> Placement:
    selector = spec.get("nodeSelector") or {}
    types = _selected(selector, INSTANCE_TYPE_LABELS)
    pools = _selected(selector, (NODEPOOL_LABEL,))
    affinity_types, affinity_pools = _required_affinity(spec)
    return Placement(_narrow(types, affinity_types), _narrow(pools, affinity_pools))


def _selected(selector: dict[str, Any], labels: Sequence[str]) -> tuple[str, ...] | None:
    values = tuple(str(selector[label]) for label in labels if label in selector)
    return values or None


def _required_affinity(spec: dict[str, Any]) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """Values allowed by `In` expressions of the required node affinity; its terms are
    alternatives, so a value any term allows is allowed."""
    terms = _dig(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution").get(
        "nodeSelectorTerms"
    ) or []
    types: list[str] = []
    pools: list[str] = []
    for term in terms:
        for expression in (term or {}).get("matchExpressions") or []:
            if expression.get("operator") != "In":
                continue
            values = [str(value) for value in expression.get("values") or []]
            if expression.get("key") in INSTANCE_TYPE_LABELS:
                types += values
            elif expression.get("key") == NODEPOOL_LABEL:
                pools += values
    return tuple(types) or None, tuple(pools) or None


def _narrow(first: tuple[str, ...] | None, second: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if first is None or second is None:
        return first or second
    return tuple(value for value in first if value in second)


def containers_of(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers"):
        yield from (c for c in spec.get(key) or [] if isinstance(c, dict))


# --- rules ------------------------------------------------------------------------------------


def check_accelerators(document: Document, container: str, resources: dict[str, Any]) -> None:
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    for name in ACCELERATOR_RESOURCES:
        if name not in requests:
            continue  # a limit alone is requested as limited by Kubernetes itself
        requested, limited = _quantity(requests[name]), _quantity(limits.get(name))
        if limited is None:
            document.report(container, f"requests {name}: {requests[name]} without a limit; "
                                       f"set limits {name}: {requests[name]} too")
        elif requested != limited:
            document.report(container, f"{name} requests ({requests[name]}) differ from limits "
                                       f"({limits[name]}): accelerators are not shared, set both to {limits[name]}")


def _quantity(value: Any) -> float | str | None:
    if value is None:
        return None
    try:
        return float(str(value))
    except ValueError:
        return str(value)


def check_placement(document: Document, where: str, placement: Placement, capacity: Capacity) -> None:
    subject = f"pod template {where}" if where else "pod"
    for pool in placement.pools or ():
        if pool not in capacity.pools:
            document.report(subject, f"selects Karpenter pool {pool!r}, which the configuration does not "
                                     f"create; use {' or '.join(capacity.pools)}")
            return
    if not placement.instance_types:
        if placement.instance_types is not None:  # nodeSelector and affinity exclude each other
            document.report(subject, "its node selector and required node affinity allow no instance type "
                                     "in common; make them agree")
        return
    if any(capacity.provides(t, placement.pools) for t in placement.instance_types):
        return
    types = ", ".join(placement.instance_types)
    pools = f" in pool {', '.join(placement.pools)}" if placement.pools else ""
    document.report(subject, f"targets instance type {types}{pools}, which no HyperPod instance group or "
                             f"Karpenter pool provides ({capacity.describe()}); select one of those or add "
                             "the type to hyperpod.instance_groups or to a pool of karpenter.pools")


def check_inference_instance_type(document: Document, instance_type: str | None, capacity: Capacity) -> None:
    """The inference operator runs models on HyperPod nodes: the type must be a group's."""
    if instance_type is None:
        document.report("spec", "has no instance type; set the ml.* type of a HyperPod instance group")
    elif instance_type not in capacity.hyperpod_types:
        groups = ", ".join(sorted(capacity.hyperpod_types)) or "none (hyperpod.enabled is false)"
        document.report("spec", f"instance type {instance_type} is not the type of any HyperPod instance group "
                                f"(groups: {groups}); use one of those or add a group of that type")


def check_document(document: Document, capacity: Capacity) -> list[Problem]:
    body = document.body
    if str(body.get("apiVersion", "")).startswith(f"{INFERENCE_GROUP}/"):
        _check_inference(document, capacity)
    for template in pod_templates(body):
        check_placement(document, template.where, placement_of(template.spec), capacity)
        for container in containers_of(template.spec):
            name = f"container {container.get('name', '?')}"
            if template.where:
                name = f"{template.where} {name}"
            check_accelerators(document, name, container.get("resources") or {})
    return document.problems


def _check_inference(document: Document, capacity: Capacity) -> None:
    spec = document.body.get("spec") or {}
    kind = document.body.get("kind")
    if kind == "JumpStartModel":
        check_inference_instance_type(document, _dig(spec, "server").get("instanceType"), capacity)
    elif kind == "InferenceEndpointConfig":
        check_inference_instance_type(document, spec.get("instanceType"), capacity)
        check_accelerators(document, "worker", _dig(spec, "worker", "resources"))


def validate_documents(documents: Sequence[Document], capacity: Capacity) -> list[Problem]:
    return [problem for document in documents for problem in check_document(document, capacity)]


def validate_text(text: str, capacity: Capacity, source: str = "<manifest>") -> list[Problem]:
    return validate_documents(parse_documents(text, source), capacity)


def validate_files(paths: Sequence[Path], capacity: Capacity) -> list[Problem]:
    return validate_documents([doc for path in paths for doc in read_documents(path)], capacity)


# --- command line -------------------------------------------------------------------------------


def platform_capacity() -> Capacity:
    try:
        return Capacity.from_config(load_config())
    except ConfigError as err:
        first = err.problems[0] if err.problems else "unknown problem"
        raise CannotCheck(f"invalid configuration ({len(err.problems)} problem(s)), first: {first}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="validate_workload",
        description="Check manifests against the platform (exit 0 valid, 1 invalid, 2 cannot check).",
    )
    parser.add_argument("files", nargs="+", type=Path, help="YAML manifests (several documents each allowed)")
    args = parser.parse_args(argv)
    try:
        problems = validate_files(args.files, platform_capacity())
    except CannotCheck as err:
        print(f"cannot check: {err}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    except Exception as err:  # noqa: BLE001 - an operator tool answers in one line, never a traceback
        print(f"cannot check: unexpected {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {len(args.files)} file(s)", file=sys.stderr)
        return EXIT_INVALID
    print(f"ok: {len(args.files)} file(s) fit the platform")
    return EXIT_VALID


if __name__ == "__main__":
    sys.exit(main())
