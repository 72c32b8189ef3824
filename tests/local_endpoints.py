"""Loopback stand-ins for AWS and the Kubernetes API, shared by the scripts' tests.

AWS is moto's server on 127.0.0.1 (a real HTTP endpoint botocore signs requests for);
Kubernetes is a small http.server that serves node and pod lists to the real client.
Nothing here listens on or connects to any address outside 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer

LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
EKS_CLUSTER = "ml-platform"
EKS_ARN = f"arn:aws:eks:{REGION}:{DEFAULT_ACCOUNT_ID}:cluster/{EKS_CLUSTER}"
HTTP_TIMEOUT = 5
# The silent server gives up by itself after this long, whatever the test does.
SILENT_SERVER_LIFETIME_SECONDS = 30
SILENT_SERVER_MAX_CONNECTIONS = 16


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        # No script reads AMIs: moto's EC2 need not load its default ones (a second of CPU).
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        assert host == LOOPBACK
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Dummy credentials and every AWS client pointed at moto; moto's state reset."""
    _reset_moto(moto_endpoint)
    isolate_aws_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return moto_endpoint


_LOADERS: dict[Any, Any] = {}


def _shared_loader(search_paths_string: Any = None) -> Any:
    """botocore's data loader, one per data path in this process. Each run of a script in a
    test makes a new botocore session, whose own loader would parse the same service
    models and endpoint rules (megabytes of read-only JSON) again: that was a quarter of
    a test worker's CPU."""
    if search_paths_string not in _LOADERS:
        _LOADERS[search_paths_string] = botocore.loaders.create_loader(search_paths_string)
    return _LOADERS[search_paths_string]


def isolate_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials from the machine, no instance metadata lookups, no real kubeconfig;
    botocore's data parsed once per process (``_shared_loader``)."""
    monkeypatch.setattr(botocore.session, "create_loader", _shared_loader)
    for name in (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
        "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))


def _reset_moto(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
        assert response.status == 200


def aws_client(service: str, endpoint: str, region: str = REGION) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )


def create_hyperpod_cluster(endpoint: str, name: str, groups: dict[str, int]) -> str:
    """Create a HyperPod cluster through the API; moto starts every node Running."""
    sagemaker = aws_client("sagemaker", endpoint)
    return sagemaker.create_cluster(
        ClusterName=name,
        InstanceGroups=[
            {
                "InstanceGroupName": group,
                "InstanceType": "ml.g5.xlarge",
                "InstanceCount": count,
                # moto insists on a bucket named like SageMaker's default buckets.
                "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle/scripts/", "OnCreate": "on_create.sh"},
                "ExecutionRole": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/hyperpod-execution",
                "ThreadsPerCore": 1,
            }
            for group, count in groups.items()
        ],
        VpcConfig={"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]},
    )["ClusterArn"]


def moto_hyperpod_cluster(name: str, region: str = REGION) -> Any:
    """moto's in-process record of a cluster: its API cannot fail a node or a cluster,
    so tests that need one change the state here (the server shares this process)."""
    return get_backend("sagemaker")[DEFAULT_ACCOUNT_ID][region].clusters[name]


@dataclass
class FakeKubeApi:
    """Serves /api/v1/nodes and /api/v1/namespaces/aws-hyperpod/pods from lists it holds, or
    refuses every request with ``refuse_with`` (an HTTP status) when that is set."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    url: str = ""
    refuse_with: int | None = None

    def respond(self, path: str) -> tuple[int, dict[str, Any]]:
        self.requests.append(path)
        if self.refuse_with is not None:
            return self.refuse_with, {
                "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": self.refuse_with,
                "message": "nodes is forbidden: User \"test\" cannot list resource \"nodes\"",
            }  # fmt: skip
        parsed = urlparse(path)
        if parsed.path == "/api/v1/nodes":
            selector = parse_qs(parsed.query).get("labelSelector", [""])[0]
            return 200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": _select(self.nodes, selector)}
        if parsed.path == "/api/v1/namespaces/aws-hyperpod/pods":
            return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": self.pods}
        return 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}


def _select(items: list[dict[str, Any]], selector: str) -> list[dict[str, Any]]:
    """Equality selectors only ("k=v,k2=v2"), which is all the status check sends."""
    wanted = dict(term.split("=", 1) for term in selector.split(",") if term)
    return [item for item in items if all(item["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())]


@pytest.fixture
def kube_api() -> Iterator[FakeKubeApi]:
    api = FakeKubeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            status, body = api.respond(self.path)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    # A short poll interval: shutdown() waits for one, and every test using the server pays it.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    api.url = f"http://{LOOPBACK}:{server.server_address[1]}"
    yield api
    server.shutdown()
    server.server_close()
    thread.join(timeout=HTTP_TIMEOUT)


def write_kubeconfig(path: Path, server_url: str, context: str = EKS_ARN) -> Path:
    """A kubeconfig like `aws eks update-kubeconfig` writes: context and cluster named by ARN."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server_url}}],
        "users": [{"name": context, "user": {"token": "test-token"}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def hyperpod_node(
    name: str, group: str, health: str = "Schedulable", deep: str = "Passed", ready: bool = True
) -> dict[str, Any]:
    labels = {
        "sagemaker.amazonaws.com/compute-type": "hyperpod",
        "sagemaker.amazonaws.com/instance-group-name": group,
        "sagemaker.amazonaws.com/node-health-status": health,
        "sagemaker.amazonaws.com/deep-health-check-status": deep,
    }
    condition = {"type": "Ready", "status": "True" if ready else "False"}
    return {"metadata": {"name": name, "labels": labels}, "status": {"conditions": [condition]}}


def plain_node(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"eks.amazonaws.com/nodegroup": "system"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name: str, phase: str = "Running", ready: bool = True, node: str = "hyperpod-i-0") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "aws-hyperpod"},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "example"}]},
        "status": {
            "phase": phase,
            "containerStatuses": [
                {"name": "main", "ready": ready, "restartCount": 0, "image": "example", "imageID": ""}
            ],
        },
    }


