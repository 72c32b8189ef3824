"""The stand-in providers: ``python -m tooling.offline.serve --host <folder>`` (the provider
host of a process's workspaces) or ``python -m tooling.offline.serve <name>`` (a plugin Terraform
starts itself).

One program serves every stand-in (aws, helm, kubernetes, ...): it reads the run's served
schema (``<run>/schemas/<name>.json``, written by the workspace), settings
(``<run>/settings.json``) and TLS identity (``<run>/tls.json``), and speaks tfplugin6 with
PyPI ``tf``'s generated protocol classes and its servicer base class (metadata,
functions, stop). The servicer below replaces ``tf``'s resource logic, which knows no
object, tuple or dynamic types, no nesting but sets, no nested replacement paths and no
planning of creates.

Terraform starts a provider 4 to 10 times per command, and a plain start takes about
0.2 s (mostly importing grpc). So the workspaces of a process share one *provider host*
(``host``): a process that has imported everything once and serves each open workspace's
providers, each on its own loopback port, for as long as the workspace is open. Terraform
reaches it through ``TF_REATTACH_PROVIDERS`` (its mechanism for providers that are already
running) and starts no provider process at all: a plan of the default stack takes about a
third less time and CPU than with a process per start, and a new workspace costs no
process start. Each Terraform connection (a provider instance) gets its own provider
configuration. The executable installed in the mirror runs this program as a plain plugin
(``python -m tooling.offline.serve <name>``, with TLS) for a kept workspace run by hand.
The provider loads nothing but the run's files: no jsii assembly, no project code beyond
this package, and not even ``cryptography`` (the workspace made the certificate;
``tf.runner`` would load it with ``cryptography`` on every start, and keeps it under
``~/.cache``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sys
import threading
import traceback
from concurrent import futures
from pathlib import Path
from typing import Any, Callable

import tf.provider
from tf.gen import tfplugin_pb2 as pb
from tf.iface import Provider
from tf.utils import Diagnostics

from . import facts, fakes
from .values import (
    UNKNOWN,
    Missing,
    conform,
    decode,
    encode,
    fill_unknowns,
    get_path,
    is_known,
    known_part,
    merge_known,
    plan_walk,
    zero_of,
)

RUN_ENV = "OFFLINE_STANDIN_RUN"
NULL = pb.DynamicValue(msgpack=encode(None))


def _dynamic(value: Any) -> pb.DynamicValue:
    return pb.DynamicValue(msgpack=encode(value))


# --- schema to protocol --------------------------------------------------------------------

_NESTING = {
    "single": pb.Schema.NestedBlock.NestingMode.SINGLE,
    "list": pb.Schema.NestedBlock.NestingMode.LIST,
    "set": pb.Schema.NestedBlock.NestingMode.SET,
    "map": pb.Schema.NestedBlock.NestingMode.MAP,
}
_OBJECT_NESTING = {
    "single": pb.Schema.Object.NestingMode.SINGLE,
    "list": pb.Schema.Object.NestingMode.LIST,
    "set": pb.Schema.Object.NestingMode.SET,
    "map": pb.Schema.Object.NestingMode.MAP,
}


def _pb_attribute(name: str, spec: dict[str, Any]) -> pb.Schema.Attribute:
    flags = {k: True for k in ("required", "optional", "computed", "sensitive") if spec.get(k)}
    if "nested" in spec:
        nested = spec["nested"]
        return pb.Schema.Attribute(
            name=name,
            nested_type=pb.Schema.Object(
                attributes=[_pb_attribute(n, a) for n, a in nested["attributes"].items()],
                nesting=_OBJECT_NESTING[nested["nesting"]],
            ),
            **flags,
        )
    return pb.Schema.Attribute(name=name, type=json.dumps(spec["type"]).encode(), **flags)


def _pb_block(node: dict[str, Any]) -> pb.Schema.Block:
    return pb.Schema.Block(
        attributes=[_pb_attribute(n, a) for n, a in node.get("attributes", {}).items()],
        block_types=[
            pb.Schema.NestedBlock(
                type_name=n,
                block=_pb_block(spec["block"]),
                nesting=_NESTING[spec["nesting"]],
                min_items=spec.get("min_items", 0),
                max_items=spec.get("max_items", 0),
            )
            for n, spec in node.get("blocks", {}).items()
        ],
    )


def _pb_schema(node: dict[str, Any]) -> pb.Schema:
    # Version 0: the stand-ins have never written another state format.
    return pb.Schema(version=0, block=_pb_block(node))


def _attribute_path(steps: list[Any]) -> pb.AttributePath:
    out = []
    for step in steps:
        if isinstance(step, int):
            out.append(pb.AttributePath.Step(element_key_int=step))
        elif isinstance(step, tuple):
            out.append(pb.AttributePath.Step(element_key_string=step[0]))
        else:
            out.append(pb.AttributePath.Step(attribute_name=step))
    return pb.AttributePath(steps=out)


def _error(summary: str, detail: str = "", path: list[Any] | None = None) -> pb.Diagnostic:
    fields: dict[str, Any] = {"severity": pb.Diagnostic.ERROR, "summary": summary, "detail": detail}
    if path:
        fields["attribute"] = _attribute_path(path)
    return pb.Diagnostic(**fields)


# --- the stand-in ------------------------------------------------------------------------------


class StandIn:
    """One provider's served schema, the run's settings and the provider configuration."""

    def __init__(self, name: str, run: Path, document: dict[str, Any] | None = None):
        self.name = name
        self.run = run
        if document is None:
            document = json.loads((run / "schemas" / f"{name}.json").read_text())
        self.provider_schema = document["provider"]
        self.resources: dict[str, Any] = document["resources"]
        self.data_sources: dict[str, Any] = document["data_sources"]
        self.default_tags: Any = {}
        self.load_settings()

    def load_settings(self) -> None:
        """The run's settings as they are now (``Workspace.set_fakes`` may change them
        between commands: every provider instance reads them when it starts)."""
        self.settings = json.loads((self.run / "settings.json").read_text())
        self.region: str = self.settings["region"]

    def configure(self, config: Any) -> None:
        config = config or {}
        region = config.get("region")
        if isinstance(region, str) and region:
            self.region = region
        tags_blocks = config.get("default_tags")
        if tags_blocks is UNKNOWN:
            self.default_tags = UNKNOWN
        elif tags_blocks:
            tags = tags_blocks[0].get("tags") if isinstance(tags_blocks[0], dict) else UNKNOWN
            self.default_tags = tags if tags is not None else {}

    def context(self, type_name: str, seed_value: Any) -> fakes.Context:
        ctx = fakes.Context(
            region=self.region,
            zones=int(self.settings["zones"]),
            account=self.settings.get("account", fakes.FAKE_ACCOUNT),
            default_tags=self.default_tags if isinstance(self.default_tags, dict) else {},
            type_name=type_name,
        )
        ctx.seed = json.dumps([type_name, known_part(seed_value)], sort_keys=True, default=str)
        return ctx

    # --- plan ---

    def default_for(self, type_name: str) -> Callable[[tuple[str, ...]], Any]:
        defaults = facts.PLAN_DEFAULTS.get(type_name, {})
        nulls = facts.PLAN_NULL.get(self.name, frozenset())

        def default(path: tuple[str, ...]) -> Any:
            if path in defaults:
                return defaults[path]
            if path in nulls:
                return None
            if path == ("region",) and self.name == "aws":
                return self.region
            return Missing

        return default

    def plan(self, type_name: str, prior: Any, proposed: Any, config: Any) -> tuple[Any, list[list[Any]]]:
        node = self.resources[type_name]
        planned = plan_walk(node, proposed, prior, self.default_for(type_name))
        attributes = node.get("attributes", {})
        if self.name == "aws" and "tags_all" in attributes and (config or {}).get("tags_all") is None:
            planned["tags_all"] = self._tags_all(planned.get("tags"))
        replace: list[list[Any]] = []
        if prior is not None:
            self._recompute(type_name, prior, planned, node)
            replace = self._replacements(type_name, node, prior, planned)
        return conform(node, planned), replace

    def _tags_all(self, tags: Any) -> Any:
        if not is_known(tags) or not is_known(self.default_tags):
            return UNKNOWN
        merged = dict(self.default_tags or {})
        merged.update(tags or {})
        return merged

    @staticmethod
    def _recompute(type_name: str, prior: dict[str, Any], planned: dict[str, Any], node: dict[str, Any]) -> None:
        rules = facts.RECOMPUTED_ON_CHANGE.get(type_name, {})
        if not rules:
            return
        inputs = [n for n, a in node.get("attributes", {}).items() if not (a.get("computed") and not a.get("optional"))]
        inputs += list(node.get("blocks", {}))
        for attribute, watched in rules.items():
            if attribute not in planned:
                continue
            names = inputs if watched is None else list(watched)
            if any(known_part(prior.get(n)) != known_part(planned.get(n)) for n in names if n in planned):
                planned[attribute] = UNKNOWN

    def _replacements(self, type_name: str, node: dict[str, Any], prior: Any, planned: Any) -> list[list[Any]]:
        out: list[list[Any]] = []
        for path in sorted(facts.replacing_paths(type_name, set(node.get("attributes", {})))):
            out.extend(_changed_paths(node, prior, planned, path, []))
        if type_name == "aws_cloudcontrolapi_resource" and _create_only_changed(prior, planned):
            out.append(["desired_state"])
        return out

    # --- apply and read ---

    def apply(self, type_name: str, prior: Any, planned: Any) -> Any:
        if planned is None:
            return None
        node = self.resources[type_name]
        ctx = self.context(type_name, planned)
        fake = fakes.RESOURCES.get(type_name)
        if fake is not None:
            planned = merge_known(planned, conform(node, fake(_known_view(planned), ctx)))
        if type_name == "helm_release" and prior is not None and planned.get("metadata") is UNKNOWN:
            planned["metadata"] = _next_revision(prior.get("metadata"), ctx, planned)
        filled = fill_unknowns(node, planned, self._generic(type_name, ctx))
        return conform(node, filled)

    def read_data(self, type_name: str, config: Any) -> Any:
        node = self.data_sources[type_name]
        ctx = self.context(type_name, config)
        planned = plan_walk(node, config, None, self.default_for(type_name))
        fake = fakes.DATA_SOURCES.get(type_name)
        if fake is not None:
            planned = merge_known(planned, conform(node, fake(_known_view(config), ctx)))
        return conform(node, fill_unknowns(node, planned, self._generic(type_name, ctx)))

    def _generic(self, type_name: str, ctx: fakes.Context) -> Callable[[tuple[str, ...], Any, dict[str, Any]], Any]:
        """Values for what no fake of the type set: SDKv2 zero values for unset optional
        attributes (null for framework providers), made-up but well-formed values for
        computed ones."""
        framework = self.name in facts.NESTED_ATTRIBUTE_PROVIDERS

        def generic(path: tuple[str, ...], t: Any, spec: dict[str, Any]) -> Any:
            if t is None:
                return None
            if spec.get("optional"):
                return None if framework else zero_of(t)
            return _generic_value(type_name, path, t, ctx)

        return generic


def _known_view(value: Any) -> Any:
    """``value`` with unknowns as null: what the fakes read."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: _known_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known_view(v) for v in value]
    return value


