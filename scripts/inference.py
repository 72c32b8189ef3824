"""Deploy, list, watch and delete models served by the HyperPod inference operator.

    python -m scripts.inference deploy-jumpstart --name deepseek [--model-id ID] [--instance-type ml.g5.xlarge]
    python -m scripts.inference deploy-custom --name qwen --bucket B --region us-west-2 --model-location qwen/
    python -m scripts.inference list
    python -m scripts.inference watch jumpstart --timeout 600
    python -m scripts.inference delete custom qwen

Every command takes --namespace (default ``default``), --kubeconfig and --context. The
resources are the operator's JumpStartModel and InferenceEndpointConfig
(inference.sagemaker.aws.amazon.com/v1), handled through the Kubernetes client's
custom-objects API. A deploy is first checked by the workload validator against the
platform configuration (HYPERPOD_EKS_CONFIG), unless --skip-validation.

Exit codes: 0 done; 1 the operation failed (refused by the API, already exists, not found,
the manifest breaks a platform rule); 2 cannot run (no kubeconfig or context, cluster
unreachable, the operator's resources are not installed, invalid configuration).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from scripts.hyperpod_kube import kubeconfig_path
from scripts.hyperpod_status import format_table

GROUP = "inference.sagemaker.aws.amazon.com"
VERSION = "v1"
API_VERSION = f"{GROUP}/{VERSION}"
EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2
# (connect, read) seconds: every call answers even when the API server does not.
REQUEST_TIMEOUT = (5, 30)
WATCH_READ_GRACE = 10
DEFAULT_INSTANCE_TYPE = "ml.g5.xlarge"
DEFAULT_JUMPSTART_MODEL = "deepseek-llm-r1-distill-qwen-1-5b"
DEFAULT_SERVER_IMAGE = "vllm/vllm-openai:v0.11.0"
DEFAULT_INVOCATION_ENDPOINT = "v1/chat/completions"
MODEL_MOUNT = "/opt/ml/model"
MODEL_PORT = 8000
NO_VALUE = "-"


class OperationFailed(Exception):
    """The cluster answered and refused, or the request breaks a rule; exit 1."""


class CannotRun(Exception):
    """The command cannot reach a cluster that serves the operator's resources; exit 2."""


@dataclass(frozen=True)
class ModelKind:
    key: str
    kind: str
    plural: str
    instance_type_path: tuple[str, ...]

    def instance_type(self, obj: dict[str, Any]) -> str:
        value: Any = obj.get("spec") or {}
        for key in self.instance_type_path:
            value = value.get(key) if isinstance(value, dict) else None
        return str(value) if value else NO_VALUE


JUMPSTART = ModelKind("jumpstart", "JumpStartModel", "jumpstartmodels", ("server", "instanceType"))
CUSTOM = ModelKind("custom", "InferenceEndpointConfig", "inferenceendpointconfigs", ("instanceType",))
KINDS = {kind.key: kind for kind in (JUMPSTART, CUSTOM)}


@dataclass(frozen=True)
class ModelSummary:
    kind: str
    name: str
    instance_type: str
    replicas: str
    state: str


@dataclass(frozen=True)
class ModelEvent:
    type: str
    """ADDED, MODIFIED or DELETED, as the watch reports it."""
    kind: str
    name: str
    state: str

    def __str__(self) -> str:
        return f"{self.type:<8}  {self.kind}/{self.name}  {self.state}"


def state_of(obj: dict[str, Any]) -> str:
    status = obj.get("status") or {}
    return str(status.get("state") or (status.get("deploymentStatus") or {}).get("deploymentObjectOverallState")
               or NO_VALUE)


@dataclass(frozen=True)
class JumpStartRequest:
    name: str
    model_id: str = DEFAULT_JUMPSTART_MODEL
    instance_type: str = DEFAULT_INSTANCE_TYPE
    replicas: int = 1
    accept_eula: bool = False
    endpoint_name: str | None = None
    """A SageMaker endpoint of this name is registered when set."""

    def manifest(self, namespace: str) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "model": {"modelHubName": "SageMakerPublicHub", "modelId": self.model_id, "acceptEula": self.accept_eula},
            "server": {"instanceType": self.instance_type},
            "replicas": self.replicas,
            "metrics": {"enabled": True},
        }
        if self.endpoint_name:
            spec["sageMakerEndpoint"] = {"name": self.endpoint_name}
        return _resource(JUMPSTART, self.name, namespace, spec)


