"""Which keys of a resource, data source or provider are nested blocks, read from the
provider schemas the offline stand-ins serve (generated from the pinned bindings).

JSON cannot tell a nested block (``default_tags { ... }``) from an attribute holding an
object or a list of objects (``tags = {...}``); the schema can, nested attributes of the
helm provider 3 included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from tooling.offline import served_schemas

BlockPaths = dict[tuple[str, str], frozenset[tuple[str, ...]]]
"""(section, type) -> the key paths inside it that are nested blocks; section is
``resource``, ``data`` or ``provider``."""


def block_paths(folder: Path) -> BlockPaths:
    """For every type the configuration in ``folder`` (and the local modules it calls) uses."""
    paths: BlockPaths = {}
    for provider, schema in served_schemas(folder).items():
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