def _next_revision(previous: Any, ctx: fakes.Context, planned: dict[str, Any]) -> Any:
    fresh = fakes.RESOURCES["helm_release"](_known_view(planned), ctx)["metadata"]
    if isinstance(previous, dict):
        fresh["revision"] = int(previous.get("revision") or 0) + 1
        fresh["first_deployed"] = previous.get("first_deployed", fresh["first_deployed"])
    return fresh


def _generic_value(type_name: str, path: tuple[str, ...], t: Any, ctx: fakes.Context) -> Any:
    name = path[-1] if path else ""
    if t == "string":
        service = type_name.split("_")[1] if type_name.count("_") else type_name
        if name == "arn" or name.endswith("_arn"):
            return ctx.arn(service, f"{name.removesuffix('_arn') or type_name}/{ctx.hex(17, path)}")
        if name in ("owner_id", "account_id"):
            return ctx.account
        if name == "uid":
            return ctx.uuid(path)
        if name == "resource_version":
            return ctx.digits(6, path)
        if name == "region" or name.endswith("_region"):
            return ctx.region
        if name == "id" or name.endswith("_id"):
            return f"{name.removesuffix('_id') or service}-0{ctx.hex(16, path)}"
        if "status" in name:
            return "ACTIVE"
        if name == "state" or name.endswith("_state"):
            return "available"
        if name.endswith("_at") or name.endswith("_date") or name.endswith("_time") or name.startswith("creat"):
            return fakes.FIXED_TIME
        if "endpoint" in name or name.endswith("url"):
            return f"https://{ctx.hex(12, path)}.{service}.{ctx.region}.{ctx.dns_suffix}"
        return f"{name}-{ctx.hex(8, path)}"
    if t == "number":
        return 1 if ("version" in name or "revision" in name) else 0
    if t == "bool":
        return False
    if isinstance(t, list):
        kind = t[0]
        if kind in ("list", "set"):
            element = t[1]
            if isinstance(element, list) and element[0] == "object":
                return [_generic_value(type_name, path, element, ctx)]
            return []
        if kind == "map":
            return {}
        if kind == "object":
            return {k: _generic_value(type_name, path + (k,), kt, ctx) for k, kt in t[1].items()}
    return None