@dataclass(frozen=True)
class CustomModelRequest:
    name: str
    bucket: str
    region: str
    model_location: str
    instance_type: str = DEFAULT_INSTANCE_TYPE
    replicas: int = 1
    image: str = DEFAULT_SERVER_IMAGE
    gpus: int = 1
    invocation_endpoint: str = DEFAULT_INVOCATION_ENDPOINT

    def manifest(self, namespace: str) -> dict[str, Any]:
        devices = {"nvidia.com/gpu": self.gpus}
        spec = {
            "modelName": self.name,
            "endpointName": self.name,
            "instanceType": self.instance_type,
            "replicas": self.replicas,
            "invocationEndpoint": self.invocation_endpoint,
            "modelSourceConfig": {
                "modelSourceType": "s3",
                "s3Storage": {"bucketName": self.bucket, "region": self.region},
                "modelLocation": self.model_location,
                "prefetchEnabled": True,
            },
            "metrics": {"enabled": True, "modelMetrics": {"port": MODEL_PORT}},
            "worker": {
                "image": self.image,
                "args": [MODEL_MOUNT, f"--port={MODEL_PORT}", f"--served-model-name={self.name}"],
                "modelInvocationPort": {"containerPort": MODEL_PORT, "name": "http"},
                "modelVolumeMount": {"name": "model-weights", "mountPath": MODEL_MOUNT},
                "resources": {"requests": dict(devices), "limits": dict(devices)},
            },
        }
        return _resource(CUSTOM, self.name, namespace, spec)


