"""The controller's IAM role: one managed policy per concern, bound to the controller's
service account through EKS Pod Identity."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.iam import policy_document
from modules.core.pod_identity import PodIdentityRole

from .controller_policy import ControllerScope, controller_policies

CONTROLLER_NAMESPACE = "kube-system"
CONTROLLER_SERVICE_ACCOUNT = "karpenter"


class ControllerRole(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, aws: AwsContext, controller: ControllerScope, cluster_name_ref: str
    ):
        super().__init__(scope, construct_id)
        name = controller.cluster_name
        self.policies = {
            concern: IamPolicy(
                self,
                f"policy_{concern.replace('-', '_')}",
                name=f"{name}-karpenter-{concern}",
                description=f"Karpenter controller of {name}: {concern.replace('-', ' ')}",
                policy=policy_document(*statements),
            )
            for concern, statements in controller_policies(aws, controller).items()
        }
        self.identity = PodIdentityRole(
            self,
            "identity",
            cluster_name=cluster_name_ref,
            role_name=f"{name}-karpenter-controller",
            description=f"Karpenter controller of {name}",
            namespace=CONTROLLER_NAMESPACE,
            service_account=CONTROLLER_SERVICE_ACCOUNT,
            managed_policy_arns={concern.replace("-", "_"): policy.arn for concern, policy in self.policies.items()},
        )

    @property
    def grants(self) -> list[Construct]:
        return self.identity.grants
