"""Terraform schemas derived from the cdktf provider bindings' jsii assemblies.

The bindings were generated from one provider release's schema, and keep most of it:

- the jsii assembly (``package/.jsii``) lists each resource's and data source's input
  properties (``optional`` or not, their types, the nested structs), and the getters of
  every attribute, including the computed-only ones (a getter with no ``...Input``);
- the generated JavaScript (``package/lib/<module>/index.js``) says, per input, its
  Terraform name, whether it is a block (``isBlock``) and the collection kind (``list``,
  ``set``, ``map``, ``struct`` = a single nested block); ``new XList(this, "name", true)``
  says a computed list of objects is a set.

They lose optional+computed on plain attributes (so every optional attribute is treated as
optional+computed), sensitivity, defaults and which changes force a replacement; those are
kept as data in ``facts.py``.

Loading the aws assembly takes seconds (131 MB of JSON), so schemas are generated only
for the types a configuration uses and cached per type in a folder keyed by the bindings'
version. A pass over the assembly costs about the same for one type or fifty, so a pass
also derives the types of every bindings submodule that the project's own code imports
(``project_submodules``) and the types ``facts.py`` describes: the next configuration of
the project finds its types cached.
One process generates at a time (a lock file in the cache folder); another waits and then
reads what it wrote. The schema format is plain JSON::

    {"attributes": {"name": {"type": <cty type JSON>, "required"|"optional"|"computed": true}},
     "blocks": {"name": {"nesting": "list|set|single|map", "min_items": 0, "max_items": 0,
                         "block": {...}}}}
"""

from __future__ import annotations

import ast
import fcntl
import json
import os
import re
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from . import facts
from .bindings import REPO, Bindings

# Bump when the derivation below changes: cached schemas of an older generator are ignored.
GENERATOR_VERSION = 1
DEFAULT_CACHE = REPO / ".cache" / "offline-standins"
CACHE_ENV = "OFFLINE_STANDIN_CACHE"

# Inputs every construct has that are Terraform meta-arguments, not provider attributes.
META_PROPERTIES = {"count", "dependsOn", "forEach", "lifecycle", "provider", "provisioners", "connection"}
PROVIDER_META_PROPERTIES = {"alias"}

KINDS = ("resource", "data")


class SchemaError(RuntimeError):
    """The bindings could not be read into a schema."""


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def camel_to_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# --- the generated JavaScript ---------------------------------------------------------

_HCL_ENTRY = re.compile(
    r"""["']?(?P<tf>[\w-]+)["']?:\s*\{\s*value:\s*(?P<value>.*?),\s*isBlock:\s*(?P<block>true|false),\s*"""
    r"""type:\s*"(?P<type>\w+)",\s*storageClassType:\s*"(?P<sct>\w+)",?\s*\}""",
    re.S,
)
_GETTER = re.compile(r"get (\w+)\(\) \{\s*return (?:cdktf\.Token\.\w+\()?(?:cdktf\.Fn\.\w+\()?this\.(?:get(\w*)Attribute|interpolationForAttribute)\('([^']+)'\)")
_MEMBER = re.compile(r"this\._(\w+) = new ([\w.]+)\(this, \"([^\"]+)\"(?:, (true|false))?\);")


@dataclass
class JsEntry:
    tf_name: str
    is_block: bool
    kind: str  # simple | list | set | map | struct


@dataclass
class JsClass:
    getters: dict[str, tuple[str, str]] = field(default_factory=dict)  # camel -> (getter kind, tf name)
    members: dict[str, tuple[str, str, bool]] = field(default_factory=dict)  # camel -> (class, tf name, wraps set)
    hcl: dict[str, JsEntry] = field(default_factory=dict)  # camel -> entry (synthesizeHclAttributes)


@dataclass
class JsModule:
    classes: dict[str, JsClass] = field(default_factory=dict)
    functions: dict[str, dict[str, JsEntry]] = field(default_factory=dict)  # xToHclTerraform -> camel -> entry
    resource_types: dict[str, str] = field(default_factory=dict)  # class name -> terraform type


def _hcl_entries(text: str) -> dict[str, JsEntry]:
    entries = {}
    for m in _HCL_ENTRY.finditer(text):
        refs = re.findall(r"(?:struct\.|this\._)(\w+)", m.group("value"))
        if not refs:
            continue
        entries[refs[-1]] = JsEntry(m.group("tf"), m.group("block") == "true", m.group("type"))
    return entries