def _changed_paths(node: dict[str, Any], prior: Any, planned: Any, path: tuple[str, ...], here: list[Any]) -> list[list[Any]]:
    """Concrete attribute paths (with list indexes) under ``path`` whose value changed."""
    if not isinstance(planned, dict) or not isinstance(prior, dict):
        return []
    name, rest = path[0], path[1:]
    step = here + [name]
    before, after = prior.get(name), planned.get(name)
    spec = node.get("blocks", {}).get(name)
    if not rest or spec is None:
        if rest:
            before, after = get_path(before, rest), get_path(after, rest)
        return [step] if known_part(before) != known_part(after) or not is_known(after) else []
    nesting = spec["nesting"]
    if nesting == "single":
        return _changed_paths(spec["block"], before, after, rest, step)
    if nesting == "list":
        before, after = before or [], after or []
        if len(before) != len(after):
            return [step]
        out = []
        for i, (b, a) in enumerate(zip(before, after)):
            out.extend(_changed_paths(spec["block"], b, a, rest, step + [i]))
        return out
    # Sets and maps of blocks: a change under the path replaces the whole block value.
    b = sorted(json.dumps(known_part(get_path(e, rest)), sort_keys=True) for e in (before or []))
    a = sorted(json.dumps(known_part(get_path(e, rest)), sort_keys=True) for e in (after or []))
    return [step] if a != b else []


def json_patch_paths(old: Any, new: Any, path: str = "") -> list[str]:
    """The paths of a JSON patch from ``old`` to ``new``, computed as the aws provider's
    patch library does: objects key by key, equal-length arrays element by element, any
    other difference at the path where it shows."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            child = f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in old or key not in new:
                out.append(child)
            else:
                out.extend(json_patch_paths(old[key], new[key], child))
        return out
    if isinstance(old, list) and isinstance(new, list):
        if len(old) == len(new):
            return [p for i, (a, b) in enumerate(zip(old, new)) for p in json_patch_paths(a, b, f"{path}/{i}")]
        shorter = min(len(old), len(new))
        changed = [p for i in range(shorter) for p in json_patch_paths(old[i], new[i], f"{path}/{i}")]
        return changed + [f"{path}/{i}" for i in range(shorter, max(len(old), len(new)))]
    return [] if old == new and type(old) is type(new) else [path]


def _create_only_changed(prior: Any, planned: Any) -> bool:
    """Whether a Cloud Control desired_state change replaces the resource: as in the aws
    provider (cloudcontrol/resource.go), a patch path must equal a create-only property
    pointer, so a change inside an array element (/InstanceGroups/0/InstanceType) is an
    update, which the service itself may then refuse."""
    pointers = facts.CREATE_ONLY_PROPERTIES.get(planned.get("type_name"))
    if not pointers or not isinstance(planned.get("desired_state"), str):
        return False  # unknown: the real provider skips the check too
    try:
        before = json.loads(prior.get("desired_state") or "{}")
        after = json.loads(planned.get("desired_state") or "{}")
    except (TypeError, ValueError):
        return False
    create_only = {"/" + "/".join(p) for p in pointers}
    return any(path in create_only for path in json_patch_paths(before, after))


# --- validation --------------------------------------------------------------------------------


def validate(type_name: str, config: Any) -> list[pb.Diagnostic]:
    out: list[pb.Diagnostic] = []
    if not isinstance(config, dict):
        return out
    for path, (low, high, pattern) in facts.NAME_RULES.get(type_name, {}).items():
        value = get_path(config, path)
        for text in value if isinstance(value, list) else [value]:
            problem = _rule_problem(text, low, high, pattern)
            if problem:
                out.append(_error(f"invalid value for {'.'.join(path)}", f"{problem} (checked by the offline stand-in, as the real provider's schema does)", list(path)))
    for name in facts.JSON_ATTRIBUTES.get(type_name, ()):
        text = config.get(name)
        if isinstance(text, str) and text.strip():
            try:
                json.loads(text)
            except ValueError as err:
                out.append(_error(f"\"{name}\" contains an invalid JSON", f"{err} (checked by the offline stand-in)", [name]))
    if type_name == "aws_cloudcontrolapi_resource":
        out.extend(_validate_desired_state(config))
    return out


def _rule_problem(text: Any, low: int, high: int, pattern: str | None) -> str | None:
    if not isinstance(text, str):
        return None
    if not low <= len(text) <= high:
        return f"expected length to be in the range ({low} - {high}), got {text!r} ({len(text)} characters)"
    if pattern and not re.search(pattern, text):
        return f"{text!r} must match {pattern}"
    return None


def _validate_desired_state(config: dict[str, Any]) -> list[pb.Diagnostic]:
    rules = facts.CLOUDCONTROL_RULES.get(config.get("type_name"), {})
    text = config.get("desired_state")
    if not rules or not isinstance(text, str):
        return []
    try:
        document = json.loads(text)
    except ValueError:
        return []
    out = []
    for path, (low, high, pattern) in rules.items():
        for value in _json_values(document, path):
            problem = _rule_problem(value, low, high, pattern)
            if problem:
                out.append(_error(f"desired_state: invalid {'/'.join(path)}", problem + " (CloudFormation schema rule checked by the offline stand-in)", ["desired_state"]))
    return out


def _json_values(document: Any, path: tuple[str, ...]) -> list[Any]:
    if not path:
        return [document]
    head, rest = path[0], path[1:]
    if head == "*":
        items = document if isinstance(document, list) else list(document.values()) if isinstance(document, dict) else []
        return [v for item in items for v in _json_values(item, rest)]
    if isinstance(document, dict) and head in document:
        return _json_values(document[head], rest)
    return []


# --- gRPC --------------------------------------------------------------------------------------


def _guard(response: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A failure inside the stand-in becomes an error diagnostic Terraform prints, not a
    dropped connection."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(self: Any, request: Any, context: Any) -> Any:
            try:
                return method(self, request, context)
            except Exception as err:  # noqa: BLE001 - reported to Terraform
                return response(
                    diagnostics=[_error(f"offline stand-in provider failed: {type(err).__name__}: {err}", traceback.format_exc())]
                )

        guarded.__name__ = method.__name__
        return guarded

    return wrap


class _App(Provider):
    """What ``tf``'s servicer base class asks of a provider; the servicer overrides the rest."""

    def __init__(self, standin: StandIn):
        self.standin = standin

    def get_model_prefix(self) -> str:
        return f"{self.standin.name}_"

    def full_name(self) -> str:
        return f"registry.terraform.io/hashicorp/{self.standin.name}"

    def get_provider_schema(self, diags: Diagnostics) -> Any:
        raise NotImplementedError

    def validate_config(self, diags: Diagnostics, config: Any) -> None:
        return None

    def configure_provider(self, diags: Diagnostics, config: Any) -> None:
        self.standin.configure(config)

    def get_data_sources(self) -> list[Any]:
        return []

    def get_resources(self) -> list[Any]:
        return []

    def get_functions(self) -> list[Any]:
        return []


