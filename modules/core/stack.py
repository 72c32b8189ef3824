"""The stack base class: readable, stable Terraform addresses."""

from __future__ import annotations

import re

from cdktf import TerraformOutput, TerraformStack, TerraformVariable
from constructs import Construct, Node

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def logical_id(path_parts: list[str]) -> str:
    """The name of a construct path: its parts joined by ``_``, without the parts that
    repeat the word before them (``security_group/group`` is ``security_group``,
    ``execution_role/role/policy`` is ``execution_role_policy``)."""
    kept: list[str] = []
    for part in path_parts:
        if kept and (part == kept[-1] or kept[-1].endswith(f"_{part}")):
            continue
        kept.append(part)
    return _NOT_IDENTIFIER.sub("_", "_".join(kept))


class ReadableStack(TerraformStack):
    """A stack whose resources get addresses from their construct path.

    cdktf's default appends a hash (``aws_subnet.network_intra_6D9D3FFD``); HCL teams read,
    import and ``state mv`` these addresses, so they are the path instead
    (``aws_subnet.network_intra``). Outputs and variables keep their bare id: their names
    are an interface.
    """

    def __init__(self, scope: Construct, stack_id: str, *, unprefixed: str | None = None):
        """``unprefixed``: a top-level construct whose name is left out of the addresses
        below it (a module's main construct: ``module.hyperpod`` says it already)."""
        super().__init__(scope, stack_id)
        self._allocated: dict[str, str] = {}
        self._unprefixed = unprefixed

    def _allocate_logical_id(self, tf_element) -> str:  # jsii protected override
        node: Node = tf_element if isinstance(tf_element, Node) else tf_element.node
        element = node.scope if isinstance(tf_element, Node) else tf_element
        path = node.path  # read once: each read is a call into the jsii runtime
        parts = path.split("/")[1:]
        if len(parts) > 1 and parts[0] == self._unprefixed:
            parts = parts[1:]
        named_alone = isinstance(element, (TerraformOutput, TerraformVariable))
        name = logical_id(parts[-1:] if named_alone else parts)
        # Outputs and variables have their own namespaces in Terraform.
        kind = type(element).__name__ if named_alone else ""
        owner = self._allocated.setdefault(f"{kind}:{name}", path)
        if owner != path:
            raise ValueError(f"{path} and {owner} would share the Terraform name {name}")
        return name
