"""The IAM role of the nodes Karpenter launches, and the access entry that lets them join."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.iam import ServiceRole, service_trust
from modules.core.nodes import NODE_MANAGED_POLICIES


class NodeRole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, name: str, cluster_name: str):
        super().__init__(scope, construct_id)
        self.role_name = f"{name}-karpenter-node"
        self.service_role = ServiceRole(
            self,
            "role",
            name=self.role_name,
            description=f"Nodes Karpenter launches for {name}",
            trust_policy=service_trust(f"ec2.{aws.dns_suffix}"),
            managed_policy_arns={k: aws.managed_policy_arn(v) for k, v in NODE_MANAGED_POLICIES.items()},
        )
        # Karpenter builds the instance profile from the role; the access entry maps the
        # role to the system:nodes group so the kubelet can register.
        self.access_entry = EksAccessEntry(
            self,
            "access_entry",
            cluster_name=cluster_name,
            principal_arn=self.service_role.arn,
            type="EC2_LINUX",
        )

    @property
    def arn(self) -> str:
        return self.service_role.arn

    @property
    def grants(self) -> list[Construct]:
        return [*self.service_role.grants, self.access_entry]
