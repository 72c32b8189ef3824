"""References into resources created with ``count``, which cdktf has no typed accessor for
(its attribute getters leave out the instance key Terraform then needs)."""

from __future__ import annotations

import jsii
from cdktf import IResolvable, IResolveContext, TerraformDataSource, TerraformResource, TerraformVariable, Token


@jsii.implements(IResolvable)
class Expression:
    """A Terraform expression given as text that cdktf places like its own references:
    ``${...}`` where it stands alone, bare inside a function call or another expression."""

    def __init__(self, text: str):
        self.text = text

    @property
    def creation_stack(self) -> list[str]:
        return []

    def resolve(self, context: IResolveContext) -> str:
        return self.text if context.suppress_braces else f"${{{self.text}}}"

    def to_string(self) -> str:
        return f"${{{self.text}}}"


def address(element: TerraformResource | TerraformDataSource) -> str:
    """The Terraform address (``aws_subnet.network_private``, ``data.aws_partition.x``)."""
    prefix = "data." if isinstance(element, TerraformDataSource) else ""
    return f"{prefix}{element.terraform_resource_type}.{element.friendly_unique_id}"


def splat(element: TerraformResource | TerraformDataSource, attribute: str) -> list[str]:
    """``<address>[*].<attribute>`` of a resource created with ``count``, as a list token."""
    return Token.as_list(Expression(f"{address(element)}[*].{attribute}"))


def first(element: TerraformResource | TerraformDataSource, attribute: str) -> str:
    """``one(<address>[*].<attribute>)``: the attribute of a resource that ``count`` makes
    zero or one of; null when there is none."""
    return Token.as_string(Expression(f"one({address(element)}[*].{attribute})"))


def wait_for(element: TerraformResource | TerraformDataSource, *dependencies: object) -> None:
    """``depends_on`` from resources, data sources, module calls (their addresses) and
    references such as ``var.cluster_ready`` (a list a module's caller fills with what the
    module must wait for). Replaces any ``depends_on`` set before."""
    addresses: list[str] = []
    for dependency in dependencies:
        if isinstance(dependency, str):
            addresses.append(dependency)
        elif isinstance(dependency, (TerraformResource, TerraformDataSource)):
            addresses.append(address(dependency))
        else:
            addresses.append(f"module.{dependency.friendly_unique_id}")  # a module call
    element.add_override("depends_on", addresses)


def variable_reference(variable: TerraformVariable) -> str:
    """``var.<name>``, for expressions written as text (a count condition)."""
    return f"var.{variable.friendly_unique_id}"


def count_text(condition: str) -> str:
    """``${<condition> ? 1 : 0}``: the ``count`` that makes one of a resource (or of a
    module call) while a Terraform condition holds, and none otherwise."""
    return f"${{{condition} ? 1 : 0}}"


def count_when(condition: str) -> float:
    """``count_text`` as the number token a resource's ``count`` takes."""
    return Token.as_number(count_text(condition))
