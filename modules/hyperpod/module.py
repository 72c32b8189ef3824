"""The HyperPod Terraform module: what the platform's root module calls, and what
``make modules`` gives HCL teams that bring their own EKS cluster and VPC.

Its variables are the wiring (names, the EKS cluster, the subnets) and the ``hyperpod.*``
settings listed in ``SETTINGS``, each declared from its configuration field (type,
description, validations) with the configured value as its default.
"""

from __future__ import annotations

import json
from pathlib import Path

from typing import Any

from cdktf import App, Token
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion

from modules.config import PlatformConfig
from modules.config.hyperpod import HyperPodConfig
from modules.config.hyperpod_node_pools import SCALABLE_GROUP
from modules.config.terraform import TerraformRule
from modules.core.aws_context import AwsContext
from modules.core.module import REPO_ROOT, ModuleFile, ModuleSource, ModuleStack
from modules.core.terraform_settings import pin_terraform_and_providers
from modules.core.variables import plain_variable, setting_variable

from .helm_dependencies import CHART_FOLDER, CHART_IN_CHECKOUT, CHECKOUT_DIR
from .hyperpod import HyperPod, HyperPodInputs
from .lifecycle_scripts import SCRIPTS_DIR
from .node_pools import CHART_FOLDER as NODE_POOLS_CHART

# The settings of hyperpod.* that are module variables (a terraform.tfvars sets them).
SETTINGS = ("cluster_name", "instance_groups", "node_recovery", "install_helm_dependencies", "enable_training_operator")
REQUIRED = ...
# The wiring: name -> (type, description, default). ``name`` and ``tags`` default to the
# configuration's; a required one has no default.
WIRING: dict[str, tuple[str, str, object]] = {
    "name": ("string", "Prefix of every resource name (IAM roles, buckets).", REQUIRED),
    "tags": ("map(string)", "Tags of the HyperPod cluster.", REQUIRED),
    "eks_cluster_name": ("string", "Name of the EKS cluster that orchestrates HyperPod.", REQUIRED),
    "eks_cluster_arn": ("string", "ARN of that EKS cluster.", REQUIRED),
    "eks_cluster_version": ("string", "Its Kubernetes version (picks the add-on versions).", REQUIRED),
    "eks_cluster_security_group_id": ("string", "The cluster security group EKS created for it.", REQUIRED),
    "eks_node_security_group_id": ("string", "Security group of the EKS nodes (CoreDNS, webhooks).", REQUIRED),
    "vpc_id": ("string", "VPC of the EKS cluster.", REQUIRED),
    "private_subnet_ids": ("list(string)", "Private subnets the HyperPod nodes use.", REQUIRED),
    "private_subnet_zones": ("list(string)", "Availability zone of each private subnet, in the same order.", REQUIRED),
    "eks_oidc_issuer_url": (
        "string",
        "OpenID Connect issuer of the EKS cluster (https://oidc.eks...): the inference operator's roles trust it.",
        "",
    ),
    "eks_oidc_provider_arn": (
        "string",
        "ARN of an IAM OIDC provider the account already has for that issuer; empty creates one with the "
        "inference operator (an account holds one provider per issuer).",
        "",
    ),
    "cluster_ready": (
        "list(string)",
        "IDs of what must run before charts and add-ons are installed: the EKS nodes and cluster DNS.",
        [],
    ),
    "load_balancer_controller_ready": (
        "list(string)",
        "IDs the inference operator add-on waits for: the AWS Load Balancer Controller release.",
        [],
    ),
    "inference_dependencies_ready": (
        "list(string)",
        "IDs the inference operator add-on also waits for: the Mountpoint for Amazon S3 and FSx for Lustre CSI "
        "driver add-ons (it refuses to start without the CSIDrivers s3.csi.aws.com and fsx.csi.aws.com).",
        [],
    ),
}


def root_setting_values(config: PlatformConfig) -> dict[str, Any]:
    """The ``hyperpod.*`` settings as the root module's variables default to them: what
    the configuration says, the cluster's name resolved from the platform's."""
    values = config.hyperpod.model_dump(mode="json", exclude_none=True)
    return {**values, "cluster_name": config.hyperpod.cluster_name_for(config.name)}


