"""The EKS cluster: KMS-encrypted secrets, control-plane logs, access entries, core
add-ons and the system node group that runs Karpenter."""

from .cluster_access import ClusterAccess
from .eks import Eks, EksProps

__all__ = ["ClusterAccess", "Eks", "EksProps"]