class StandInServicer(tf.provider.ProviderServicer):
    """tfplugin6 answers from the served schema; metadata, functions and shutdown are ``tf``'s."""

    def __init__(self, app: _App, standin_for: Callable[[Any], StandIn] | None = None):
        super().__init__(app)
        # One provider instance per plugin process, or (provider host) per connection.
        self.standin_for = standin_for or (lambda context: app.standin)

    @_guard(pb.GetProviderSchema.Response)
    def GetProviderSchema(self, request: Any, context: Any) -> Any:
        s = self.standin_for(context)
        return pb.GetProviderSchema.Response(
            provider=_pb_schema(s.provider_schema),
            provider_meta=pb.Schema(version=0, block=pb.Schema.Block()),
            resource_schemas={n: _pb_schema(b) for n, b in s.resources.items()},
            data_source_schemas={n: _pb_schema(b) for n, b in s.data_sources.items()},
            server_capabilities=pb.ServerCapabilities(plan_destroy=True, get_provider_schema_optional=True),
        )

    @_guard(pb.ValidateProviderConfig.Response)
    def ValidateProviderConfig(self, request: Any, context: Any) -> Any:
        return pb.ValidateProviderConfig.Response()

    @_guard(pb.ConfigureProvider.Response)
    def ConfigureProvider(self, request: Any, context: Any) -> Any:
        self.standin_for(context).configure(decode(request.config))
        return pb.ConfigureProvider.Response()

    @_guard(pb.ValidateResourceConfig.Response)
    def ValidateResourceConfig(self, request: Any, context: Any) -> Any:
        return pb.ValidateResourceConfig.Response(diagnostics=validate(request.type_name, decode(request.config)))

    @_guard(pb.ValidateDataResourceConfig.Response)
    def ValidateDataResourceConfig(self, request: Any, context: Any) -> Any:
        return pb.ValidateDataResourceConfig.Response(diagnostics=validate(request.type_name, decode(request.config)))

    @_guard(pb.UpgradeResourceState.Response)
    def UpgradeResourceState(self, request: Any, context: Any) -> Any:
        node = self.standin_for(context).resources[request.type_name]
        state = json.loads(request.raw_state.json) if request.raw_state.json else None
        return pb.UpgradeResourceState.Response(upgraded_state=_dynamic(conform(node, state)))

    @_guard(pb.ReadResource.Response)
    def ReadResource(self, request: Any, context: Any) -> Any:
        node = self.standin_for(context).resources[request.type_name]
        # The stand-in's world is the state: what was applied is still there.
        return pb.ReadResource.Response(new_state=_dynamic(conform(node, decode(request.current_state))), private=request.private)

    @_guard(pb.PlanResourceChange.Response)
    def PlanResourceChange(self, request: Any, context: Any) -> Any:
        proposed = decode(request.proposed_new_state)
        if proposed is None:
            return pb.PlanResourceChange.Response(planned_state=NULL, planned_private=request.prior_private)
        planned, replace = self.standin_for(context).plan(request.type_name, decode(request.prior_state), proposed, decode(request.config))
        return pb.PlanResourceChange.Response(
            planned_state=_dynamic(planned),
            requires_replace=[_attribute_path(p) for p in replace],
            planned_private=request.prior_private,
        )

    @_guard(pb.ApplyResourceChange.Response)
    def ApplyResourceChange(self, request: Any, context: Any) -> Any:
        new_state = self.standin_for(context).apply(request.type_name, decode(request.prior_state), decode(request.planned_state))
        return pb.ApplyResourceChange.Response(new_state=_dynamic(new_state), private=request.planned_private)

    @_guard(pb.ImportResourceState.Response)
    def ImportResourceState(self, request: Any, context: Any) -> Any:
        return pb.ImportResourceState.Response(
            diagnostics=[_error("import is not supported by the offline stand-in", f"{request.type_name} {request.id}")]
        )

    @_guard(pb.ReadDataSource.Response)
    def ReadDataSource(self, request: Any, context: Any) -> Any:
        return pb.ReadDataSource.Response(state=_dynamic(self.standin_for(context).read_data(request.type_name, decode(request.config))))


