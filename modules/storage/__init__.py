"""Shared storage for training: FSx for Lustre and S3 buckets mounted with Mountpoint,
each through its CSI driver (an EKS add-on with a Pod Identity role), with the Lustre
security group rules on the nodes and the StorageClass, volumes and claims pods mount."""

from .storage import Storage, StorageProps

__all__ = ["Storage", "StorageProps"]
