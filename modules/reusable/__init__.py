"""Self-contained Terraform modules (Karpenter, HyperPod) built from the same constructs
as the platform stack, for HCL teams that bring their own EKS cluster (``--modules``)."""

from .build import MODULES, write_modules

__all__ = ["MODULES", "write_modules"]