def serve(servicer: StandInServicer, tls: dict[str, str], sockets: Path) -> None:
    """go-plugin's side of the handshake: a gRPC server on a unix socket with TLS, one
    line on stdout naming it, then serve until Terraform says stop."""
    import tempfile

    import grpc
    from tf.gen import grpc_controller_pb2 as controller_pb
    from tf.gen import grpc_controller_pb2_grpc as controller_rpc
    from tf.gen import grpc_stdio_pb2_grpc as stdio_rpc
    from tf.gen import tfplugin_pb2_grpc as rpc

    stopped = threading.Event()

    class Controller(controller_rpc.GRPCControllerServicer):
        def Shutdown(self, request: Any, context: Any) -> Any:
            stopped.set()
            return controller_pb.Empty()

    class Stdio(stdio_rpc.GRPCStdioServicer):
        def StreamStdio(self, request: Any, context: Any) -> Any:
            return iter(())  # the stand-in writes nothing Terraform should relay

    class StopAfterStopProvider(grpc.ServerInterceptor):
        def intercept_service(self, continuation: Any, details: Any) -> Any:
            if details.method == "/tfplugin6.Provider/StopProvider":
                stopped.set()
            return continuation(details)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), interceptors=[StopAfterStopProvider()])
    rpc.add_ProviderServicer_to_server(servicer, server)
    controller_rpc.add_GRPCControllerServicer_to_server(Controller(), server)
    stdio_rpc.add_GRPCStdioServicer_to_server(Stdio(), server)
    credentials = grpc.ssl_server_credentials([(tls["key_pem"].encode(), tls["cert_pem"].encode())], require_client_auth=False)
    # The socket lives in the run folder, which the workspace removes even when Terraform
    # kills this process; a unix socket path must stay under about 100 bytes.
    socket = str(sockets / f"{os.getpid()}-{threading.get_ident()}.sock")
    if len(socket) > 100:
        socket = tempfile.mktemp(prefix="standin-", suffix=".sock")
    server.add_secure_port(f"unix://{socket}", credentials)
    server.start()
    try:
        # core protocol version | app protocol version | network | address | protocol | server certificate
        print(f"1|6|unix|{socket}|grpc|{tls['cert_der_b64'].rstrip('=')}", flush=True)
        while not stopped.wait(0.05):
            pass
        server.stop(grace=0.2)
    finally:
        Path(socket).unlink(missing_ok=True)


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[1] == "--host":
        host(sys.stdin, sys.stdout)
        # The host's own folder (its log) goes with it, however its parent ended.
        shutil.rmtree(argv[2], ignore_errors=True)
        os._exit(0)  # the gRPC threads need no orderly teardown
    if len(argv) < 2 or not re.fullmatch(r"[a-z0-9]+", argv[1]):
        sys.exit("usage: python -m tooling.offline.serve <provider name> (started by Terraform, not by hand)")
    run = Path(_run_folder())
    standin = StandIn(argv[1], run)
    tls = json.loads((run / "tls.json").read_text())
    sockets = run / "sockets"
    sockets.mkdir(exist_ok=True)
    serve(StandInServicer(_App(standin)), tls, sockets)
    # Terraform waits for this process to end after Shutdown: skip the interpreter's teardown.
    sys.stdout.flush()
    os._exit(0)


