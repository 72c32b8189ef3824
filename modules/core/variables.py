"""Terraform variables declared from configuration fields (``modules.config.terraform``).

A variable that stands for a setting takes everything from the setting's field: its type,
description and validations; its default is the configured value, so the YAML gives the
defaults and a ``terraform.tfvars`` overrides them.
"""

from __future__ import annotations

from typing import Any, Sequence

import jsii
from cdktf import IAnyProducer, IResolveContext, Lazy, TerraformVariable, TerraformVariableValidationConfig
from constructs import Construct
from pydantic import BaseModel

from modules.config.terraform import TerraformRule, terraform_type, validations


@jsii.implements(IAnyProducer)
class _Literal:
    def __init__(self, value: Any):
        self._value = value

    def produce(self, context: IResolveContext) -> Any:
        return self._value


def literal(value: Any) -> Any:
    """A value handed to Terraform as it is: cdktf rewrites the keys of maps it is given
    directly as variable defaults or module inputs (``example.com/pool`` would become
    ``example_com_pool``, ``CostCenter`` ``cost_center``)."""
    return Lazy.any_value(_Literal(value))


def setting_variable(
    scope: Construct,
    name: str,
    model: type[BaseModel],
    field: str,
    default: Any = ...,
    *,
    yaml_key: str,
    validate: bool = True,
    rules: Sequence[TerraformRule] = (),
) -> TerraformVariable:
    """``var.<name>`` for ``model.<field>``, the setting ``yaml_key`` of the YAML
    configuration; ``default`` is the configured value (plain data, as
    ``model_dump(mode="json")`` gives it), none makes the variable required."""
    info = model.model_fields[field]
    checks = validations(name, info, name, rules) if validate else []
    return TerraformVariable(
        scope,
        name,
        type=terraform_type(info.annotation),
        description=f"{(info.description or '').rstrip('.')}. YAML: {yaml_key}.".lstrip(". "),
        nullable=False,
        **({} if default is ... else {"default": literal(default)}),
        validation=[TerraformVariableValidationConfig(condition=f"${{{c.condition}}}", error_message=c.error_message) for c in checks]
        or None,
    )


def plain_variable(scope: Construct, name: str, type_: str, description: str, default: Any = ...) -> TerraformVariable:
    """A variable that is wiring, not a setting (a cluster name, subnet IDs...)."""
    extra = {} if default is ... else {"default": literal(default)}
    return TerraformVariable(scope, name, type=type_, description=description, nullable=False, **extra)
