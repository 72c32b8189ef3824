"""The stack base class: readable, stable Terraform addresses."""

from __future__ import annotations

import re

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct, Node

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


class ReadableStack(TerraformStack):
    """A stack whose resources get addresses from their construct path.

    cdktf's default appends a hash (``aws_subnet.network_intra_6D9D3FFD``); HCL teams read,
    import and ``state mv`` these addresses, so they are the path instead
    (``aws_subnet.network_intra``). Outputs keep their bare id: their names are an interface.
    """

    def __init__(self, scope: Construct, stack_id: str):
        super().__init__(scope, stack_id)
        self._allocated: dict[str, str] = {}

    def _allocate_logical_id(self, tf_element) -> str:  # jsii protected override
        node: Node = tf_element if isinstance(tf_element, Node) else tf_element.node
        element = node.scope if isinstance(tf_element, Node) else tf_element
        parts = node.path.split("/")[1:]
        if isinstance(element, TerraformOutput):
            parts = parts[-1:]
        # A construct that wraps one main resource names it like itself: "role/role" is "role".
        parts = [part for i, part in enumerate(parts) if i == 0 or part != parts[i - 1]]
        logical_id = _NOT_IDENTIFIER.sub("_", "_".join(parts))
        owner = self._allocated.setdefault(logical_id, node.path)
        if owner != node.path:
            raise ValueError(f"{node.path} and {owner} would share the Terraform name {logical_id}")
        return logical_id