def _run_folder() -> str:
    run = os.environ.get(RUN_ENV)
    if not run:
        sys.exit(f"{RUN_ENV} is not set: this program is started by Terraform through a workspace's provider wrapper")
    return run


def _serve_run(run: Path, pool: futures.ThreadPoolExecutor) -> tuple[list[Any], dict[str, int]]:
    """A gRPC server per provider of a run, each on a loopback port: the servers and the
    ports by provider name.

    Reattached providers speak plain gRPC (go-plugin pins a certificate only for the
    processes it starts), so the ports listen on 127.0.0.1 only: the stand-ins hold no
    secret and change nothing outside their answers. Terraform opens one connection per
    provider instance; each connection (its client port) gets its own ``StandIn``, which
    reads the run's settings as they are when it connects."""
    import grpc
    from tf.gen import tfplugin_pb2_grpc as rpc

    ports: dict[str, int] = {}
    servers = []
    for path in sorted((run / "schemas").glob("*.json")):
        name, document = path.stem, json.loads(path.read_text())
        instances: dict[str, StandIn] = {}
        lock = threading.Lock()

        def standin_for(context: Any, name: str = name, document: dict[str, Any] = document,
                        instances: dict[str, StandIn] = instances, lock: threading.Lock = lock) -> StandIn:
            peer = context.peer()  # "ipv4:127.0.0.1:<client port>": one per connection
            with lock:
                if peer not in instances:
                    instances[peer] = StandIn(name, run, document)
                return instances[peer]

        server = grpc.server(pool)
        rpc.add_ProviderServicer_to_server(StandInServicer(_App(StandIn(name, run, document)), standin_for), server)
        ports[name] = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
    return servers, ports