def parse_js(source: str) -> JsModule:
    """The parts of a generated binding module that the jsii assembly lacks."""
    module = JsModule()
    lines = [line for line in source.split("\n") if not line.startswith("//# sourceMappingURL")]
    chunks: list[tuple[str, str, list[str]]] = []
    for line in lines:
        m = re.match(r"(class|function) (\w+)", line)
        if m:
            chunks.append((m.group(1), m.group(2), [line]))
        elif chunks:
            chunks[-1][2].append(line)
    for kind, name, body_lines in chunks:
        body = "\n".join(body_lines)
        if kind == "function":
            if name.endswith("ToHclTerraform"):
                module.functions[name] = _hcl_entries(body)
            continue
        cls = JsClass()
        for camel, getter_kind, tf_name in _GETTER.findall(body):
            cls.getters[camel] = (getter_kind or "Interpolation", tf_name)
        for camel, member_class, tf_name, wraps in _MEMBER.findall(body):
            cls.members[camel] = (member_class, tf_name, wraps == "true")
        synth = body.split("synthesizeHclAttributes()", 1)
        if len(synth) == 2:
            cls.hcl = _hcl_entries(synth[1])
        m = re.search(r"terraformResourceType: '([\w-]+)'", body)
        if m:
            module.resource_types[name] = m.group(1)
        module.classes[name] = cls
    return module


# --- the jsii assembly ----------------------------------------------------------------


@dataclass
class TypeIndex:
    """Terraform type name -> jsii class fqn, per kind, and the provider class."""

    provider_version: str
    resources: dict[str, str]
    data_sources: dict[str, str]
    provider_class: str


_DOC_LINK = re.compile(r"registry\.terraform\.io/providers/[\w-]+/[\w-]+/(?P<version>[\w.\-]+)/docs/(?P<kind>resources|data-sources)/\S+ (?P<type>[\w-]+)\}")


def index_types(types: dict[str, Any]) -> TypeIndex:
    resources, data_sources, provider_class, versions = {}, {}, None, set()
    for fqn, spec in types.items():
        if spec.get("kind") != "class":
            continue
        base = spec.get("base")
        if base == "cdktf.TerraformProvider":
            provider_class = fqn
            continue
        if base not in ("cdktf.TerraformResource", "cdktf.TerraformDataSource"):
            continue
        m = _DOC_LINK.search(spec.get("docs", {}).get("summary", ""))
        if not m:
            continue
        versions.add(m.group("version"))
        (resources if base == "cdktf.TerraformResource" else data_sources)[m.group("type")] = fqn
    if provider_class is None or len(versions) != 1:
        raise SchemaError(f"the assembly names no provider class or several provider versions ({sorted(versions)})")
    return TypeIndex(versions.pop(), resources, data_sources, provider_class)


def js_module_path(spec: dict[str, Any]) -> str:
    filename = spec["locationInModule"]["filename"]  # src/eks-cluster/index.ts
    return "package/lib/" + filename.removeprefix("src/").removesuffix(".ts") + ".js"