@dataclass
class SilentServer:
    """A loopback server that accepts connections and never answers."""

    url: str
    accepted: int = 0


@pytest.fixture
def silent_endpoint() -> Iterator[SilentServer]:
    """Accepts up to SILENT_SERVER_MAX_CONNECTIONS connections on 127.0.0.1, reads nothing,
    answers nothing, and closes everything at the end of the test or after
    SILENT_SERVER_LIFETIME_SECONDS, whichever comes first."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(SILENT_SERVER_MAX_CONNECTIONS)
    listener.settimeout(0.1)
    server = SilentServer(url=f"http://{LOOPBACK}:{listener.getsockname()[1]}")
    stop = threading.Event()

    def hold_connections() -> None:
        held: list[socket.socket] = []
        deadline = time.monotonic() + SILENT_SERVER_LIFETIME_SECONDS
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                if len(held) >= SILENT_SERVER_MAX_CONNECTIONS:
                    stop.wait(0.1)
                    continue
                try:
                    connection, _ = listener.accept()
                except socket.timeout:
                    continue
                held.append(connection)
                server.accepted += 1
        finally:
            for connection in held:
                connection.close()
            listener.close()

    thread = threading.Thread(target=hold_connections, name="silent-endpoint", daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join(timeout=HTTP_TIMEOUT)


@dataclass
class ErrorPage:
    """What the error-page server answers to every request."""

    status: int = 403
    content_type: str = "text/html"
    body: str = ""
    url: str = ""


@pytest.fixture
def error_page_endpoint() -> Iterator[ErrorPage]:
    """A loopback HTTP server answering every request with ``status`` and ``body``, as a proxy
    or load balancer in front of an AWS endpoint does when it fails."""
    page = ErrorPage()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            payload = page.body.encode()
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer  # noqa: N815 - http.server's naming

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    # A short poll interval: shutdown() waits for one, and every test using the server pays it.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    page.url = f"http://{LOOPBACK}:{server.server_address[1]}"
    yield page
    server.shutdown()
    server.server_close()
    thread.join(timeout=HTTP_TIMEOUT)


def point_aws_at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    """Every AWS client to URL, with dummy credentials and nothing from the machine."""
    isolate_aws_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def html_error_page(title: str) -> str:
    """An error page as nginx or an ALB writes it: several lines, the reason in the title."""
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>proxy</center>\r\n</body>\r\n</html>\r\n"
    )