def host(requests: Any, replies: Any) -> None:
    """``--host``: the provider host of one process's workspaces (``Workspace.env`` points
    Terraform at it through ``TF_REATTACH_PROVIDERS``; Terraform never stops it).

    It reads one JSON request a line: ``{"open": "<run folder>"}`` serves the run's
    providers and answers ``{"ports": {name: port}}``; ``{"close": "<run folder>"}`` stops
    them and answers ``{"closed": "<run folder>"}``. A request that fails answers
    ``{"error": "..."}``. It ends when its input closes (the workspaces' process ended)."""
    pool = futures.ThreadPoolExecutor(max_workers=8)  # shared by every run's servers
    opened: dict[str, list[Any]] = {}
    for line in requests:
        try:
            request = json.loads(line)
            if "open" in request:
                opened[request["open"]], ports = _serve_run(Path(request["open"]), pool)
                reply: dict[str, Any] = {"ports": ports}
            elif "close" in request:
                for server in opened.pop(request["close"], []):
                    server.stop(grace=None)
                reply = {"closed": request["close"]}
            else:
                reply = {"error": f"unknown request {line.strip()!r}"}
        except Exception as err:  # noqa: BLE001 - answered, and the host goes on
            reply = {"error": f"{type(err).__name__}: {err}\n{traceback.format_exc()}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    for servers in opened.values():
        for server in servers:
            server.stop(grace=None)


def make_tls_identity() -> dict[str, str]:
    """A self-signed certificate for the plugin's gRPC server (go-plugin pins it from the
    handshake line), made once per workspace."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
                key_agreement=True, key_cert_sign=True, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return {
        "key_pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
        "cert_pem": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "cert_der_b64": base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode(),
    }


if __name__ == "__main__":
    main(sys.argv)
