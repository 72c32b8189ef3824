"""A loopback stand-in for the Kubernetes API's custom-objects paths of the HyperPod
inference operator, for the real kubernetes client.

It keeps JumpStartModel and InferenceEndpointConfig objects per namespace and answers as
the API server does: create (201, 409 when the name is taken), list, watch (one JSON event
per line, ADDED/MODIFIED/DELETED, then the stream ends), delete (404 Status when missing),
and a plain-text 404 for a resource no installed CRD serves. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

import pytest

LOOPBACK = "127.0.0.1"
GROUP = "inference.sagemaker.aws.amazon.com"
VERSION = "v1"
PLURALS = ("jumpstartmodels", "inferenceendpointconfigs")
LONGEST_HOLD = 5  # seconds a watch may stay open, whatever timeoutSeconds asks
PATH = re.compile(
    rf"^/apis/{re.escape(GROUP)}/{VERSION}/namespaces/(?P<namespace>[^/]+)/(?P<plural>[^/]+)(/(?P<name>[^/]+))?$"
)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    content_type: str = "application/json"
    lines: tuple[dict[str, Any], ...] | None = None
    """A watch: newline-delimited JSON events instead of one body."""
    hold_seconds: float = 0


@dataclass
class FakeCustomObjectsApi:
    installed: set[str] = field(default_factory=lambda: set(PLURALS))
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    events: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    """(plural, namespace, type, object), in the order they happened."""
    requests: list[str] = field(default_factory=list)
    hold_watch_open: bool = False
    url: str = ""
    _version: int = 0

    def handle(self, method: str, path: str, body: bytes) -> Reply:
        self.requests.append(f"{method} {path}")
        parsed = urlparse(path)
        match = PATH.match(parsed.path)
        if not match or match["plural"] not in self.installed:
            return Reply(404, b"404 page not found\n", "text/plain; charset=utf-8")
        namespace, plural, name = match["namespace"], match["plural"], match["name"]
        query = parse_qs(parsed.query)
        if method == "POST" and name is None:
            return self._create(plural, namespace, json.loads(body))
        if method == "GET" and name is None and query.get("watch", [""])[0].lower() in ("true", "1"):
            return self._watch(plural, namespace, query)
        if method == "GET" and name is None:
            items = [obj for (p, ns, _), obj in self.objects.items() if (p, ns) == (plural, namespace)]
            return Reply(200, {"apiVersion": f"{GROUP}/{VERSION}", "kind": "List", "items": items,
                               "metadata": {"resourceVersion": str(self._version)}})
        if method == "DELETE" and name is not None:
            return self._delete(plural, namespace, name)
        return Reply(405, status_body(405, "MethodNotAllowed", f"{method} is not handled here"))

    def set_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        """What the operator does as a deployment progresses: a MODIFIED event."""
        obj = self.objects[(plural, namespace, name)]
        obj["status"] = status
        self._record(plural, namespace, "MODIFIED", obj)

    def _create(self, plural: str, namespace: str, obj: dict[str, Any]) -> Reply:
        name = obj["metadata"]["name"]
        if (plural, namespace, name) in self.objects:
            message = f'{plural}.{GROUP} "{name}" already exists'
            return Reply(409, status_body(409, "AlreadyExists", message, name))
        obj["metadata"].update(namespace=namespace, uid=f"uid-{name}", generation=1)
        self.objects[(plural, namespace, name)] = obj
        self._record(plural, namespace, "ADDED", obj)
        return Reply(201, obj)

    def _delete(self, plural: str, namespace: str, name: str) -> Reply:
        obj = self.objects.pop((plural, namespace, name), None)
        if obj is None:
            return Reply(404, status_body(404, "NotFound", f'{plural}.{GROUP} "{name}" not found', name))
        self._record(plural, namespace, "DELETED", obj)
        return Reply(200, obj)

    def _watch(self, plural: str, namespace: str, query: dict[str, list[str]]) -> Reply:
        events = tuple({"type": kind, "object": obj} for p, ns, kind, obj in self.events if (p, ns) == (plural, namespace))
        asked = float(query.get("timeoutSeconds", ["0"])[0])
        return Reply(200, lines=events, hold_seconds=min(asked, LONGEST_HOLD) if self.hold_watch_open else 0)

    def _record(self, plural: str, namespace: str, kind: str, obj: dict[str, Any]) -> None:
        self._version += 1
        obj["metadata"]["resourceVersion"] = str(self._version)
        self.events.append((plural, namespace, kind, json.loads(json.dumps(obj))))


def status_body(code: int, reason: str, message: str, name: str | None = None) -> dict[str, Any]:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if name:
        body["details"] = {"name": name, "group": GROUP}
    return body


def _handler(api: FakeCustomObjectsApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: each response, a watch stream included, ends when the connection closes.
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            reply = api.handle(self.command, self.path, self.rfile.read(length))
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if reply.lines is not None:
                self.end_headers()
                self._stream(reply)
                return
            payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, reply: Reply) -> None:
            for event in reply.lines or ():
                self.wfile.write(json.dumps(event).encode() + b"\n")
                self.wfile.flush()
            time.sleep(reply.hold_seconds)

        do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's naming

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def custom_objects_api() -> Iterator[FakeCustomObjectsApi]:
    api = FakeCustomObjectsApi()
    server = ThreadingHTTPServer((LOOPBACK, 0), _handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    api.url = f"http://{LOOPBACK}:{server.server_address[1]}"
    yield api
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
