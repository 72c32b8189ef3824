"""The VPC: public, private and intra subnets in every availability zone of the region."""

from .cidr_plan import SubnetTier, subnet_tiers
from .vpc import Network, NetworkProps

__all__ = ["Network", "NetworkProps", "SubnetTier", "subnet_tiers"]
