"""The stack base class: readable, stable Terraform addresses; subsystems that a Terraform
variable switches on and off; expressions cdktf cannot write itself."""

from __future__ import annotations

import re
from typing import Any

from cdktf import TerraformDataSource, TerraformOutput, TerraformResource, TerraformStack, TerraformVariable
from constructs import Construct, IConstruct, Node

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")
RAW_MARKER = "hcl-expression-{:04d}"


class ReadableStack(TerraformStack):
    """A stack whose resources get addresses from their construct path.

    cdktf's default appends a hash (``aws_subnet.network_intra_6D9D3FFD``); HCL teams read,
    import and ``state mv`` these addresses, so they are the path instead
    (``aws_subnet.network_intra``). Outputs and variables keep their bare id: their names
    are an interface.
    """

    def __init__(self, scope: Construct, stack_id: str):
        super().__init__(scope, stack_id)
        self._allocated: dict[str, str] = {}
        self._conditional: dict[str, tuple[IConstruct, str]] = {}
        self._raw: list[str] = []
        self._verbatim: list[tuple[tuple[str, ...], Any]] = []

    def _allocate_logical_id(self, tf_element) -> str:  # jsii protected override
        node: Node = tf_element if isinstance(tf_element, Node) else tf_element.node
        element = node.scope if isinstance(tf_element, Node) else tf_element
        parts = node.path.split("/")[1:]
        if isinstance(element, (TerraformOutput, TerraformVariable)):
            parts = parts[-1:]
        # A construct that wraps one main resource names it like itself: "role/role" is "role".
        parts = [part for i, part in enumerate(parts) if i == 0 or part != parts[i - 1]]
        logical_id = _NOT_IDENTIFIER.sub("_", "_".join(parts))
        # Outputs and variables have their own namespaces in Terraform.
        kind = type(element).__name__ if isinstance(element, (TerraformOutput, TerraformVariable)) else ""
        owner = self._allocated.setdefault(f"{kind}:{logical_id}", node.path)
        if owner != node.path:
            raise ValueError(f"{node.path} and {owner} would share the Terraform name {logical_id}")
        return logical_id

    def address_of(self, element: TerraformResource | TerraformDataSource) -> str:
        """The Terraform address (``aws_iam_role.x``, ``data.aws_y.z``) as text."""
        address = f"{element.terraform_resource_type}.{self.get_logical_id(element)}"
        return f"data.{address}" if isinstance(element, TerraformDataSource) else address

    def only_when(self, construct: IConstruct, condition: str) -> None:
        """Every resource and data source below ``construct`` exists only when the Terraform
        boolean ``condition`` holds: each gets ``count = condition ? 1 : 0`` and every
        reference to one reads its first instance. A construct inside another that is
        conditional gives the whole condition (both must hold)."""
        self._conditional[construct.node.path] = (construct, condition)

    def raw_expression(self, expression: str) -> str:
        """A placeholder string that becomes the Terraform expression ``expression`` where it
        is written: a whole attribute value, or a string inside a ``jsonencode``. cdktf
        escapes ``${`` in strings it writes, so a ``for`` expression cannot go through it."""
        self._raw.append(expression)
        return RAW_MARKER.format(len(self._raw) - 1)

    def write_verbatim(self, path: tuple[str, ...], value: Any) -> None:
        """Write ``value`` at ``path`` of the document as it is: cdktf rewrites the keys of
        maps it is given (``example.com/pool`` becomes ``example_com_pool``) and drops nulls."""
        self._verbatim.append((path, value))

    def to_terraform(self) -> Any:  # jsii override: post-processes the synthesized document
        document = super().to_terraform()
        for path, value in self._verbatim:
            parent = document
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = value
        for index, expression in enumerate(self._raw):
            document = _replace_marker(document, RAW_MARKER.format(index), expression)
        conditions = self._conditional_addresses()
        if conditions:
            document = _apply_conditions(document, conditions)
        return document

    def _conditional_addresses(self) -> dict[str, str]:
        conditions: dict[str, str] = {}
        # Outer constructs first, so an inner construct's condition replaces its parent's.
        for path in sorted(self._conditional, key=lambda p: p.count("/")):
            construct, condition = self._conditional[path]
            for element in construct.node.find_all():
                if isinstance(element, (TerraformResource, TerraformDataSource)):
                    conditions[self.address_of(element)] = condition
        return conditions


def _map_strings(value: Any, change, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _map_strings(v, change, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, change, key) for v in value]
    if isinstance(value, str):
        return change(value, key)
    return value


def _replace_marker(document: Any, marker: str, expression: str) -> Any:
    def change(text: str, _key: str | None) -> str:
        if text == marker:
            return "${" + expression + "}"
        return text.replace(f'"{marker}"', expression)

    return _map_strings(document, change)


def _apply_conditions(document: dict, conditions: dict[str, str]) -> dict:
    patterns = {
        address: re.compile(r"(?<![\w.])" + re.escape(address) + r"(?![\w\[-])") for address in conditions
    }

    def first_instance(text: str, key: str | None) -> str:
        if key == "depends_on" or "${" not in text:
            return text  # depends_on names the whole resource, whatever its count
        for address, pattern in patterns.items():
            text = pattern.sub(address + "[0]", text)
        return text

    document = _map_strings(document, first_instance)
    for section, prefix in (("resource", ""), ("data", "data.")):
        for resource_type, blocks in document.get(section, {}).items():
            for name, block in blocks.items():
                condition = conditions.get(f"{prefix}{resource_type}.{name}")
                if condition is not None:
                    block["count"] = f"${{{condition} ? 1 : 0}}"
    # An output of a resource that is not there is null rather than an error.
    for output in document.get("output", {}).values():
        value = output.get("value")
        reads_counted = isinstance(value, str) and any(f"{address}[0]" in value for address in conditions)
        if reads_counted and value.startswith("${") and value.endswith("}"):
            output["value"] = f"${{try({value[2:-1]}, null)}}"
    return document
