"""IAM roles for Kubernetes service accounts through EKS Pod Identity."""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.eks_pod_identity_association import EksPodIdentityAssociation
from constructs import Construct

from .iam import ServiceRole, service_trust

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


class PodIdentityRole(Construct):
    """A role trusted by ``pods.eks.amazonaws.com`` and bound to one service account."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        role_name: str,
        description: str,
        namespace: str,
        service_account: str,
        inline_policies: dict[str, str] | None = None,
        managed_policy_arns: dict[str, str] | None = None,
        trust_conditions: dict[str, dict[str, Any]] | None = None,
    ):
        """``trust_conditions``: keys the EKS Auth service sets when it assumes the role
        (``aws:SourceAccount``, ``aws:SourceArn`` of the cluster), so only this cluster can."""
        super().__init__(scope, construct_id)
        # Pod Identity needs sts:TagSession next to sts:AssumeRole (it tags each session).
        self.service_role = ServiceRole(
            self,
            "role",
            name=role_name,
            description=description,
            trust_policy=service_trust(
                POD_IDENTITY_PRINCIPAL, sid="EksPodIdentity", tag_session=True, conditions=trust_conditions
            ),
            inline_policies=inline_policies,
            managed_policy_arns=managed_policy_arns,
        )
        self.association = EksPodIdentityAssociation(
            self,
            "association",
            cluster_name=cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=self.service_role.arn,
        )

    @property
    def arn(self) -> str:
        return self.service_role.arn

    @property
    def grants(self) -> list[Construct]:
        """Depend on these (not only the role) so the pod starts with its permissions."""
        return [*self.service_role.grants, self.association]