class Deriver:
    """Turns one class of the assembly (and its module's JavaScript) into a schema block."""

    def __init__(self, types: dict[str, Any], modules: dict[str, JsModule]):
        self.types = types
        self.modules = modules

    def _module(self, fqn: str) -> JsModule:
        return self.modules[js_module_path(self.types[fqn])]

    @staticmethod
    def _strip_resolvable(t: dict[str, Any]) -> dict[str, Any]:
        if "union" in t:
            others = [x for x in t["union"]["types"] if x.get("fqn") != "cdktf.IResolvable"]
            if len(others) == 1:
                return others[0]
            if not others:
                return {"fqn": "cdktf.IResolvable"}
        return t

    def _is_struct(self, t: dict[str, Any]) -> bool:
        return "fqn" in t and bool(self.types.get(t["fqn"], {}).get("datatype"))

    def _struct_of(self, t: dict[str, Any]) -> tuple[str | None, bool]:
        """(struct fqn, single) when ``t`` is a struct or a collection of structs."""
        t = self._strip_resolvable(t)
        if self._is_struct(t):
            return t["fqn"], True
        if "collection" in t:
            element = self._strip_resolvable(t["collection"]["elementtype"])
            if self._is_struct(element):
                return element["fqn"], False
        return None, False

    def cty(self, t: dict[str, Any], outer: str = "list") -> Any:
        """The cty type of a jsii type; ``outer`` is the JavaScript's collection kind."""
        t = self._strip_resolvable(t)
        if "primitive" in t:
            return {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic", "json": "dynamic"}[t["primitive"]]
        if "collection" in t:
            kind = t["collection"]["kind"]
            element = self.cty(t["collection"]["elementtype"])
            if kind == "map":
                return ["map", element]
            return ["set" if outer == "set" else "list", element]
        if "union" in t:
            # boolean | IResolvable was handled above; any other union is dynamic in Terraform.
            return "dynamic"
        fqn = t.get("fqn", "")
        if fqn == "cdktf.IResolvable":
            return "dynamic"
        raise SchemaError(f"no Terraform type for jsii type {t}")

    def block(self, struct_fqn: str | None, hcl: dict[str, JsEntry], output_class: str | None, top: set[str] | None = None) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        inputs: set[str] = set()
        if struct_fqn is not None:
            struct = self.types[struct_fqn]
            for prop in struct.get("properties", []):
                camel = prop["name"]
                if top is not None and camel in top:
                    continue
                inputs.add(camel)
                entry = hcl.get(camel)
                tf_name = entry.tf_name if entry else self._doc_name(prop) or camel_to_snake(camel)
                required = not prop.get("optional", False)
                nested_fqn, single = self._struct_of(prop["type"])
                if nested_fqn is not None:
                    nesting = {"list": "list", "set": "set", "struct": "single", "map": "map"}[entry.kind if entry else ("struct" if single else "list")]
                    name = nested_fqn.rsplit(".", 1)[1]
                    child = self.block(
                        nested_fqn,
                        self._module(nested_fqn).functions.get(name[0].lower() + name[1:] + "ToHclTerraform", {}),
                        name + "OutputReference",
                    )
                    spec: dict[str, Any] = {"nesting": nesting, "block": child}
                    if entry is not None and not entry.is_block:
                        # An object-typed attribute in the provider (a nested attribute).
                        spec["attribute"] = True
                    if nesting in ("list", "set"):
                        if single:
                            spec["max_items"] = 1
                        if required:
                            spec["min_items"] = 1
                    elif nesting == "single" and required:
                        spec["required"] = True
                    blocks[tf_name] = spec
                    continue
                outer = entry.kind if entry else "list"
                attribute: dict[str, Any] = {"type": self.cty(prop["type"], outer)}
                if required:
                    attribute["required"] = True
                else:
                    # The bindings cannot tell optional from optional+computed; see the module docstring.
                    attribute["optional"] = True
                    attribute["computed"] = True
                attributes[tf_name] = attribute
        if output_class is not None:
            for tf_name, cty_type in self.computed_only(struct_fqn, output_class, inputs).items():
                if tf_name not in attributes and tf_name not in blocks:
                    attributes[tf_name] = {"type": cty_type, "computed": True}
        out: dict[str, Any] = {}
        if attributes:
            out["attributes"] = dict(sorted(attributes.items()))
        if blocks:
            out["blocks"] = dict(sorted(blocks.items()))
        return out

    @staticmethod
    def _doc_name(prop: dict[str, Any]) -> str | None:
        m = re.search(r"#([\w-]+) \w+#", prop.get("docs", {}).get("summary", ""))
        return m.group(1) if m else None

    def _class_fqn(self, near_fqn: str, class_name: str) -> str:
        return near_fqn.rsplit(".", 1)[0] + "." + class_name

    def computed_only(self, near_fqn: str | None, class_name: str, inputs: set[str]) -> dict[str, Any]:
        """Attributes of ``class_name`` (a resource or an OutputReference) that have a getter
        and no input: computed by the provider."""
        if near_fqn is None:
            return {}
        fqn = self._class_fqn(near_fqn, class_name)
        spec = self.types.get(fqn)
        if spec is None:
            return {}
        js = self._module(fqn).classes.get(class_name, JsClass())
        names = {p["name"] for p in spec.get("properties", [])}
        out: dict[str, Any] = {}
        for prop in spec.get("properties", []):
            camel = prop["name"]
            if prop.get("static") or camel.endswith("Input") or camel in inputs or camel == "internalValue":
                continue
            if camel + "Input" in names:
                continue  # an input seen under another name (a top-level meta property)
            if camel in js.members:
                member_class, tf_name, wraps_set = js.members[camel]
                out[tf_name] = self._member_type(fqn, member_class, wraps_set)
            elif camel in js.getters:
                getter_kind, tf_name = js.getters[camel]
                out[tf_name] = self._getter_type(getter_kind, prop["type"])
        return out

    def _member_type(self, near_fqn: str, member_class: str, wraps_set: bool) -> Any:
        simple = {
            "cdktf.StringMap": ["map", "string"],
            "cdktf.NumberMap": ["map", "number"],
            "cdktf.BooleanMap": ["map", "bool"],
            "cdktf.AnyMap": ["map", "dynamic"],
            "cdktf.StringMapList": ["list", ["map", "string"]],
            "cdktf.NumberMapList": ["list", ["map", "number"]],
            "cdktf.BooleanMapList": ["list", ["map", "bool"]],
            "cdktf.AnyMapList": ["list", ["map", "dynamic"]],
            "cdktf.StringListList": ["list", ["list", "string"]],
            "cdktf.NumberListList": ["list", ["list", "number"]],
        }
        if member_class in simple:
            return simple[member_class]
        if member_class.endswith("OutputReference"):
            return ["object", self._object_attributes(near_fqn, member_class)]
        if member_class.endswith("List"):
            element = ["object", self._object_attributes(near_fqn, member_class[: -len("List")] + "OutputReference")]
            return ["set" if wraps_set else "list", element]
        if member_class.endswith("Map"):
            return ["map", ["object", self._object_attributes(near_fqn, member_class[: -len("Map")] + "OutputReference")]]
        raise SchemaError(f"no Terraform type for the computed attribute class {member_class}")

    def _object_attributes(self, near_fqn: str, output_class: str) -> dict[str, Any]:
        """A computed object's attributes: every getter of its OutputReference."""
        fqn = self._class_fqn(near_fqn, output_class)
        if fqn not in self.types:
            raise SchemaError(f"{fqn} is missing from the assembly")
        # Inputs of a computed-only object do not exist: every getter is an attribute.
        return dict(sorted(self.computed_only(fqn, output_class, set()).items()))

    def _getter_type(self, getter_kind: str, jsii_type: dict[str, Any]) -> Any:
        fixed = {
            "String": "string",
            "Number": "number",
            "Boolean": "bool",
            "List": ["list", "string"],
            "NumberList": ["list", "number"],
            "StringMap": ["map", "string"],
            "NumberMap": ["map", "number"],
            "BooleanMap": ["map", "bool"],
            "AnyMap": ["map", "dynamic"],
        }
        if getter_kind in fixed:
            return fixed[getter_kind]
        return self.cty(jsii_type)

    def resource(self, class_fqn: str, provider: bool = False) -> dict[str, Any]:
        class_name = class_fqn.rsplit(".", 1)[1]
        js = self._module(class_fqn).classes.get(class_name)
        if js is None:
            raise SchemaError(f"class {class_name} is missing from its JavaScript module")
        config = class_fqn + "Config"
        if config not in self.types:
            raise SchemaError(f"{config} is missing from the assembly")
        skip = PROVIDER_META_PROPERTIES if provider else META_PROPERTIES
        return self.block(config, js.hcl, None if provider else class_name, top=skip)


# --- cache ----------------------------------------------------------------------------


@dataclass
class ProviderSchemas:
    """The schemas of one provider, for the types asked for."""

    name: str
    provider_version: str
    bindings_version: str
    provider: dict[str, Any]
    resources: dict[str, Any]
    data_sources: dict[str, Any]
    generated: bool  # whether the assembly had to be loaded
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider_version": self.provider_version,
            "bindings_version": self.bindings_version,
            "provider": self.provider,
            "resources": self.resources,
            "data_sources": self.data_sources,
        }


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        json.dump(value, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


def cache_folder(bindings: Bindings, root: Path | None = None) -> Path:
    return (root or cache_root()) / f"{bindings.name}-{bindings.version}-g{GENERATOR_VERSION}"


# Where the project's own code imports the bindings from.
PROJECT_SOURCES = ("main.py", "modules", "cli")


def project_submodules(provider: str, root: Path = REPO) -> set[str]:
    """The submodules of ``cdktf_cdktf_provider_<provider>`` that the project's code
    imports (``from cdktf_cdktf_provider_aws.eks_cluster import EksCluster`` gives
    ``eks_cluster``), read with ``ast`` from the files of ``PROJECT_SOURCES``."""
    package = f"cdktf_cdktf_provider_{provider}"
    found: set[str] = set()
    for source in PROJECT_SOURCES:
        path = root / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.is_file() else []:
            for node in ast.walk(ast.parse(file.read_text(), str(file))):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
                found.update(n.split(".")[1] for n in names if n.startswith(f"{package}."))
    return found


def _missing(folder: Path, wanted: dict[str, list[str]]) -> dict[str, list[str]]:
    return {kind: [t for t in names if not (folder / kind / f"{t}.json").exists()] for kind, names in wanted.items()}


def schemas_for(bindings: Bindings, resources: Iterable[str], data_sources: Iterable[str], root: Path | None = None) -> ProviderSchemas:
    """Schemas of ``resources`` and ``data_sources`` of one provider, from the cache when
    there, else from the assembly (then cached). A type the provider does not have is left
    out, so Terraform reports it as the real provider would."""
    started = time.perf_counter()
    folder = cache_folder(bindings, root)
    wanted = {"resource": sorted(set(resources)), "data": sorted(set(data_sources))}
    meta_path = folder / "provider.json"
    generated = False
    if not meta_path.exists() or any(_missing(folder, wanted).values()):
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".generating.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may have written them meanwhile
            missing = _missing(folder, wanted)
            generated = not meta_path.exists() or any(missing.values())
            if generated:
                _generate(bindings, folder, missing, write_meta=not meta_path.exists())
    meta = json.loads(meta_path.read_text())
    found: dict[str, dict[str, Any]] = {"resource": {}, "data": {}}
    for kind, names in wanted.items():
        for type_name in names:
            entry = json.loads((folder / kind / f"{type_name}.json").read_text())
            if entry.get("absent"):
                continue
            found[kind][type_name] = entry["block"]
    return ProviderSchemas(
        name=bindings.name,
        provider_version=meta["provider_version"],
        bindings_version=bindings.version,
        provider=meta["provider"],
        resources=found["resource"],
        data_sources=found["data"],
        generated=generated,
        seconds=time.perf_counter() - started,
    )


def _generate(bindings: Bindings, folder: Path, missing: dict[str, list[str]], write_meta: bool) -> None:
    with tarfile.open(bindings.assembly, "r|gz") as archive:
        first = archive.next()
        if first is None or first.name != "package/.jsii":
            raise SchemaError(f"{bindings.assembly} does not start with package/.jsii")
        handle = archive.extractfile(first)
        assert handle is not None
        types = json.load(handle)["types"]
        index = index_types(types)
        classes: dict[tuple[str, str], str] = {}
        for kind, names in missing.items():
            table = index.resources if kind == "resource" else index.data_sources
            for type_name in names:
                if type_name in table:
                    classes[(kind, type_name)] = table[type_name]
        # The same pass derives the types of the submodules the project imports, and the
        # types the stand-ins' facts describe.
        imported = project_submodules(bindings.name)
        described = facts.described_types().get(bindings.name, set())
        for kind, table in (("resource", index.resources), ("data", index.data_sources)):
            for type_name, fqn in table.items():
                prefetch = camel_to_snake(types[fqn].get("namespace", "")) in imported or (kind == "resource" and type_name in described)
                if prefetch and not (folder / kind / f"{type_name}.json").exists():
                    classes[(kind, type_name)] = fqn
        wanted_modules = {js_module_path(types[fqn]) for fqn in classes.values()} | {js_module_path(types[index.provider_class])}
        modules: dict[str, JsModule] = {}
        for member in archive:
            if member.name in wanted_modules:
                source = archive.extractfile(member)
                assert source is not None
                modules[member.name] = parse_js(source.read().decode())
                if len(modules) == len(wanted_modules):
                    break
    lost = wanted_modules - set(modules)
    if lost:
        raise SchemaError(f"{bindings.assembly} lacks {sorted(lost)}")
    derive = Deriver(types, modules)
    for (kind, type_name), fqn in classes.items():
        _write_json(folder / kind / f"{type_name}.json", {"block": derive.resource(fqn)})
    for kind, names in missing.items():
        for type_name in names:
            if (kind, type_name) not in classes:
                _write_json(folder / kind / f"{type_name}.json", {"absent": True})
    if write_meta:
        _write_json(
            folder / "provider.json",
            {"provider_version": index.provider_version, "provider": derive.resource(index.provider_class, provider=True)},
        )
