"""The Karpenter Terraform module: what the platform's root module calls, and what
``make modules`` gives HCL teams that bring their own EKS cluster.

Its variables are the wiring (the cluster's name and endpoint, what the controller waits
for) and the GPU pool settings listed in ``GPU_POOL_SETTINGS``, each declared from its
configuration field with the configured value as its default.
"""

from __future__ import annotations

from pathlib import Path

from cdktf import App, TerraformOutput
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion

from modules.config import PlatformConfig
from modules.config.karpenter import GpuPoolConfig
from modules.core.aws_context import AwsContext
from modules.core.module import MODULE_ROOT, ModuleFile, ModuleSource, ModuleStack
from modules.core.refs import variable_reference
from modules.core.terraform_settings import pin_terraform_and_providers
from modules.core.variables import plain_variable, setting_variable

from .karpenter import Karpenter, KarpenterProps
from .node_pools_release import CHART_FOLDER
from .pools import GpuPoolInputs

# The settings of karpenter.gpu_pool that are module variables: gpu_pool_<field>.
GPU_POOL_SETTINGS = ("instance_types", "capacity_types")


class KarpenterModule(ModuleStack):
    """Karpenter for an EKS cluster the caller has: IAM, interruption queue, controller and
    node pools. The caller configures the aws and helm providers for that cluster."""

    def __init__(self, scope: App, config: PlatformConfig):
        super().__init__(scope, "karpenter")
        gpu_pool = config.karpenter.gpu_pool.model_dump(mode="json")
        rules = {"instance_types": config.karpenter.gpu_pool.instance_type_rules()}
        gpu_variables = [
            setting_variable(
                self.variables,
                f"gpu_pool_{field}",
                GpuPoolConfig,
                field,
                gpu_pool[field],
                yaml_key=f"karpenter.gpu_pool.{field}",
                rules=rules.get(field, ()),
            )
            for field in GPU_POOL_SETTINGS
        ]
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
                gpu_inputs=GpuPoolInputs(*(variable_reference(v) for v in gpu_variables)),
                node_pools_chart=f"{MODULE_ROOT}/{CHART_FOLDER}",
            ),
        )
        # Named as the Karpenter module of terraform-aws-modules/eks names them.
        for name, value, description in (
            ("iam_role_arn", karpenter.controller_role.identity.arn, "Role of the Karpenter controller (EKS Pod Identity)"),
            ("iam_role_name", karpenter.controller_role.identity.service_role.role.name, "Name of the Karpenter controller's role"),
            ("node_iam_role_arn", karpenter.node_role.arn, "Role of the nodes Karpenter launches"),
            ("node_iam_role_name", karpenter.node_role.service_role.role.name, "Name of the nodes' role (the node classes name it)"),
            ("queue_arn", karpenter.interruption_queue.arn, "SQS queue of interruption events (ARN)"),
            ("queue_name", karpenter.interruption_queue.queue.name, "SQS queue of interruption events"),
        ):
            TerraformOutput(self, name, value=value, description=description)
        pin_terraform_and_providers(self)


SOURCE = ModuleSource("karpenter", KarpenterModule, files=(ModuleFile(Path(CHART_FOLDER), Path(CHART_FOLDER)),))