def _resource(kind: ModelKind, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind.kind, "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


class InferenceManager:
    """The operator's resources in one namespace, through ``CustomObjectsApi``."""

    def __init__(self, api: Any, namespace: str = "default", request_timeout: tuple[int, int] = REQUEST_TIMEOUT):
        self.api = api
        self.namespace = namespace
        self.request_timeout = request_timeout

    @classmethod
    def from_kubeconfig(
        cls, kubeconfig: Path, context: str | None = None, namespace: str = "default"
    ) -> "InferenceManager":
        from kubernetes import client as kube_client
        from kubernetes import config as kube_config

        if not kubeconfig.is_file():
            raise CannotRun(f"no kubeconfig at {kubeconfig} (aws eks update-kubeconfig writes one)")
        try:
            api_client = kube_config.new_client_from_config(config_file=str(kubeconfig), context=context)
        except (kube_config.ConfigException, OSError, ValueError, TypeError) as err:
            raise CannotRun(f"kubeconfig {kubeconfig} unusable: {_first_line(err)}") from None
        return cls(kube_client.CustomObjectsApi(api_client), namespace)

    def deploy(self, manifest: dict[str, Any]) -> dict[str, Any]:
        kind = kind_of(manifest)
        manifest = {**manifest, "metadata": {**(manifest.get("metadata") or {}), "namespace": self.namespace}}
        return self._call(kind, "create", self.api.create_namespaced_custom_object,
                          GROUP, VERSION, self.namespace, kind.plural, manifest)

    def deploy_jumpstart(self, request: JumpStartRequest) -> dict[str, Any]:
        return self.deploy(request.manifest(self.namespace))

    def deploy_custom(self, request: CustomModelRequest) -> dict[str, Any]:
        return self.deploy(request.manifest(self.namespace))

    def list(self, kinds: Sequence[ModelKind] = (JUMPSTART, CUSTOM)) -> list[ModelSummary]:
        summaries = []
        for kind in kinds:
            listed = self._call(kind, "list", self.api.list_namespaced_custom_object,
                                GROUP, VERSION, self.namespace, kind.plural)
            summaries += [_summary(kind, item) for item in listed.get("items") or []]
        return summaries

    def delete(self, kind: ModelKind, name: str) -> None:
        self._call(kind, "delete", self.api.delete_namespaced_custom_object,
                   GROUP, VERSION, self.namespace, kind.plural, name)

    def watch(self, kind: ModelKind, timeout: float) -> Iterator[ModelEvent]:
        """Events until ``timeout`` seconds have passed: the server is asked to end the
        stream then, and a silent server is cut off by the read timeout."""
        from kubernetes import watch as kube_watch

        watcher = kube_watch.Watch()
        deadline = time.monotonic() + timeout
        events = watcher.stream(
            self.api.list_namespaced_custom_object, GROUP, VERSION, self.namespace, kind.plural,
            timeout_seconds=max(1, int(timeout)),
            _request_timeout=(self.request_timeout[0], timeout + WATCH_READ_GRACE),
        )
        try:
            for event in events:
                obj = event.get("raw_object") or event.get("object") or {}
                yield ModelEvent(event.get("type", "?"), kind.kind, (obj.get("metadata") or {}).get("name", "?"),
                                 state_of(obj))
                if time.monotonic() >= deadline:
                    break
        except Exception as err:  # noqa: BLE001 - translated into one line
            raise translate(err, kind, "watch", self.namespace) from None
        finally:
            watcher.stop()
            events.close()  # closes the HTTP response now, not when collected

    def _call(self, kind: ModelKind, verb: str, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return function(*args, _request_timeout=self.request_timeout)
        except Exception as err:  # noqa: BLE001 - translated into one line below
            raise translate(err, kind, verb, self.namespace) from None


def translate(err: Exception, kind: ModelKind, verb: str, namespace: str) -> Exception:
    """Every failure of the client becomes OperationFailed or CannotRun, in one line."""
    from kubernetes.client.exceptions import ApiException

    if isinstance(err, (OperationFailed, CannotRun)):
        return err
    import urllib3

    if isinstance(err, ApiException):
        return api_error(err, kind, verb, namespace)
    if isinstance(err, (urllib3.exceptions.HTTPError, OSError)):
        return CannotRun(f"Kubernetes API unreachable: {_first_line(err)}")
    return CannotRun(f"unexpected reply to {verb} {kind.kind}: {type(err).__name__}: {_first_line(err)}")


def api_error(err: Any, kind: ModelKind, verb: str, namespace: str) -> Exception:
    """A refusal, or the sign that the operator's resources are not installed: the API
    server answers a path no CRD serves with a plain-text 404, and a missing object (or
    namespace) with a JSON Status."""
    status = _status_body(err.body)
    message = status.get("message") or err.reason or ""
    if err.status == 0:
        return CannotRun(f"Kubernetes API unreachable: {_first_line(message)}")
    if err.status == 404 and not status:
        return CannotRun(
            f"the cluster does not serve {kind.plural}.{GROUP}/{VERSION}: the HyperPod inference operator "
            "is not installed (set hyperpod.enable_inference_operator: true and deploy the platform)"
        )
    if err.status == 401:
        return CannotRun(f"Kubernetes API refused the credentials: {message}")
    if err.status == 409:
        return OperationFailed(f"{verb} {kind.kind}: {message}; delete it first or choose another name")
    return OperationFailed(
        f"{verb} {kind.kind} in namespace {namespace} refused ({err.status}): {_first_line(message)}"
    )


def _status_body(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) and parsed.get("kind") == "Status" else {}


def kind_of(manifest: dict[str, Any]) -> ModelKind:
    for kind in KINDS.values():
        if manifest.get("kind") == kind.kind and manifest.get("apiVersion") == API_VERSION:
            return kind
    raise OperationFailed(f"not a JumpStartModel or InferenceEndpointConfig of {API_VERSION}: "
                          f"{manifest.get('apiVersion')} {manifest.get('kind')}")


def _summary(kind: ModelKind, item: dict[str, Any]) -> ModelSummary:
    spec = item.get("spec") or {}
    return ModelSummary(
        kind=kind.kind,
        name=(item.get("metadata") or {}).get("name", "?"),
        instance_type=kind.instance_type(item),
        replicas=str(spec.get("replicas", 1)),
        state=state_of(item),
    )


def _first_line(err: Any) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


# --- command line -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--namespace", default="default")
    common.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    common.add_argument("--context", help="kube context (default: the current one)")
    parser = argparse.ArgumentParser(
        prog="inference",
        description="Models on the HyperPod inference operator (exit 0 done, 1 failed, 2 cannot run).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    jumpstart = commands.add_parser("deploy-jumpstart", parents=[common], help="deploy a SageMaker JumpStart model")
    jumpstart.add_argument("--name", required=True)
    jumpstart.add_argument("--model-id", default=DEFAULT_JUMPSTART_MODEL)
    jumpstart.add_argument("--accept-eula", action="store_true", help="accept the model's licence terms")
    jumpstart.add_argument("--endpoint-name", help="also register a SageMaker endpoint of this name")
    custom = commands.add_parser("deploy-custom", parents=[common], help="deploy a model stored in S3")
    custom.add_argument("--name", required=True)
    custom.add_argument("--bucket", required=True)
    custom.add_argument("--region", required=True)
    custom.add_argument("--model-location", required=True, help="prefix of the weights in the bucket")
    custom.add_argument("--image", default=DEFAULT_SERVER_IMAGE)
    custom.add_argument("--gpus", type=int, default=1)
    custom.add_argument("--invocation-endpoint", default=DEFAULT_INVOCATION_ENDPOINT)
    for deploy in (jumpstart, custom):
        deploy.add_argument("--instance-type", default=DEFAULT_INSTANCE_TYPE)
        deploy.add_argument("--replicas", type=int, default=1)
        deploy.add_argument("--skip-validation", action="store_true", help="do not check the platform rules first")
    listing = commands.add_parser("list", parents=[common], help="list deployed models")
    listing.add_argument("--kind", choices=sorted(KINDS), help="only this kind")
    watching = commands.add_parser("watch", parents=[common], help="print ADDED/MODIFIED/DELETED events")
    watching.add_argument("kind", choices=sorted(KINDS))
    watching.add_argument("--timeout", type=float, default=300, help="stop after this many seconds (default 300)")
    deleting = commands.add_parser("delete", parents=[common], help="delete a model")
    deleting.add_argument("kind", choices=sorted(KINDS))
    deleting.add_argument("name")
    return parser.parse_args(argv)


def request_of(args: argparse.Namespace) -> JumpStartRequest | CustomModelRequest:
    if args.command == "deploy-jumpstart":
        return JumpStartRequest(args.name, args.model_id, args.instance_type, args.replicas, args.accept_eula,
                                args.endpoint_name)
    return CustomModelRequest(args.name, args.bucket, args.region, args.model_location, args.instance_type,
                              args.replicas, args.image, args.gpus, args.invocation_endpoint)


def check_platform_rules(manifest: dict[str, Any]) -> None:
    from scripts import validate_workload

    try:
        capacity = validate_workload.platform_capacity()
    except validate_workload.CannotCheck as err:
        raise CannotRun(str(err)) from None
    document = validate_workload.Document("", 1, manifest)
    problems = validate_workload.check_document(document, capacity)
    if problems:
        raise OperationFailed("; ".join(str(problem) for problem in problems))


def run_command(args: argparse.Namespace, manager: InferenceManager) -> None:
    if args.command.startswith("deploy-"):
        manifest = request_of(args).manifest(manager.namespace)
        if not args.skip_validation:
            check_platform_rules(manifest)
        created = manager.deploy(manifest)
        print(f"created {created.get('kind', manifest['kind'])} {manager.namespace}/{manifest['metadata']['name']}")
    elif args.command == "list":
        models = manager.list([KINDS[args.kind]] if args.kind else (JUMPSTART, CUSTOM))
        print(format_table(("KIND", "NAME", "INSTANCE TYPE", "REPLICAS", "STATE"),
                           [(m.kind, m.name, m.instance_type, m.replicas, m.state) for m in models]))
    elif args.command == "watch":
        for event in manager.watch(KINDS[args.kind], args.timeout):
            print(event, flush=True)
    elif args.command == "delete":
        manager.delete(KINDS[args.kind], args.name)
        print(f"deleted {KINDS[args.kind].kind} {manager.namespace}/{args.name}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        manager = InferenceManager.from_kubeconfig(kubeconfig_path(args.kubeconfig), args.context, args.namespace)
        run_command(args, manager)
    except OperationFailed as err:
        print(f"failed: {err}", file=sys.stderr)
        return EXIT_FAILED
    except CannotRun as err:
        print(f"cannot run: {err}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("cannot run: interrupted", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except Exception as err:  # noqa: BLE001 - an operator tool answers in one line, never a traceback
        print(f"cannot run: unexpected {type(err).__name__}: {_first_line(err)}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
