"""Which keys of a resource, data source or provider are nested blocks, read from the
provider schemas the offline stand-ins serve (generated from the pinned bindings).

JSON cannot tell a nested block (``default_tags { ... }``) from an attribute holding an
object or a list of objects (``tags = {...}``); the schema can, nested attributes of the
helm provider 3 included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from tooling.offline.bindings import bindings_for
from tooling.offline.jsii_schema import schemas_for
from tooling.offline.schema import served_schema
from tooling.offline.usage import scan

BlockPaths = dict[tuple[str, str], frozenset[tuple[str, ...]]]
"""(section, type) -> the key paths inside it that are nested blocks; section is
``resource``, ``data`` or ``provider``."""


def block_paths(folder: Path) -> BlockPaths:
    """For every type the configuration in ``folder`` (and the local modules it calls) uses."""
    usage = scan(folder)
    paths: BlockPaths = {}
    for provider in usage.sources():
        resources, data_sources = usage.types_of(provider)
        schema = served_schema(schemas_for(bindings_for(provider), resources, data_sources))
        paths[("provider", provider)] = frozenset(_blocks(schema["provider"], ()))
        for section, kind in (("resource", "resources"), ("data", "data_sources")):
            for type_name, block in schema[kind].items():
                paths[(section, type_name)] = frozenset(_blocks(block, ()))
    return paths


def _blocks(block: dict[str, Any], prefix: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    for name, nested in (block.get("blocks") or {}).items():
        path = (*prefix, name)
        yield path
        yield from _blocks(nested.get("block", {}), path)
