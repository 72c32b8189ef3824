"""Cluster admin for whoever runs the deployment, through an EKS access entry."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_session_context import DataAwsIamSessionContext
from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.eks_access_policy_association import (
    EksAccessPolicyAssociation,
    EksAccessPolicyAssociationAccessScope,
)
from constructs import Construct

from modules.core.aws_context import AwsContext

CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"


class CreatorAdminAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, cluster_name: str):
        super().__init__(scope, construct_id)
        # An assumed-role caller's ARN names the session; access entries need the role.
        session = DataAwsIamSessionContext(self, "session", arn=aws.caller.arn)
        entry = EksAccessEntry(
            self, "entry", cluster_name=cluster_name, principal_arn=session.issuer_arn, type="STANDARD"
        )
        self.policy_association = EksAccessPolicyAssociation(
            self,
            "cluster_admin",
            cluster_name=cluster_name,
            principal_arn=entry.principal_arn,
            policy_arn=f"arn:{aws.partition}:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}",
            access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"),
        )
