"""IAM policy documents built from typed statements and rendered with ``jsonencode``.

Rendering through Terraform's ``jsonencode`` keeps references (ARNs of resources created
in the same apply) intact, where ``json.dumps`` would freeze them as token strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jsii
from cdktf import Fn, IFragmentConcatenator, Token, Tokenization
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    effect: str = "Allow"
    principals: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "*" in self.actions:
            raise ValueError(f"statement {self.sid}: Action '*' is never granted; list the actions")

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {"Sid": self.sid, "Effect": self.effect}
        if self.principals:
            body["Principal"] = self.principals
        body["Action"] = list(self.actions)
        if self.resources:
            body["Resource"] = list(self.resources)
        if self.conditions:
            body["Condition"] = {operator: _condition_map(keys) for operator, keys in self.conditions.items()}
        return body


def _condition_map(keys: dict[str, Any]) -> Any:
    """A condition operator's map. A key that holds a Terraform reference (a tag key with
    the cluster's name in it) cannot be an object key cdktf writes, so those entries are
    built by Terraform's ``zipmap`` and merged with the literal ones."""
    unresolved = {key: Token.is_unresolved(key) for key in keys}  # one jsii call a key
    literal = {key: value for key, value in keys.items() if not unresolved[key]}
    dynamic = {key: value for key, value in keys.items() if unresolved[key]}
    if not dynamic:
        return keys
    built = Fn.zipmap([_joined(key) for key in dynamic], list(dynamic.values()))
    return Fn.merge([literal, built]) if literal else built


@jsii.implements(IFragmentConcatenator)
class _Fragments:
    """Collects a string's literal and reference parts in order."""

    def join(self, left: Any, right: Any) -> Any:
        return [*(left if isinstance(left, list) else [left]), right]


def _joined(text: str) -> str:
    """A string with references as ``join("", ["literal", reference, ...])``: cdktf
    writes a string holding a reference as a template, which it cannot nest in a call."""
    parts = Tokenization.reverse_string(text).join(_Fragments())
    parts = parts if isinstance(parts, list) else [parts]
    return Fn.join("", [part if isinstance(part, str) else Token.as_string(part) for part in parts])


def policy_document(*statements: Statement) -> str:
    return Fn.jsonencode({"Version": "2012-10-17", "Statement": [s.render() for s in statements]})


def service_trust(
    service_principal: str,
    sid: str = "ServiceAssumesRole",
    tag_session: bool = False,
    conditions: dict[str, dict[str, Any]] | None = None,
) -> str:
    """``conditions`` narrow who may assume it (``aws:SourceAccount``, ``aws:SourceArn``)."""
    actions = ("sts:AssumeRole", "sts:TagSession") if tag_session else ("sts:AssumeRole",)
    return policy_document(
        Statement(sid, actions, principals={"Service": service_principal}, conditions=conditions or {})
    )


class ServiceRole(Construct):
    """An IAM role trusted by one AWS service, with managed and inline policies attached."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        trust_policy: str,
        managed_policy_arns: dict[str, str] | None = None,
        inline_policies: dict[str, str] | None = None,
    ):
        super().__init__(scope, construct_id)
        self.role = IamRole(
            self,
            "role",
            name=name,
            description=description,
            assume_role_policy=trust_policy,
            force_detach_policies=True,
        )
        self.attachments = [
            IamRolePolicyAttachment(self, f"attach_{key}", role=self.role.name, policy_arn=arn)
            for key, arn in sorted((managed_policy_arns or {}).items())
        ]
        self.inline_policies = [
            IamRolePolicy(self, f"policy_{key}", name=key, role=self.role.id, policy=document)
            for key, document in sorted((inline_policies or {}).items())
        ]

    @property
    def arn(self) -> str:
        return self.role.arn

    @property
    def name(self) -> str:
        return self.role.name

    @property
    def grants(self) -> list[Construct]:
        """Everything that gives the role its permissions: depend on these, not on the role alone."""
        return [*self.attachments, *self.inline_policies]
