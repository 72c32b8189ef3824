"""The HyperPod subsystem: scripts bucket, execution role, node security group, helm
dependencies, the cluster, its add-ons and outputs.

It is built inside the HyperPod module (``module.py``), whose variables it reads: the
settings of ``hyperpod.*`` (cluster name, instance groups, node recovery...) and the
wiring to the EKS cluster and VPC. The platform's root module calls that module; HCL teams
call the same one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from typing import Any

from cdktf import Fn, TerraformLocal, TerraformOutput, TerraformVariable, Token
from constructs import Construct

from modules.config.cfn import Cfn
from modules.config.hyperpod import (
    CLUSTER_NAME_SUFFIX,
    zone_without_subnet,
    HyperPodConfig,
    InstanceGroupConfig,
    RestrictedInstanceGroupConfig,
)
from modules.config.hyperpod_instance_types import MIG_DISABLED, MIG_LABEL
from modules.config.terraform import hcl_string
from modules.core.aws_context import AwsContext
from modules.core.helm_values import TerraformValue
from modules.core.module import MODULE_ROOT
from modules.core.refs import Expression, address, variable_reference

from .addons import HyperPodAddons, HyperPodAddonsProps
from .cluster import HyperPodCluster, Precondition
from .autoscaling import AutoscalerRole
from .bucket_key import BucketKey
from .desired_state import Entry, cluster_fields, instance_groups
from .execution_role import ExecutionRole
from .helm_dependencies import HelmDependencies, hcl_bool
from .lifecycle_scripts import ON_CREATE_SCRIPT, LifecycleScripts
from .node_pools import CHART_FOLDER as NODE_POOLS_CHART
from .node_pools import HyperPodNodePools
from .security_group import HyperPodSecurityGroup
from .task_governance import TaskGovernance


@dataclass(frozen=True)
class HyperPodInputs:
    """The module's variables the subsystem reads, by name: the wiring to the EKS cluster
    and VPC (see ``module.py``) and the ``hyperpod.*`` settings that are variables."""

    variables: dict[str, TerraformVariable]

    def token(self, name: str) -> str:
        return self.variables[name].string_value

    def list(self, name: str) -> list[str]:
        return self.variables[name].list_value

    def reference(self, name: str) -> str:
        """``var.<name>``, for expressions written as text."""
        return variable_reference(self.variables[name])


class HyperPod(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        aws: AwsContext,
        config: HyperPodConfig,
        inputs: HyperPodInputs,
    ):
        super().__init__(scope, construct_id)
        name = inputs.token("name")
        self.bucket_key = BucketKey(self, "bucket_key", aws=aws, name=name)
        self.scripts = LifecycleScripts(
            self, "lifecycle_scripts", name_reference=inputs.reference("name"), kms_key_arn=self.bucket_key.arn
        )
        self.execution_role = ExecutionRole(
            self,
            "execution_role",
            aws=aws,
            name=name,
            lifecycle_bucket_arn=self.scripts.arn,
            lifecycle_key=self.bucket_key.use("DecryptScripts", self.scripts.arn),
            eks_cluster_arn=inputs.token("eks_cluster_arn"),
        )
        self.security_group = HyperPodSecurityGroup(
            self,
            "security_group",
            name=name,
            vpc_id=inputs.token("vpc_id"),
            eks_cluster_security_group_id=inputs.token("eks_cluster_security_group_id"),
            eks_node_security_group_id=inputs.token("eks_node_security_group_id"),
        )
        enable_training_operator = inputs.reference("enable_training_operator")
        # A local, not inline: the expression's ": " would make the YAML value a quoted string.
        partitioning = TerraformLocal(
            self,
            "gpu_partitioning",
            f"${{anytrue([for group in {inputs.reference('instance_groups')} : "
            f'lookup(group.labels, "{MIG_LABEL}", "{MIG_DISABLED}") != "{MIG_DISABLED}"])}}',
        )
        self.helm = HelmDependencies(
            self,
            "helm_dependencies",
            config=config,
            enabled=inputs.reference("install_helm_dependencies"),
            cert_manager=TerraformValue(f"{enable_training_operator} || {hcl_bool(config.enable_inference_operator)}"),
            # The GPU operator when a group partitions its GPUs (a tfvars file may add one).
            gpu_partitioning=TerraformValue(f"local.{partitioning.friendly_unique_id}"),
            # Helm waits for the chart's Deployments (operators, cert-manager) and cert-manager's
            # post-install check Job, whose pods need nodes; and, by the platform's rule, for
            # cluster DNS (tests/test_dependencies.py).
            wait_for=inputs.reference("cluster_ready"),
        )
        self.cluster_name = TerraformLocal(
            self,
            "hyperpod_cluster_name",
            f'${{coalesce({inputs.reference("cluster_name")}, "${{{inputs.reference("name")}}}{CLUSTER_NAME_SUFFIX}")}}',
        )
        groups = TerraformLocal(self, "instance_groups", "${" + self._instance_groups(inputs) + "}")
        tags_variable = inputs.reference("tags")
        tags = TerraformLocal(
            self, "tags", f"${{[for key in sort(keys({tags_variable})) : {{ Key = key, Value = {tags_variable}[key] }}]}}"
        )
        self.autoscaler = AutoscalerRole(self, "autoscaler", aws=aws, name=name) if config.autoscaling else None
        desired_state: dict = {
            "ClusterName": self.cluster_name.as_string,
            "Orchestrator": {"Eks": {"ClusterArn": inputs.token("eks_cluster_arn")}},
            "VpcConfig": {"SecurityGroupIds": [self.security_group.id], "Subnets": inputs.list("private_subnet_ids")},
            "NodeRecovery": inputs.token("node_recovery"),
            "InstanceGroups": groups.as_list,
            "Tags": tags.as_list,
        }
        if self.autoscaler is not None:
            desired_state["ClusterRole"] = self.autoscaler.arn
        self.cluster = HyperPodCluster(
            self,
            "cluster",
            desired_state=Fn.merge([desired_state, self._cluster_fields(config)]),
            preconditions=[
                Precondition(
                    condition="${" + _zones_have_a_subnet(inputs) + "}",
                    error_message=_zones_without_subnet_message(inputs),
                ),
            ],
            depends_on=[
                # The instances run with the role as soon as they launch (scripts, ECR, ENIs).
                *self.execution_role.grants,
                # Nodes reach the EKS control plane and CoreDNS, and kubelet is reachable, to join.
                *self.security_group.rules,
                # Every new node runs on_create.sh from the bucket.
                *self.scripts.objects,
                # HyperPod's guide: install the dependencies chart before creating the cluster
                # (its RBAC, namespace and health monitoring agent; autoscaling and automatic
                # node recovery need the agent).
                self.helm.release,
                # HyperPod's Karpenter assumes the cluster role from the start.
                *(self.autoscaler.grants if self.autoscaler else ()),
            ],
        )
        self.addons = HyperPodAddons(
            self,
            "addons",
            aws=aws,
            props=HyperPodAddonsProps(
                config=config,
                name=name,
                name_reference=inputs.reference("name"),
                eks_cluster_name=inputs.token("eks_cluster_name"),
                eks_cluster_arn=inputs.token("eks_cluster_arn"),
                kubernetes_version=inputs.token("eks_cluster_version"),
                hyperpod_cluster_arn=self.cluster.arn,
                hyperpod_cluster=self.cluster.resource,
                training_operator_enabled=enable_training_operator,
                load_balancer_controller_ready=inputs.reference("load_balancer_controller_ready"),
                inference_dependencies_ready=inputs.reference("inference_dependencies_ready"),
                cluster_ready=inputs.reference("cluster_ready"),
                cert_manager=self.helm.release,
                vpc_id=inputs.token("vpc_id"),
                oidc_issuer_url=inputs.token("eks_oidc_issuer_url"),
                oidc_provider_arn_reference=inputs.reference("eks_oidc_provider_arn"),
                bucket_key=self.bucket_key,
            ),
        )
        self.node_pools = None
        if config.autoscaling is not None and config.autoscaling.node_pools:
            self.node_pools = HyperPodNodePools(
                self,
                "node_pools",
                pools=config.autoscaling.node_pools,
                instance_groups=inputs.reference("instance_groups"),
                chart=f"{MODULE_ROOT}/{NODE_POOLS_CHART}",
                cluster=self.cluster.resource,
            )
        self.task_governance = None
        if config.task_governance.configured:
            assert self.addons.task_governance is not None, "the configuration requires the add-on"
            self.task_governance = TaskGovernance(
                self,
                "task_governance",
                config=config.task_governance,
                cluster_arn=f"{address(self.cluster.resource)}.id",
                name_reference=inputs.reference("name"),
                tags=f"local.{tags.friendly_unique_id}",
                region=aws.region,
                # SageMaker writes each policy into the EKS cluster as the add-on's Kueue objects.
                waits_for=[self.addons.task_governance.addon],
            )
        self._outputs(inputs)

    def _cluster_fields(self, config: HyperPodConfig) -> Any:
        """The cluster's configured fields (``HyperPodConfig``'s Cfn marks: provisioning
        mode, tiered storage, autoscaling, restricted groups), rendered from a local that
        holds their configured values; each restricted group runs with the execution role."""
        marked = [name for name, field in HyperPodConfig.model_fields.items() if any(isinstance(m, Cfn) for m in field.metadata)]
        # JSON decoded by Terraform: a null setting stays an attribute (cdktf drops null keys).
        dump = json.dumps(config.model_dump(mode="json", include=set(marked)), sort_keys=True)
        values = TerraformLocal(self, "cluster_settings", f"${{jsondecode({hcl_string(dump)})}}")
        settings = f"local.{values.friendly_unique_id}"
        restricted = f"{settings}.restricted_instance_groups"
        role = Entry(("ExecutionRole",), f"{address(self.execution_role.service_role.role)}.arn")
        separate = {
            "RestrictedInstanceGroups": Entry(
                ("RestrictedInstanceGroups",),
                instance_groups(restricted, RestrictedInstanceGroupConfig, [role]),
                f"length({restricted}) > 0",
            )
        }
        fields = TerraformLocal(self, "cluster_fields", "${" + cluster_fields(HyperPodConfig, settings, separate) + "}")
        return Token.as_any(Expression(f"local.{fields.friendly_unique_id}"))

    def _instance_groups(self, inputs: HyperPodInputs) -> str:
        """Every group's entry: its configured fields (``InstanceGroupConfig``'s ``Cfn``
        marks) and what all groups share (role, scripts, placement in the group's zone)."""
        security_group = address(self.security_group.group)
        shared = [
            Entry(("ExecutionRole",), f"{address(self.execution_role.service_role.role)}.arn"),
            Entry(("LifeCycleConfig", "SourceS3Uri"), f'"s3://${{{address(self.scripts.bucket)}.bucket}}"'),
            Entry(("LifeCycleConfig", "OnCreate"), hcl_string(ON_CREATE_SCRIPT)),
            Entry(
                ("OverrideVpcConfig",),
                "{ SecurityGroupIds = ["
                + f"{security_group}.id], Subnets = matchkeys({inputs.reference('private_subnet_ids')}, "
                + f"{inputs.reference('private_subnet_zones')}, [group.availability_zone]) }}",
                "group.availability_zone != null",
            ),
        ]
        return instance_groups(inputs.reference("instance_groups"), InstanceGroupConfig, shared)

    def _outputs(self, inputs: HyperPodInputs) -> None:
        TerraformOutput(self, "cluster_arn", value=self.cluster.arn, description="HyperPod cluster ARN")
        TerraformOutput(
            self,
            "instance_group_names",
            value=Expression(f"[for group in {inputs.reference('instance_groups')} : group.name]"),
            description="Names of the HyperPod instance groups",
        )
        # The name it is created with, known at plan (the cluster reports the same).
        TerraformOutput(self, "cluster_name", value=self.cluster_name.as_string, description="HyperPod cluster name")
        TerraformOutput(
            self,
            "cluster_status",
            value=self.cluster.reported("ClusterStatus"),
            description="HyperPod cluster status when Terraform last read it",
        )
        TerraformOutput(
            self,
            "execution_role_arn",
            value=self.execution_role.arn,
            description="Role the HyperPod instances run with",
        )
        TerraformOutput(
            self,
            "lifecycle_scripts_bucket",
            value=self.scripts.bucket.bucket,
            description="Bucket holding the HyperPod lifecycle scripts",
        )
        TerraformOutput(
            self,
            "security_group_id",
            value=self.security_group.id,
            description="Security group of the HyperPod nodes",
        )


def _zones_without_subnet_message(inputs: HyperPodInputs) -> str:
    """What synth says of a zone without a subnet (``zone_without_subnet``), with the failing
    groups, their zones and the VPC's zones filled in by Terraform."""
    groups = inputs.reference("instance_groups")
    zones = inputs.reference("private_subnet_zones")
    failing = f"[for group in {groups} : group if (group.availability_zone == null ? false : !contains({zones}, group.availability_zone))]"
    return zone_without_subnet(
        group=f'${{join(", ", [for group in {failing} : group.name])}}',
        zone=f'${{join(", ", [for group in {failing} : group.availability_zone])}}',
        zones=f'${{join(", ", distinct({zones}))}}',
    )


def _zones_have_a_subnet(inputs: HyperPodInputs) -> str:
    """True when every group pinned to a zone finds a private subnet there. It reads only
    the subnets' zones, which are known at plan (the subnet IDs are not until apply): a
    condition on the IDs is unknown at plan, so Terraform would check it only at apply,
    after creating the VPC and the EKS cluster."""
    groups = inputs.reference("instance_groups")
    zones = inputs.reference("private_subnet_zones")
    has_subnet = f"contains({zones}, group.availability_zone)"
    return f"alltrue([for group in {groups} : group.availability_zone == null ? true : {has_subnet}])"

