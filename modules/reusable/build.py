"""Synthesize the reusable modules and write them, self-contained, to a folder.

Each module is a stack of the same constructs the platform stack uses, whose inputs are
Terraform variables (the same variable specs as the root module, plus what the platform
stack would have passed: the cluster's name...). Files a module reads at apply time
(the node-pools chart) are copied into it and named relative to ``path.module``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from cdktf import App, TerraformLocal, TerraformOutput, TerraformStack, TerraformVariable
from cdktf_cdktf_provider_aws.data_aws_eks_cluster import DataAwsEksCluster
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_helm.provider import HelmProvider

from modules.config import PlatformConfig
from modules.core.aws_context import AwsContext
from modules.core.terraform_settings import pin_terraform_and_providers
from modules.inputs.variables import declare_inputs, platform_inputs
from modules.hyperpod import HyperPodProps, add_hyperpod
from modules.hyperpod.helm_dependencies import CHART_IN_CHECKOUT, CHECKOUT_DIR
from modules.hyperpod.hyperpod import EksClusterRef, ModuleInputs
from modules.hyperpod.lifecycle_scripts import SCRIPTS_DIR, script_files
from modules.karpenter import Karpenter, KarpenterProps
from modules.karpenter.pools import GpuPoolInputs

from .module_stack import MODULE_ROOT, ModuleStack

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_POOLS_CHART = Path("charts") / "karpenter-nodepools"
KARPENTER_VARIABLES = ("karpenter_gpu_instance_types", "karpenter_gpu_capacity_types")


class KarpenterModule(ModuleStack):
    """Karpenter for an EKS cluster the caller has: IAM, interruption queue, controller and
    node pools. The caller configures the aws and helm providers for that cluster."""

    FILES = (NODE_POOLS_CHART,)

    def __init__(self, scope: App, config: PlatformConfig):
        super().__init__(scope, "karpenter")
        # Provider constructs only declare the requirements; ModuleStack drops their blocks.
        AwsProvider(self, "aws")
        HelmProvider(self, "helm")
        cluster_name = TerraformVariable(
            self, "eks_cluster_name", type="string", nullable=False, description="Name of the existing EKS cluster."
        )
        specs = tuple(spec for spec in platform_inputs(config) if spec.name in KARPENTER_VARIABLES)
        inputs = declare_inputs(self, specs)
        region = DataAwsRegion(self, "region")
        cluster = DataAwsEksCluster(self, "eks", name=cluster_name.string_value)
        karpenter = Karpenter(
            self,
            "karpenter",
            aws=AwsContext(self, "context", region=region.region),
            props=KarpenterProps(
                config=config,
                cluster=cluster,
                # The caller orders the module after its nodes and cluster DNS (depends_on).
                cluster_ready=[],
                gpu_inputs=GpuPoolInputs(*(inputs.reference(name) for name in KARPENTER_VARIABLES)),
                name=cluster_name.string_value,
                node_pools_chart=f"{MODULE_ROOT}/{NODE_POOLS_CHART.as_posix()}",
            ),
        )
        TerraformOutput(self, "node_role_arn", value=karpenter.node_role.arn, description="Role of Karpenter's nodes")
        TerraformOutput(
            self, "node_role_name", value=karpenter.node_role.role_name, description="Role name the node classes use"
        )
        TerraformOutput(
            self,
            "interruption_queue_name",
            value=karpenter.interruption_queue.queue.name,
            description="SQS queue of interruption events",
        )
        pin_terraform_and_providers(self)


HYPERPOD_VARIABLES = (
    "region",
    "hyperpod_enabled",
    "hyperpod_cluster_name",
    "hyperpod_instance_groups",
    "hyperpod_node_recovery",
    "hyperpod_install_helm_dependencies",
    "hyperpod_enable_training_operator",
)
LIFECYCLE_SCRIPTS = Path(SCRIPTS_DIR.name)


class HyperPodModule(ModuleStack):
    """SageMaker HyperPod on an EKS cluster and VPC the caller has: lifecycle scripts,
    execution role, node security group, helm dependencies, the cluster and add-ons."""

    FILES = (LIFECYCLE_SCRIPTS,)

    def __init__(self, scope: App, config: PlatformConfig):
        super().__init__(scope, "hyperpod")
        AwsProvider(self, "aws")
        HelmProvider(self, "helm")
        variable = self._variable
        name = variable("name", "string", "Prefix of every resource name (IAM roles, bucket).", config.name)
        tags = variable("tags", "map(string)", "Tags of the HyperPod cluster.", dict(config.tags))
        cluster_name = variable("eks_cluster_name", "string", "Name of the existing EKS cluster.")
        vpc_id = variable("vpc_id", "string", "VPC of the EKS cluster.")
        subnet_ids = variable("private_subnet_ids", "list(string)", "Private subnets the HyperPod nodes use.")
        subnet_zones = variable(
            "private_subnet_zones", "list(string)", "Availability zone of each private subnet, in the same order."
        )
        node_sg = variable("eks_node_security_group_id", "string", "Security group of the EKS nodes (CoreDNS, webhooks).")
        chart = variable(
            "hyperpod_chart_path",
            "string",
            "The HyperPod dependencies chart (scripts/fetch-hyperpod-chart.sh checks it out); empty: "
            f"{CHECKOUT_DIR}/{CHART_IN_CHECKOUT} below the root module.",
            # Empty rather than null: cdktf drops null defaults, which would make it required.
            "",
        )
        specs = tuple(spec for spec in platform_inputs(config) if spec.name in HYPERPOD_VARIABLES)
        inputs = declare_inputs(self, specs)
        cluster = DataAwsEksCluster(self, "eks", name=cluster_name.string_value)
        default_chart = f"${{path.root}}/{CHECKOUT_DIR}/{CHART_IN_CHECKOUT}"
        # A local: cdktf refuses quotes in a function argument such as fileexists'; coalesce
        # skips the empty default.
        chart_path = TerraformLocal(
            self, "chart_path", f'${{coalesce(var.hyperpod_chart_path, "{default_chart}")}}'
        )
        add_hyperpod(
            self,
            "hyperpod",
            aws=AwsContext(self, "context", region=inputs.string("region")),
            props=HyperPodProps(
                config=config,
                vpc_id=vpc_id.string_value,
                private_subnet_ids=subnet_ids.list_value,
                private_subnet_zones=subnet_zones.list_value,
                eks_cluster=EksClusterRef(
                    arn=cluster.arn,
                    name=cluster.name,
                    version=cluster.version,
                    cluster_security_group_id=cluster.vpc_config.get(0).cluster_security_group_id,
                ),
                eks_node_security_group_id=node_sg.string_value,
                # The caller orders the module after its nodes and cluster DNS (depends_on).
                eks_ready=[],
                inputs=inputs,
                scripts=script_files(stack_dir_to_repo=MODULE_ROOT),
                module=ModuleInputs(
                    name_reference="var.name",
                    tags_reference="var.tags",
                    scripts_root=MODULE_ROOT,
                    chart_path="${local.chart_path}",
                ),
            ),
        )
        del name, tags, chart, chart_path  # read by their references in expressions
        pin_terraform_and_providers(self)

    def _variable(self, name, type_, description, default=..., nullable=False) -> TerraformVariable:
        extra = {} if default is ... else {"default": default}
        return TerraformVariable(self, name, type=type_, description=description, nullable=nullable, **extra)


ModuleBuilder = Callable[[App, PlatformConfig], TerraformStack]
MODULES: dict[str, tuple[ModuleBuilder, tuple[Path, ...]]] = {
    "karpenter": (KarpenterModule, KarpenterModule.FILES),
    "hyperpod": (HyperPodModule, HyperPodModule.FILES),
}


def module_documents(config: PlatformConfig) -> dict[str, dict]:
    """Each module's Terraform JSON, synthesized from the constructs."""
    documents = {}
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, skip_validation=True)
        stacks = {name: build(app, config) for name, (build, _) in MODULES.items()}
        app.synth()
        for name, stack in stacks.items():
            documents[name] = json.loads((Path(outdir) / "stacks" / stack.node.id / "cdk.tf.json").read_text())
    return documents


def write_modules(config: PlatformConfig, target: Path) -> list[Path]:
    """``target/<module>/`` with ``main.tf.json`` and the files the module reads."""
    written = []
    for name, document in module_documents(config).items():
        folder = target / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "main.tf.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        for relative in MODULES[name][1]:
            # What the scripts upload lists: no caches or hidden files.
            shutil.copytree(REPO_ROOT / relative, folder / relative, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        written.append(folder)
    return written
