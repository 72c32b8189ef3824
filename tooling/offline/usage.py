"""What a Terraform configuration folder uses: providers, resource and data source types,
local modules, and the files it reaches outside its folder.

It reads ``*.tf.json`` as JSON and ``*.tf`` with a few patterns (the block headers
``resource "type" "name"``, ``data "type" "name"``, module ``source`` and
``required_providers`` entries); it does not evaluate anything.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

DEFAULT_NAMESPACE = "hashicorp"

_HCL_RESOURCE = re.compile(r'^\s*resource\s+"([\w-]+)"\s+"[\w-]+"', re.M)
_HCL_DATA = re.compile(r'^\s*data\s+"([\w-]+)"\s+"[\w-]+"', re.M)
_HCL_MODULE = re.compile(r'^module\s+"[\w-]+"\s*\{(.*?)^\}', re.M | re.S)
_HCL_LOCAL_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.\.?/[^"]*)"', re.M)
_HCL_REQUIRED = re.compile(r'([\w-]+)\s*=\s*\{[^{}]*?\bsource\s*=\s*"([^"]+)"', re.S)
_HCL_PROVIDER_BLOCK = re.compile(r'^\s*provider\s+"([\w-]+)"', re.M)
_HCL_CHART = re.compile(r'^\s*chart\s*=\s*"([^"]+)"', re.M)
# A relative path that climbs out of the folder, as written in any string.
_CLIMBING_PATH = re.compile(r"(?<![\w./@+-])((?:\.\./)+[\w.@+-][\w./@+-]*)")


class ConfigurationError(ValueError):
    """The folder is not a Terraform configuration the stand-ins can run."""


@dataclass
class Usage:
    # provider local name -> source address ("hashicorp/aws")
    providers: dict[str, str] = field(default_factory=dict)
    resources: set[str] = field(default_factory=set)
    data_sources: set[str] = field(default_factory=set)
    modules: list[Path] = field(default_factory=list)  # local module folders read
    charts: list[str] = field(default_factory=list)  # local helm chart paths, relative to the root folder

    def types_of(self, provider_type: str) -> tuple[set[str], set[str]]:
        """The resource and data source types served by a provider of this type name."""
        prefix = provider_type + "_"
        return (
            {t for t in self.resources if t.startswith(prefix) or t == provider_type},
            {t for t in self.data_sources if t.startswith(prefix) or t == provider_type},
        )

    def sources(self) -> dict[str, str]:
        """Provider type name -> source address, for every provider the configuration needs
        (declared ones, and the ones its types imply)."""
        out: dict[str, str] = {}
        for local, source in self.providers.items():
            out[source.rsplit("/", 1)[-1]] = source
        for type_name in self.resources | self.data_sources:
            implied = type_name.split("_", 1)[0]
            if implied not in out and implied not in self.providers:
                out[implied] = f"{DEFAULT_NAMESPACE}/{implied}"
        return dict(sorted(out.items()))


def config_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and (p.name.endswith(".tf") or p.name.endswith(".tf.json")))


def _blocks(value: Any) -> Iterable[tuple[str, Any]]:
    """(label, body) pairs of a JSON block section, in its object or list-of-objects forms."""
    if isinstance(value, dict):
        yield from value.items()
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                yield from item.items()


def _normalize_source(source: str) -> str:
    parts = source.split("/")
    if len(parts) == 3:  # hostname/namespace/type
        parts = parts[1:]
    if len(parts) == 1:
        parts = [DEFAULT_NAMESPACE, parts[0]]
    return "/".join(parts).lower()


def scan(folder: Path, usage: Usage | None = None, _seen: set[Path] | None = None, root: Path | None = None) -> Usage:
    """What ``folder`` and the local modules it calls use."""
    usage = usage or Usage()
    seen = _seen if _seen is not None else set()
    root = root or folder
    real = folder.resolve()
    if real in seen:
        return usage
    seen.add(real)
    module_sources: list[str] = []
    for path in config_files(folder):
        text = path.read_text()
        if path.name.endswith(".tf.json"):
            try:
                document = json.loads(text)
            except ValueError as err:
                raise ConfigurationError(f"{path} is not valid JSON: {err}") from err
            _scan_json(document, usage, module_sources, folder, root)
        else:
            usage.resources.update(_HCL_RESOURCE.findall(text))
            usage.data_sources.update(_HCL_DATA.findall(text))
            for body in _HCL_MODULE.findall(text):
                module_sources.extend(_HCL_LOCAL_SOURCE.findall(body)[:1])
            for block in re.findall(r"required_providers\s*\{(.*?)\n\s*\}", text, re.S):
                for local, source in _HCL_REQUIRED.findall(block):
                    usage.providers.setdefault(local, _normalize_source(source))
            for local in _HCL_PROVIDER_BLOCK.findall(text):
                usage.providers.setdefault(local, _normalize_source(local))
            for chart in _HCL_CHART.findall(text):
                _add_chart(usage, chart, folder, root)
    for source in module_sources:
        module = folder / source
        if not module.is_dir():
            raise ConfigurationError(f"{folder}: module source {source!r} is not a folder ({module})")
        usage.modules.append(module)
        scan(module, usage, seen, root)
    return usage


def _scan_json(document: Any, usage: Usage, module_sources: list[str], folder: Path, root: Path) -> None:
    if not isinstance(document, dict):
        return
    terraform = document.get("terraform")
    for block in terraform if isinstance(terraform, list) else [terraform]:
        if not isinstance(block, dict):
            continue
        for local, requirement in _blocks(block.get("required_providers")):
            source = requirement.get("source") if isinstance(requirement, dict) else None
            usage.providers.setdefault(local, _normalize_source(source or local))
    for local, _ in _blocks(document.get("provider")):
        usage.providers.setdefault(local, _normalize_source(local))
    for type_name, bodies in _blocks(document.get("resource")):
        usage.resources.add(type_name)
        if type_name == "helm_release":
            for _, body in _blocks(bodies):
                if isinstance(body, dict) and isinstance(body.get("chart"), str) and not body.get("repository"):
                    _add_chart(usage, body["chart"], folder, root)
    for type_name, _ in _blocks(document.get("data")):
        usage.data_sources.add(type_name)
    for _, body in _blocks(document.get("module")):
        source = body.get("source") if isinstance(body, dict) else None
        if isinstance(source, str) and source.startswith(("./", "../")):
            module_sources.append(source)


def _add_chart(usage: Usage, chart: str, folder: Path, root: Path) -> None:
    chart = chart.replace("${path.module}", ".")
    if chart.startswith(("./", "../")) and "${" not in chart:
        usage.charts.append(os.path.normpath(os.path.relpath(folder / chart, root)))


def climbing_references(folder: Path) -> set[str]:
    """Relative paths the configuration names that lead out of ``folder`` (``../x``);
    state files are left out (the workspace keeps its own state)."""
    out: set[str] = set()
    for path in config_files(folder):
        text = path.read_text()
        if path.name.endswith(".tf.json"):
            try:
                document = json.loads(text)
            except ValueError:
                continue
            if isinstance(document, dict):
                document = {k: v for k, v in document.items() if k != "terraform"}
            text = json.dumps(document)
        else:
            text = re.sub(r'backend\s+"\w+"\s*\{[^}]*\}', "", text)
        for ref in _CLIMBING_PATH.findall(text):
            ref = ref.rstrip(".")
            if ref.endswith((".tfstate", ".tfstate.backup")):
                continue
            out.add(ref)
    return out
