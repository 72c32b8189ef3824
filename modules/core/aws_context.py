"""Who and where the deployment runs: partition, account and region, read once per stack."""

from __future__ import annotations

from functools import cached_property

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct


class AwsContext(Construct):
    def __init__(self, scope: Construct, construct_id: str, region: str):
        super().__init__(scope, construct_id)
        self.region = region
        self._partition = DataAwsPartition(self, "partition")
        self.caller = DataAwsCallerIdentity(self, "caller")

    # Each reference token is read once: a read is a call into the jsii runtime, and one
    # token resolves to the same reference wherever it is used.
    @cached_property
    def partition(self) -> str:
        return self._partition.partition

    @cached_property
    def account_id(self) -> str:
        return self.caller.account_id

    @cached_property
    def dns_suffix(self) -> str:
        return self._partition.dns_suffix

    def managed_policy_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )
