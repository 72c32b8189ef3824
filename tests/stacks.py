"""Views of a synthesized configuration for the tests: the documents as written
(``Synthesized``) and what Terraform itself makes of them with the offline stand-ins
(``Deployed``: the state after ``terraform apply``; ``planned``: a saved plan's values).

Nothing here evaluates a Terraform expression: deployed values come from the real
``terraform`` binary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STACK_AT = "cdktf.out/stacks"


@dataclass(frozen=True)
class Synthesized:
    """What synth wrote: the root module and the modules it calls."""

    folder: Path
    root: dict[str, Any]
    modules: dict[str, dict[str, Any]]

    @staticmethod
    def read(folder: Path) -> "Synthesized":
        modules = {p.parent.name: json.loads(p.read_text()) for p in sorted(folder.glob("modules/*/main.tf.json"))}
        return Synthesized(folder, json.loads((folder / "cdk.tf.json").read_text()), modules)

    def document(self, module: str | None = None) -> dict[str, Any]:
        return self.root if module is None else self.modules[module]

    def blocks(self, resource_type: str, module: str | None = None, *, data: bool = False) -> dict[str, dict[str, Any]]:
        return self.document(module).get("data" if data else "resource", {}).get(resource_type, {})

    def block(self, resource_type: str, name: str, module: str | None = None, *, data: bool = False) -> dict[str, Any]:
        blocks = self.blocks(resource_type, module, data=data)
        if name not in blocks:
            raise AssertionError(f"no {resource_type}.{name} in {module or 'the root module'}; have {sorted(blocks)}")
        return blocks[name]

    def all_documents(self) -> dict[str, dict[str, Any]]:
        """``""`` for the root module, else the module's name."""
        return {"": self.root, **self.modules}


@dataclass
class Deployed:
    """Address -> attribute values of what Terraform applied (or plans), and the outputs."""

    values: dict[str, dict[str, Any]]
    outputs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # the state file, when applied

    def of_type(self, resource_type: str, module: str | None = None) -> dict[str, dict[str, Any]]:
        """Managed resources of a type (data sources: ``data.<type>``), in the root module
        or, with ``module``, in that module."""
        found = {}
        for address, values in self.values.items():
            where, local = split_address(address)
            if local.split(".")[0] == resource_type or (resource_type.startswith("data.") and local.startswith(resource_type + ".")):
                if module is None or where.startswith(f"module.{module}"):
                    found[address] = values
        return found

    def find(self, resource_type: str, name: str, module: str | None = None) -> dict[str, Any]:
        """The one instance of ``<type>.<name>`` (any count index) in the root module or,
        with ``module``, in that module."""
        matches = {}
        for address, values in self.values.items():
            where, local = split_address(address)
            in_scope = where == "" if module is None else where.startswith(f"module.{module}")
            if in_scope and local.split("[")[0] == f"{resource_type}.{name}":
                matches[address] = values
        if len(matches) != 1:
            have = sorted(a for a in self.values if f"{resource_type}." in a)
            raise AssertionError(f"{len(matches)} instances of {resource_type}.{name} (module {module}); have {have}")
        return next(iter(matches.values()))

    def json_of(self, resource_type: str, name: str, attribute: str, module: str | None = None) -> Any:
        """An attribute that holds JSON (a policy document, a desired state), decoded."""
        return json.loads(self.find(resource_type, name, module)[attribute])

    def addresses(self) -> list[str]:
        return sorted(self.values)

    @staticmethod
    def from_plan(plan: Any) -> "Deployed":
        """What a saved plan says it will deploy (values unknown until apply left out)."""
        outputs = {name: change.get("after") for name, change in plan.json.get("output_changes", {}).items()}
        return Deployed(planned_values(plan.json), outputs)


def split_address(address: str) -> tuple[str, str]:
    """``module.hyperpod[0].aws_iam_role.x`` -> (``module.hyperpod[0]``, ``aws_iam_role.x``)."""
    parts = address.split(".")
    where: list[str] = []
    while parts and parts[0] == "module":
        where.extend(parts[:2])
        parts = parts[2:]
    return ".".join(where), ".".join(parts)


def planned_values(plan_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Address -> planned values (unknown ones left out) of a ``terraform show -json`` plan."""
    found: dict[str, dict[str, Any]] = {}

    def walk(module: dict[str, Any]) -> None:
        for resource in module.get("resources", []):
            found[resource["address"]] = resource.get("values", {})
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan_json.get("planned_values", {}).get("root_module", {}))
    return found
