"""The Karpenter Terraform module: what the platform's root module calls, and what
``make modules`` gives HCL teams that bring their own EKS cluster.

Its variables are the wiring (the cluster's name and endpoint, what the controller waits
for, the VPC when a pool has EFA), where the controller runs and how node classes find
subnets and security groups (``controller_node_selector``, ``discovery_tag_key``,
``discovery_tag_value``), and the settings of the first GPU pool listed in
``GPU_POOL_SETTINGS``, each declared from its configuration field with the configured value
as its default.
"""

from __future__ import annotations

from pathlib import Path

from cdktf import App, TerraformLocal, TerraformOutput, TerraformVariable, TerraformVariableValidationConfig
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion

from modules.config import PlatformConfig
from modules.config.karpenter import PoolConfig
from modules.core.aws_context import AwsContext
from modules.core.helm_values import TerraformValue
from modules.core.module import MODULE_ROOT, ModuleFile, ModuleSource, ModuleStack
from modules.core.refs import variable_reference
from modules.core.terraform_settings import pin_terraform_and_providers
from modules.core.variables import plain_variable, setting_variable

from .controller_release import CONTROLLER_NODE_SELECTOR
from .karpenter import Karpenter, KarpenterProps
from .node_classes import DISCOVERY_TAG
from .node_pools_release import CHART_FOLDER
from .pools import GpuPoolInputs

# The settings of the first GPU pool (karpenter.pools[i]) that are module variables:
# gpu_pool_<field>.
GPU_POOL_SETTINGS = ("instance_types", "capacity_types")


class KarpenterModule(ModuleStack):
    """Karpenter for an EKS cluster the caller has: IAM, interruption queue, controller and
    node pools. The caller configures the aws and helm providers for that cluster."""

    def __init__(self, scope: App, config: PlatformConfig):
        super().__init__(scope, "karpenter")
        gpu_inputs = self._gpu_pool_variables(config)
        cluster_name = plain_variable(
            self.variables, "cluster_name", "string", "Name of the EKS cluster; resources are named after it."
        )
        cluster_endpoint = plain_variable(
            self.variables, "cluster_endpoint", "string", "Kubernetes API endpoint of that cluster."
        )
        cluster_ready = plain_variable(
            self.variables,
            "cluster_ready",
            "list(string)",
            "IDs of what must run before the controller: the nodes it runs on and cluster DNS.",
            [],
        )
        node_selector = plain_variable(
            self.variables,
            "controller_node_selector",
            "map(string)",
            "Labels of the nodes the Karpenter controller runs on (never nodes Karpenter launches).",
            dict(CONTROLLER_NODE_SELECTOR),
        )
        discovery_key = TerraformVariable(
            self.variables,
            "discovery_tag_key",
            type="string",
            description="Tag key that marks the subnets and security groups of the nodes Karpenter launches.",
            default=DISCOVERY_TAG,
            nullable=False,
            validation=[
                TerraformVariableValidationConfig(
                    condition="${length(var.discovery_tag_key) >= 1 && length(var.discovery_tag_key) <= 128}",
                    error_message="discovery_tag_key must be an AWS tag key of 1-128 characters.",
                )
            ],
        )
        discovery_value = plain_variable(
            self.variables, "discovery_tag_value", "string", "Value of that tag; empty means the cluster's name.", ""
        )
        vpc_id = None
        if config.karpenter.efa_pools:
            vpc_id = plain_variable(
                self.variables, "vpc_id", "string", "VPC of the cluster, where the EFA security group is created."
            ).string_value
        region = DataAwsRegion(self, "region")
        karpenter = Karpenter(
            self,
            "karpenter",
            aws=AwsContext(self, "context", region=region.region),
            props=KarpenterProps(
                config=config,
                cluster_name=cluster_name.string_value,
                cluster_endpoint=cluster_endpoint.string_value,
                cluster_ready=variable_reference(cluster_ready),
                gpu_inputs=gpu_inputs,
                node_pools_chart=f"{MODULE_ROOT}/{CHART_FOLDER}",
                controller_node_selector=TerraformValue(variable_reference(node_selector)),
                discovery=TerraformValue(
                    f"{{({variable_reference(discovery_key)}) = coalesce({variable_reference(discovery_value)}, "
                    f"{variable_reference(cluster_name)})}}"
                ),
                vpc_id=vpc_id,
            ),
        )
        # Named as the Karpenter module of terraform-aws-modules/eks names them.
        outputs = [
            ("iam_role_arn", karpenter.controller_role.identity.arn, "Role of the Karpenter controller (EKS Pod Identity)"),
            ("iam_role_name", karpenter.controller_role.identity.service_role.role.name, "Name of the Karpenter controller's role"),
            ("node_iam_role_arn", karpenter.node_role.arn, "Role of the nodes Karpenter launches"),
            ("node_iam_role_name", karpenter.node_role.service_role.role.name, "Name of the nodes' role (the node classes name it)"),
            ("queue_arn", karpenter.interruption_queue.arn, "SQS queue of interruption events (ARN)"),
            ("queue_name", karpenter.interruption_queue.queue.name, "SQS queue of interruption events"),
        ]
        if karpenter.efa:
            outputs.append(
                (
                    "efa_security_group_id",
                    karpenter.efa.security_group.id,
                    "Security group the EFA pools' nodes join besides the discovered ones (all traffic between members)",
                )
            )
        for name, value, description in outputs:
            TerraformOutput(self, name, value=value, description=description)
        pin_terraform_and_providers(self)

    def _gpu_pool_variables(self, config: PlatformConfig) -> GpuPoolInputs | None:
        found = config.karpenter.tfvars_pool
        if found is None:
            return None
        index, pool = found
        yaml_key = f"karpenter.pools[{index}]"
        values = pool.model_dump(mode="json")
        rules = {"instance_types": pool.instance_type_rules(yaml_key), "capacity_types": pool.capacity_type_rules(yaml_key)}
        variables = [
            setting_variable(
                self.variables,
                f"gpu_pool_{field}",
                PoolConfig,
                field,
                values[field],
                yaml_key=f"{yaml_key}.{field}",
                rules=rules.get(field, ()),
            )
            for field in GPU_POOL_SETTINGS
        ]
        instance_types, capacity_types = (variable_reference(v) for v in variables)
        # Derived names follow the instance types the variable gives (locals: the values
        # name each several times).
        names = [
            TerraformLocal(self, local, f"${{{expression}}}").as_string if expression else None
            for local, expression in zip(("gpu_pool_name", "gpu_node_class_name"), pool.name_expressions(instance_types))
        ]
        return GpuPoolInputs(instance_types, capacity_types, *names)


SOURCE = ModuleSource("karpenter", KarpenterModule, files=(ModuleFile(Path(CHART_FOLDER), Path(CHART_FOLDER)),))
