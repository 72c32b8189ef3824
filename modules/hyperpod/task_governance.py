"""HyperPod task governance policies through Cloud Control, as the cluster is: the cluster
policy (``AWS::SageMaker::ClusterSchedulerConfig``) and a compute allocation per team
(``AWS::SageMaker::ComputeQuota``, one resource for each team, named after it).

Each desired state is rendered from the ``Cfn`` marks of its configuration model
(``modules/config/hyperpod_task_governance.py``) over a local holding the configured values;
Terraform evaluates it. A precondition refuses, at plan, a region whose CloudFormation
registry lacks the type (the region is a variable of the root module), with the message
synth gives for the same problem.
"""

from __future__ import annotations

import json
from typing import Sequence

from cdktf import ITerraformDependable, TerraformLocal
from cdktf_cdktf_provider_aws.cloudcontrolapi_resource import CloudcontrolapiResource
from constructs import Construct

from modules.config.cfn import COMPUTE_QUOTA, SCHEDULER_CONFIG, ResourceSchema, regions_source, regions_with
from modules.config.hyperpod_task_governance import (
    TYPE_NOT_IN_REGION,
    ComputeQuotaConfig,
    SchedulerPolicyConfig,
    TaskGovernanceConfig,
)
from modules.config.terraform import hcl_string

from .cluster import Precondition
from .desired_state import Entry, entries, render

# Names are at most 63 characters (both schemas); an unnamed policy is named after the platform.
MAX_NAME = 63
POLICY_SUFFIX = "-policy"


class TaskGovernance(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: TaskGovernanceConfig,
        cluster_arn: str,
        name_reference: str,
        tags: str,
        region: str,
        waits_for: Sequence[ITerraformDependable],
    ):
        """``cluster_arn``, ``name_reference`` (``var.name``) and ``tags`` (a list of
        ``{Key, Value}``) are HCL expressions; ``region`` the region's token; ``waits_for``:
        the task governance add-on, whose Kueue CRDs SageMaker writes each policy into."""
        super().__init__(scope, construct_id)
        # The quotas keyed by team: each is its own resource, addressed by its team, so
        # reordering the list changes nothing.
        data = config.model_dump(mode="json")
        data["compute_quotas"] = {quota["team"]: quota for quota in data["compute_quotas"]}
        dump = json.dumps(data, sort_keys=True)
        settings = TerraformLocal(self, "settings", f"${{jsondecode({hcl_string(dump)})}}")
        values = f"local.{settings.friendly_unique_id}"
        shared = [Entry(("ClusterArn",), cluster_arn), Entry(("Tags",), tags)]
        self.scheduler: CloudcontrolapiResource | None = None
        self.compute_quotas: dict[str, CloudcontrolapiResource] = {}
        if config.scheduler is not None:
            policy = f"{values}.scheduler"
            name = f'{policy}.name != null ? {policy}.name : "${{{_cut(name_reference, POLICY_SUFFIX)}}}{POLICY_SUFFIX}"'
            self.scheduler = self._resource(
                "scheduler_policy",
                SCHEDULER_CONFIG,
                _desired(SchedulerPolicyConfig, policy, name, shared),
                region,
                waits_for,
            )
        for quota in config.compute_quotas:
            item = f'{values}.compute_quotas["{quota.team}"]'
            team = f"{item}.team"
            name = f'{item}.name != null ? {item}.name : "${{{_cut(name_reference, "-", team)}}}-${{{team}}}"'
            self.compute_quotas[quota.team] = self._resource(
                f"compute_quota_{quota.team}",
                COMPUTE_QUOTA,
                _desired(ComputeQuotaConfig, item, name, shared),
                region,
                waits_for,
            )

    def _resource(
        self,
        construct_id: str,
        resource_type: ResourceSchema,
        desired_state: str,
        region: str,
        waits_for: Sequence[ITerraformDependable],
    ) -> CloudcontrolapiResource:
        regions = regions_with(resource_type.type_name)
        in_region = Precondition(
            condition=f"${{contains({json.dumps(list(regions))}, {region})}}",
            error_message=TYPE_NOT_IN_REGION.format(
                type_name=resource_type.type_name, region=region, source=regions_source(), regions=", ".join(regions)
            ),
        )
        resource = CloudcontrolapiResource(
            self,
            construct_id,
            type_name=resource_type.type_name,
            desired_state=f"${{jsonencode({desired_state})}}",
            depends_on=list(waits_for),
        )
        resource.add_override("lifecycle", {"precondition": [{"condition": in_region.condition, "error_message": in_region.error_message}]})
        return resource

    @property
    def resources(self) -> list[CloudcontrolapiResource]:
        return [*([self.scheduler] if self.scheduler is not None else []), *self.compute_quotas.values()]


def _desired(model: type, item: str, name: str, shared: list[Entry]) -> str:
    """The object expression of ``model``'s marks on ``item``, its ``Name`` always set (the
    configured one or the derived default) and what every policy shares."""
    found = [Entry(("Name",), name) if e.path == ("Name",) else e for e in entries(model, item)]
    return render([*found, *shared])


def _cut(name_reference: str, suffix: str, extra: str | None = None) -> str:
    """``var.name`` cut so that it, ``suffix`` and ``extra`` (an HCL string expression) fit
    in a name of ``MAX_NAME`` characters, without a trailing hyphen."""
    room = f"{MAX_NAME - len(suffix)}" + (f" - length({extra})" if extra else "")
    return f'trimsuffix(substr({name_reference}, 0, {room}), "-")'
