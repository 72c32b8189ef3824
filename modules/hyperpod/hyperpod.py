"""The HyperPod subsystem: scripts bucket, execution role, node security group, helm
dependencies, the cluster, its add-ons and outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from cdktf import Fn, ITerraformDependable, TerraformLocal, TerraformOutput, TerraformStack, Token
from cdktf_cdktf_provider_aws.eks_cluster import EksCluster
from constructs import Construct

from modules.config.hyperpod import InstanceGroupConfig
from modules.config.platform import PlatformConfig
from modules.core import hcl_expr as hcl
from modules.core.aws_context import AwsContext
from modules.core.helm_values import TerraformValue
from modules.core.stack import ReadableStack

from .addons import HyperPodAddons, HyperPodAddonsProps
from .cluster import HyperPodCluster, Precondition
from .desired_state import ON_CREATE_SCRIPT, ClusterSpec, InstanceGroupSpec, VpcPlacement
from .instance_group_fields import GroupContext, instance_groups_expression, zones_have_a_subnet
from .execution_role import ExecutionRole
from .helm_dependencies import HelmDependencies
from .lifecycle_scripts import LifecycleScripts, ScriptFile, script_files, script_source
from .security_group import HyperPodSecurityGroup

if TYPE_CHECKING:  # modules.inputs reads the instance group rendering of this package
    from modules.inputs import Inputs


@dataclass(frozen=True)
class EksClusterRef:
    """The EKS cluster as HyperPod uses it: the stack's own, or one read by name."""

    arn: str
    name: str
    version: str
    cluster_security_group_id: str

    @staticmethod
    def of(cluster: EksCluster) -> "EksClusterRef":
        return EksClusterRef(cluster.arn, cluster.name, cluster.version, cluster.vpc_config.cluster_security_group_id)


@dataclass(frozen=True)
class ModuleInputs:
    """What differs when HyperPod is a reusable module: names, tags and paths come from
    the module's variables and folder."""

    name_reference: str
    """``var.name``: the resource-name prefix."""
    tags_reference: str
    """``var.tags``: the cluster's tags."""
    scripts_root: str
    """Where ``lifecycle_scripts/`` is, for Terraform (``${path.module}``)."""
    chart_path: str
    """Where the HyperPod dependencies chart is, for Terraform."""


@dataclass(frozen=True)
class HyperPodProps:
    config: PlatformConfig
    vpc_id: str
    private_subnet_ids: list[str]
    private_subnet_zones: list[str]
    """Availability zone of each private subnet, in the same order."""
    eks_cluster: EksCluster | EksClusterRef
    eks_node_security_group_id: str
    eks_ready: Sequence[ITerraformDependable]
    """What must exist before charts are installed: nodes to run their controllers on."""
    inputs: Inputs
    """The root configuration's variables (hyperpod_*) the resources read."""
    load_balancer_controller: Sequence[ITerraformDependable] = ()
    """The inference operator's endpoints get load balancers through the controller: the
    operator is installed after it and removed before it. The cluster never waits for it."""
    scripts: list[ScriptFile] = field(default_factory=script_files)
    module: ModuleInputs | None = None
    """Set when HyperPod is synthesized as a reusable module."""


ENABLED = "var.hyperpod_enabled"
HELM_DEPENDENCIES_ENABLED = f"{ENABLED} && var.hyperpod_install_helm_dependencies"
TRAINING_OPERATOR_ENABLED = f"{ENABLED} && var.hyperpod_enable_training_operator"


def add_hyperpod(scope: Construct, construct_id: str, *, aws: AwsContext, props: HyperPodProps) -> "HyperPod":
    """The one place that decides whether HyperPod is deployed: always synthesized, and
    ``var.hyperpod_enabled`` (default: ``hyperpod.enabled``) counts every resource in or out,
    so an HCL team switches it in terraform.tfvars as the YAML key would."""
    hyperpod = HyperPod(scope, construct_id, aws=aws, props=props)
    stack = _readable_stack(hyperpod)
    stack.only_when(hyperpod, ENABLED)
    stack.only_when(hyperpod.helm, HELM_DEPENDENCIES_ENABLED)
    for construct in hyperpod.addons.training_operator:
        stack.only_when(construct, TRAINING_OPERATOR_ENABLED)
    return hyperpod


