"""The HyperPod cluster, created through Cloud Control (the AWS provider has no resource for it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from cdktf import Fn, ITerraformDependable, TerraformResourceLifecycle, Token
from cdktf import Precondition as TerraformPrecondition
from cdktf_cdktf_provider_aws.cloudcontrolapi_resource import CloudcontrolapiResource
from constructs import Construct

from . import cluster_rules
from .desired_state import ClusterSpec

TYPE_NAME = "AWS::SageMaker::Cluster"
# CloudFormation's own handler timeouts for this type: large clusters with deep health
# checks take hours to create, update or drain.
TIMEOUTS = {"create": "12h", "update": "12h", "delete": "12h"}


class InvalidDesiredState(ValueError):
    pass


@dataclass(frozen=True)
class Precondition:
    """Checked by ``terraform plan`` before the cluster is created or changed."""

    condition: Any
    """A Terraform boolean expression."""
    error_message: str

    def render(self) -> TerraformPrecondition:
        return TerraformPrecondition(condition=self.condition, error_message=self.error_message)


class HyperPodCluster(Construct):
    """The cluster whose desired state is ``spec`` rendered, checked against the schema's
    rules, with the fields named in ``inputs`` read from Terraform variables instead: the
    rendering of the configuration that is checked and the expressions that are deployed
    come from the same definitions (see instance_group_fields)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: ClusterSpec,
        inputs: dict[str, Any],
        depends_on: Sequence[ITerraformDependable],
        preconditions: Sequence[Precondition] = (),
    ):
        super().__init__(scope, construct_id)
        desired_state = spec.render()
        found = cluster_rules.problems(desired_state, unresolved=_is_unresolved)
        if found:
            raise InvalidDesiredState(f"{TYPE_NAME} would reject the desired state: " + "; ".join(found))
        self.desired_state = desired_state
        unknown = sorted(set(inputs) - set(desired_state))
        if unknown:
            raise InvalidDesiredState(f"inputs for fields the desired state does not have: {unknown}")
        self.resource = CloudcontrolapiResource(
            self,
            "cluster",
            type_name=TYPE_NAME,
            desired_state=Fn.jsonencode({**desired_state, **inputs}),
            timeouts=TIMEOUTS,
            depends_on=list(depends_on),
            lifecycle=(
                TerraformResourceLifecycle(precondition=[p.render() for p in preconditions]) if preconditions else None
            ),
        )

    def reported(self, name: str) -> str:
        """A field of the cluster as Cloud Control reports it (``ClusterArn``, ``ClusterStatus``...)."""
        return Token.as_string(Fn.lookup_nested(Fn.jsondecode(self.resource.properties), [name]))

    @property
    def arn(self) -> str:
        return self.reported("ClusterArn")


def _is_unresolved(value: Any) -> bool:
    """Terraform references (a list reference is a one-item list of them) are known at apply."""
    return isinstance(value, str) and Token.is_unresolved(value)
