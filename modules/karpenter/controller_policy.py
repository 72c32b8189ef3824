"""What Karpenter's controller may do, split by concern into documents that each fit the
6,144-character limit of a managed policy.

The statements follow the controller policy Karpenter publishes for v1 (its CloudFormation
reference): instances, launch templates and instance profiles are reachable only when they
carry this cluster's ownership tags, and ARNs name this account, region and cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from modules.core.aws_context import AwsContext
from modules.core.iam import Statement


@dataclass(frozen=True)
class ControllerScope:
    cluster_name: str
    node_role_arn: str
    queue_arn: str

    @property
    def ownership_tag(self) -> str:
        return f"kubernetes.io/cluster/{self.cluster_name}"


def controller_policies(aws: AwsContext, scope: ControllerScope) -> dict[str, tuple[Statement, ...]]:
    """Statements per concern, keyed by the short name their managed policy gets."""
    return {
        "node-lifecycle": node_lifecycle(aws, scope),
        "iam-integration": iam_integration(aws, scope),
        "eks-integration": eks_integration(aws, scope),
        "interruption": interruption(scope),
        "resource-discovery": resource_discovery(aws),
    }


def _ec2(aws: AwsContext, *resources: str, account: bool = True) -> tuple[str, ...]:
    return tuple(aws.arn("ec2", resource, account=account) for resource in resources)


LAUNCHED_RESOURCES = (
    "fleet/*",
    "instance/*",
    "volume/*",
    "network-interface/*",
    "launch-template/*",
    "spot-instances-request/*",
)
LAUNCH_ACTIONS = ("ec2:RunInstances", "ec2:CreateFleet")


def node_lifecycle(aws: AwsContext, scope: ControllerScope) -> tuple[Statement, ...]:
    owned = {f"aws:ResourceTag/{scope.ownership_tag}": "owned"}
    in_a_node_pool = {"StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}
    requested_tags = {
        f"aws:RequestTag/{scope.ownership_tag}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": scope.cluster_name,
    }
    requests_a_node_pool = {"StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}
    return (
        Statement(
            "LaunchFromSharedResources",
            LAUNCH_ACTIONS,
            _ec2(aws, "image/*", "snapshot/*", account=False)
            + _ec2(aws, "security-group/*", "subnet/*", "capacity-reservation/*", "placement-group/*"),
        ),
        Statement(
            "LaunchFromOwnLaunchTemplates",
            LAUNCH_ACTIONS,
            _ec2(aws, "launch-template/*"),
            conditions={"StringEquals": owned, **in_a_node_pool},
        ),
        Statement(
            "CreateTaggedNodeResources",
            (*LAUNCH_ACTIONS, "ec2:CreateLaunchTemplate"),
            _ec2(aws, *LAUNCHED_RESOURCES),
            conditions={"StringEquals": requested_tags, **requests_a_node_pool},
        ),
        Statement(
            "TagNodeResourcesOnCreation",
            ("ec2:CreateTags",),
            _ec2(aws, *LAUNCHED_RESOURCES),
            conditions={
                "StringEquals": {
                    **requested_tags,
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
                **requests_a_node_pool,
            },
        ),
        Statement(
            "TagOwnInstances",
            ("ec2:CreateTags",),
            _ec2(aws, "instance/*"),
            conditions={
                "StringEquals": owned,
                **in_a_node_pool,
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": scope.cluster_name},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
        ),
        Statement(
            "DeleteOwnInstancesAndLaunchTemplates",
            ("ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"),
            _ec2(aws, "instance/*", "launch-template/*"),
            conditions={"StringEquals": owned, **in_a_node_pool},
        ),
    )


def iam_integration(aws: AwsContext, scope: ControllerScope) -> tuple[Statement, ...]:
    profiles = (aws.arn("iam", "instance-profile/*", region=False),)
    owned_here = {
        f"aws:ResourceTag/{scope.ownership_tag}": "owned",
        "aws:ResourceTag/topology.kubernetes.io/region": aws.region,
    }
    requested_here = {
        f"aws:RequestTag/{scope.ownership_tag}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": scope.cluster_name,
        "aws:RequestTag/topology.kubernetes.io/region": aws.region,
    }
    return (
        Statement(
            "PassNodeRoleToEc2",
            ("iam:PassRole",),
            (scope.node_role_arn,),
            conditions={"StringEquals": {"iam:PassedToService": f"ec2.{aws.dns_suffix}"}},
        ),
        Statement(
            "CreateTaggedInstanceProfiles",
            ("iam:CreateInstanceProfile",),
            profiles,
            conditions={
                "StringEquals": requested_here,
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        Statement(
            "TagOwnInstanceProfiles",
            ("iam:TagInstanceProfile",),
            profiles,
            conditions={
                "StringEquals": {**owned_here, **requested_here},
                "StringLike": {
                    "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                },
            },
        ),
        Statement(
            "ManageOwnInstanceProfiles",
            ("iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"),
            profiles,
            conditions={
                "StringEquals": owned_here,
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        Statement("ReadInstanceProfiles", ("iam:GetInstanceProfile",), profiles),
        # Listing is not scoped to a resource by IAM (it is evaluated against the account);
        # Karpenter lists profiles to garbage-collect the ones it created.
        Statement("ListInstanceProfiles", ("iam:ListInstanceProfiles",), ("*",)),
    )


def eks_integration(aws: AwsContext, scope: ControllerScope) -> tuple[Statement, ...]:
    cluster = aws.arn("eks", f"cluster/{scope.cluster_name}")
    return (Statement("DiscoverApiServerEndpoint", ("eks:DescribeCluster",), (cluster,)),)


def interruption(scope: ControllerScope) -> tuple[Statement, ...]:
    return (
        Statement(
            "ConsumeInterruptionQueue",
            ("sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"),
            (scope.queue_arn,),
        ),
    )


REGIONAL_READ_ACTIONS = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeCapacityReservations",
    "ec2:DescribeImages",
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeInstanceTypeOfferings",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribePlacementGroups",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSpotPriceHistory",
    "ec2:DescribeSubnets",
)


def resource_discovery(aws: AwsContext) -> tuple[Statement, ...]:
    return (
        # EC2 Describe* calls and the Price List API have no resource-level permissions:
        # "*" is the only resource they accept. The region condition narrows the first.
        Statement(
            "DescribeInThisRegion",
            REGIONAL_READ_ACTIONS,
            ("*",),
            conditions={"StringEquals": {"aws:RequestedRegion": aws.region}},
        ),
        Statement("ReadPublicAmiParameters", ("ssm:GetParameter",), (aws.arn("ssm", "parameter/aws/service/*", account=False),)),
        Statement("ReadPrices", ("pricing:GetProducts",), ("*",)),
    )
