"""The HyperPod cluster, created through Cloud Control (the AWS provider has no resource for it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from cdktf import Fn, ITerraformDependable, TerraformResourceLifecycle, Token
from cdktf import Precondition as TerraformPrecondition
from cdktf_cdktf_provider_aws.cloudcontrolapi_resource import CloudcontrolapiResource
from constructs import Construct

from modules.config.cfn import TYPE_NAME

# CloudFormation's own handler timeouts for this type: large clusters with deep health
# checks take hours to create, update or drain.
TIMEOUTS = {"create": "12h", "update": "12h", "delete": "12h"}


@dataclass(frozen=True)
class Precondition:
    """Checked by ``terraform plan`` before the cluster is created or changed."""

    condition: Any
    """A Terraform boolean expression."""
    error_message: str

    def render(self) -> TerraformPrecondition:
        return TerraformPrecondition(condition=self.condition, error_message=self.error_message)


class HyperPodCluster(Construct):
    """The cluster whose desired state is ``desired_state`` (values and Terraform
    references), JSON-encoded by Terraform so references resolve at apply time."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        desired_state: dict[str, Any],
        depends_on: Sequence[ITerraformDependable],
        preconditions: Sequence[Precondition] = (),
    ):
        super().__init__(scope, construct_id)
        self.resource = CloudcontrolapiResource(
            self,
            "cluster",
            type_name=TYPE_NAME,
            desired_state=Fn.jsonencode(desired_state),
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
        """The cluster's ARN: Cloud Control's identifier of this type (its primary
        identifier is ``ClusterArn``). Unlike ``properties``, which an in-place update
        makes unknown until it completes, the identifier stays known, so a policy naming
        the cluster does not show an update with every change of an instance group."""
        return self.resource.id