def _tags_expression(tags: str) -> str:
    """The cluster's Tags from a map variable, sorted as the Python rendering sorts them."""
    return f"[for key in sort(keys({tags})) : {{Key = key, Value = {tags}[key]}}]"


def _readable_stack(construct: Construct) -> ReadableStack:
    stack = TerraformStack.of(construct)
    if not isinstance(stack, ReadableStack):
        raise TypeError("HyperPod needs a ReadableStack (conditional resources, raw expressions)")
    return stack


class HyperPod(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: HyperPodProps):
        super().__init__(scope, construct_id)
        platform = props.config
        config = platform.hyperpod
        module = props.module
        name = platform.name if module is None else Token.as_string("${" + module.name_reference + "}")
        eks_cluster = props.eks_cluster
        if not isinstance(eks_cluster, EksClusterRef):
            eks_cluster = EksClusterRef.of(eks_cluster)
        stack = _readable_stack(self)
        inputs = props.inputs

        self.scripts = LifecycleScripts(
            self,
            "lifecycle_scripts",
            platform_name=name,
            files=props.scripts,
            name_reference=module.name_reference if module else None,
        )
        self.execution_role = ExecutionRole(
            self,
            "execution_role",
            aws=aws,
            name=name,
            lifecycle_bucket_arn=self.scripts.arn,
            eks_cluster_arn=eks_cluster.arn,
        )
        self.security_group = HyperPodSecurityGroup(
            self,
            "security_group",
            name=name,
            vpc_id=props.vpc_id,
            eks_cluster_security_group_id=eks_cluster.cluster_security_group_id,
            eks_node_security_group_id=props.eks_node_security_group_id,
        )
        # Always synthesized: var.hyperpod_install_helm_dependencies counts it in or out.
        self.helm = HelmDependencies(
            self,
            "helm_dependencies",
            config=config,
            depends_on=props.eks_ready,
            cert_manager=TerraformValue(inputs.reference("hyperpod_enable_training_operator")),
            **({"chart": module.chart_path} if module else {}),
        )
        self.subnets = _SubnetLocals(self, props)
        self.group_context = GroupContext(
            execution_role_arn=hcl.Ref(f"{stack.address_of(self.execution_role.service_role.role)}.arn"),
            scripts_bucket_name=hcl.Ref(f"{stack.address_of(self.scripts.bucket)}.bucket"),
            security_group_id=hcl.Ref(f"{stack.address_of(self.security_group.group)}.id"),
            private_subnet_ids=hcl.Ref(self.subnets.ids_reference),
            private_subnet_zones=hcl.Ref(self.subnets.zones_reference),
        )

        self.cluster = HyperPodCluster(
            self,
            "cluster",
            spec=ClusterSpec(
                name=config.cluster_name,
                eks_cluster_arn=eks_cluster.arn,
                placement=VpcPlacement(props.private_subnet_ids, [self.security_group.id]),
                node_recovery=config.node_recovery,
                node_provisioning_mode=config.node_provisioning_mode,
                instance_groups=tuple(self._instance_group(props, group) for group in config.instance_groups),
                tags=platform.tags,
            ),
            # What is deployed reads the variables; the configured values above are what
            # synth checks against the schema's rules (and the variables' defaults).
            inputs={
                "ClusterName": inputs.string("hyperpod_cluster_name"),
                "NodeRecovery": inputs.string("hyperpod_node_recovery"),
                "InstanceGroups": stack.raw_expression(instance_groups_expression(self.group_context).hcl()),
                **(
                    {"Tags": stack.raw_expression(_tags_expression(module.tags_reference))}
                    if module
                    else {}
                ),
            },
            preconditions=[
                Precondition(
                    # In a module the path starts with ${path.module}, which Fn would escape.
                    condition=(
                        f'${{fileexists("{script_source(ON_CREATE_SCRIPT, stack_dir_to_repo=module.scripts_root)}")}}'
                        if module
                        else Fn.fileexists(script_source(ON_CREATE_SCRIPT))
                    ),
                    error_message=(
                        f"lifecycle_scripts/{ON_CREATE_SCRIPT} is missing: HyperPod runs it on every new node "
                        "(LifeCycleConfig.OnCreate); add it to the lifecycle_scripts folder."
                    ),
                ),
                self._zones_have_a_subnet(),
            ],
            depends_on=[
                *self.execution_role.grants,
                *self.security_group.rules,
                *self.scripts.objects,
                self.helm.release,
            ],
        )
        self.addons = HyperPodAddons(
            self,
            "addons",
            aws=aws,
            props=HyperPodAddonsProps(
                config=config,
                name=name,
                eks_cluster_name=eks_cluster.name,
                kubernetes_version=eks_cluster.version,
                hyperpod_cluster_arn=self.cluster.arn,
                hyperpod_cluster=self.cluster.resource,
                load_balancer_controller=props.load_balancer_controller,
            ),
        )
        self._outputs()

    def _instance_group(self, props: HyperPodProps, group: InstanceGroupConfig) -> InstanceGroupSpec:
        """The configured group rendered from the same table as the deployed expression, with
        the cdktf tokens of the references, for the synth-time schema check."""
        context = self.group_context
        return InstanceGroupSpec(
            config=group,
            context=context,
            references={
                context.execution_role_arn.text: self.execution_role.arn,
                context.scripts_bucket_name.text: self.scripts.bucket.bucket,
                context.security_group_id.text: self.security_group.id,
                context.private_subnet_ids.text: props.private_subnet_ids,
                context.private_subnet_zones.text: props.private_subnet_zones,
            },
            matchkeys=lambda ids, zones, search: Token.as_list(Fn.matchkeys(ids, zones, search)),
        )

    def _zones_have_a_subnet(self) -> Precondition:
        """Every group pinned to a zone finds a private subnet there (subnets are spread over
        the zones found at apply time)."""
        condition = zones_have_a_subnet(self.group_context)
        return Precondition(
            condition="${" + condition.hcl() + "}",
            error_message=(
                "An instance group's availability_zone has no private subnet (the VPC uses the region's "
                "first vpc.max_azs zones): choose one of those zones."
            ),
        )

    def _outputs(self) -> None:
        TerraformOutput(self, "hyperpod_cluster_arn", value=self.cluster.arn, description="HyperPod cluster ARN")
        TerraformOutput(
            self,
            "hyperpod_cluster_name",
            value=self.cluster.reported("ClusterName"),
            description="HyperPod cluster name",
        )
        TerraformOutput(
            self,
            "hyperpod_cluster_status",
            value=self.cluster.reported("ClusterStatus"),
            description="HyperPod cluster status when Terraform last read it",
        )
        TerraformOutput(
            self,
            "hyperpod_execution_role_arn",
            value=self.execution_role.arn,
            description="Role the HyperPod instances run with",
        )
        TerraformOutput(
            self,
            "lifecycle_scripts_bucket",
            value=self.scripts.bucket.bucket,
            description="Bucket holding the HyperPod lifecycle scripts",
        )


class _SubnetLocals(Construct):
    """The private subnets and their zones as locals, so expressions written as text (the
    instance groups' placement) can name them."""

    def __init__(self, scope: Construct, props: HyperPodProps):
        super().__init__(scope, "private_subnets")
        stack = _readable_stack(self)
        self.ids = TerraformLocal(self, "ids", props.private_subnet_ids)
        self.zones = TerraformLocal(self, "zones", props.private_subnet_zones)
        self.ids_reference = f"local.{stack.get_logical_id(self.ids)}"
        self.zones_reference = f"local.{stack.get_logical_id(self.zones)}"
