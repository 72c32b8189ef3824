"""The subnet CIDR plan, as ``cidrsubnet`` arguments per tier.

Private subnets (nodes and pods, the bulk of the addresses) fill the first half of the VPC,
public subnets start at the third quarter and intra subnets at the fourth, one subnet per AZ.
For 10.0.0.0/16: private 10.0.0.0/20, 10.0.16.0/20, ...; public 10.0.128.0/24, ...;
intra 10.0.192.0/24, ...
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Op, Token

from modules.config.network import VpcConfig


@dataclass(frozen=True)
class SubnetTier:
    name: str
    newbits: int
    first_netnum: int

    def netnum(self, index: float) -> float:
        """The ``cidrsubnet`` netnum of the subnet at ``index`` (a number or a count token)."""
        return Token.as_number(Op.add(self.first_netnum, index)) if self.first_netnum else index


def subnet_tiers(vpc: VpcConfig) -> dict[str, SubnetTier]:
    base = vpc.network.prefixlen

    def tier(name: str, prefix: int, start_fraction: tuple[int, int]) -> SubnetTier:
        newbits = prefix - base
        numerator, denominator = start_fraction
        return SubnetTier(name, newbits, (2**newbits) * numerator // denominator)

    return {
        "private": tier("private", vpc.private_subnet_prefix, (0, 1)),
        "public": tier("public", vpc.public_subnet_prefix, (1, 2)),
        "intra": tier("intra", vpc.intra_subnet_prefix, (3, 4)),
    }