def setting_rules(hyperpod: HyperPodConfig) -> dict[str, tuple[TerraformRule, ...]]:
    """The checks ``HyperPodConfig._dependencies_present`` makes across settings, on the
    module's variables (a tfvars file must not get past what the YAML cannot): a setting
    that is a variable is read as ``var.<name>``, one only the YAML sets is its configured
    value, so a rule on it is rendered only when that value calls for it."""
    rules: dict[str, tuple[TerraformRule, ...]] = {
        "enable_training_operator": (
            TerraformRule(
                "$value ? var.install_helm_dependencies : true",
                "enable_training_operator needs cert-manager, which this platform installs with the HyperPod "
                "helm dependencies: set install_helm_dependencies to true or enable_training_operator to false.",
            ),
        )
    }
    if hyperpod.enable_inference_operator:
        rules["install_helm_dependencies"] = (
            TerraformRule(
                "$value",
                "enable_inference_operator needs cert-manager for its webhooks, which this platform installs with "
                "the HyperPod helm dependencies: keep install_helm_dependencies true or set "
                "hyperpod.enable_inference_operator to false.",
            ),
        )
    scaled = hyperpod.autoscaling.scaled_group_names if hyperpod.autoscaling else []
    if scaled:
        rules["instance_groups"] = (
            TerraformRule(
                f"alltrue([for name in {json.dumps(scaled)} : length([for group in $value : group if group.name == name "
                "&& group.instance_count == 0 && group.training_plan_arn == null && length(group.deep_health_checks) == 0]) == 1])",
                f"{SCALABLE_GROUP}.",
            ),
        )
    if not hyperpod.helm_subcharts.deep_health_check:
        rules["instance_groups"] = rules.get("instance_groups", ()) + (
            TerraformRule(
                "var.install_helm_dependencies ? alltrue([for group in $value : length(group.deep_health_checks) == 0]) : true",
                "an instance group requests deep_health_checks but helm_subcharts.deep_health_check is false: "
                "enable the sub-chart or remove the checks.",
            ),
        )
    return rules


class HyperPodModule(ModuleStack):
    """SageMaker HyperPod on an EKS cluster and VPC the caller has: lifecycle scripts,
    execution role, node security group, helm dependencies, the cluster and add-ons."""

    def __init__(self, scope: App, config: PlatformConfig):
        super().__init__(scope, "hyperpod")
        hyperpod = config.hyperpod
        settings = hyperpod.model_dump(mode="json", exclude_none=True)
        configured = {"name": config.name, "tags": dict(config.tags)}
        rules = setting_rules(hyperpod)
        variables = {
            field: setting_variable(
                self.variables,
                field,
                HyperPodConfig,
                field,
                settings.get(field),
                yaml_key=f"hyperpod.{field}",
                rules=rules.get(field, ()),
            )
            for field in SETTINGS
        }
        for field in SETTINGS:
            if field not in settings:
                # Unset in the YAML: null, and the module derives the value (the cluster's
                # name from var.name), so a caller that changes only the name gets its own.
                variables[field].add_override("nullable", True)
                variables[field].add_override("default", Token.null_value())
        for name, (type_, description, default) in WIRING.items():
            default = configured.get(name, default)
            variables[name] = plain_variable(self.variables, name, type_, description, default)
        region = DataAwsRegion(self, "region")
        HyperPod(
            self,
            "hyperpod",
            aws=AwsContext(self, "context", region=region.region),
            config=hyperpod,
            inputs=HyperPodInputs(variables),
        )
        pin_terraform_and_providers(self)


SOURCE = ModuleSource(
    "hyperpod",
    HyperPodModule,
    files=(
        ModuleFile(Path(SCRIPTS_DIR.name), Path(SCRIPTS_DIR.name)),
        ModuleFile(Path(CHECKOUT_DIR) / CHART_IN_CHECKOUT, Path(CHART_FOLDER), optional=True),
        ModuleFile(Path(__file__).resolve().parent.relative_to(REPO_ROOT) / NODE_POOLS_CHART, Path(NODE_POOLS_CHART)),
    ),
)
