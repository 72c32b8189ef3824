"""The synthesized stack and the modules it calls under the real ``terraform`` with the
offline stand-in providers: the generated schemas cover what the stack writes, and the
default stack inits, validates and plans."""

from __future__ import annotations

from typing import Any

import pytest

from tooling.offline import terraform_binary
from tooling.offline.bindings import bindings_for
from tooling.offline.jsii_schema import schemas_for
from tooling.offline.schema import served_schema

needs_terraform = pytest.mark.skipif(terraform_binary() is None, reason="terraform is not on PATH")

# Keys of a resource, data or provider body that are Terraform's, not the provider's.
META = {"//", "count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection", "alias"}


def _documents(synth, everything_on) -> dict[str, dict[str, Any]]:
    documents = {}
    for label, overrides in (("default", {}), ("everything on", everything_on)):
        for name, document in synth(overrides).all_documents().items():
            documents[f"{label} {name or 'root'}"] = document
    return documents


def _missing(block: dict[str, Any], body: Any, where: str) -> list[str]:
    """Keys of ``body`` (a JSON block body) that ``block`` (a served schema) lacks."""
    out: list[str] = []
    for item in body if isinstance(body, list) else [body]:
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if key in META:
                continue
            attribute = block.get("attributes", {}).get(key)
            nested = block.get("blocks", {}).get(key)
            if attribute is not None:
                if "nested" in attribute and isinstance(value, (dict, list)):
                    out.extend(_missing(attribute["nested"], value, f"{where}.{key}"))
            elif nested is not None:
                out.extend(_missing(nested["block"], value, f"{where}.{key}"))
            else:
                out.append(f"{where}.{key}")
    return out


def test_generated_schemas_cover_everything_the_stack_and_modules_write(synth, everything_on):
    documents = _documents(synth, everything_on)
    wanted: dict[str, tuple[set[str], set[str]]] = {}
    for document in documents.values():
        for section, index in (("resource", 0), ("data", 1)):
            for type_name in document.get(section, {}):
                wanted.setdefault(type_name.split("_", 1)[0], (set(), set()))[index].add(type_name)
        for provider in document.get("provider", {}):
            wanted.setdefault(provider, (set(), set()))
    served = {name: served_schema(schemas_for(bindings_for(name), *types)) for name, types in wanted.items()}
    checked, missing = 0, []
    for label, document in documents.items():
        for section, table in (("resource", "resources"), ("data", "data_sources")):
            for type_name, bodies in document.get(section, {}).items():
                schema = served[type_name.split("_", 1)[0]][table].get(type_name)
                if schema is None:
                    missing.append(f"{label}: {section} type {type_name}")
                    continue
                for name, body in bodies.items():
                    checked += 1
                    missing.extend(f"{label}: {m}" for m in _missing(schema, body, f"{section}.{type_name}.{name}"))
        for provider, bodies in document.get("provider", {}).items():
            missing.extend(f"{label}: {m}" for m in _missing(served[provider]["provider"], bodies, f"provider.{provider}"))
    assert checked > 150
    assert not missing, "\n".join(missing)


@needs_terraform
def test_default_stack_inits_validates_and_plans_about_140_resources(workspace, plan):
    validated = workspace({}, 3, "plan").validate()
    plan = plan({})  # the session's plan of the default configuration
    assert "The configuration is valid" in validated.stdout
    assert 120 <= plan.counts["add"] <= 160 and plan.counts["change"] == plan.counts["destroy"] == 0
    assert plan.after("aws_vpc.network_vpc")["region"] == "us-west-2"
