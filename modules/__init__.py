"""Constructs and configuration of the ML training platform (VPC, EKS, Karpenter, HyperPod).

Importing this package has no side effects: ``modules.config`` loads without cdktf, and
the entry points prepare the jsii runtime themselves (``cli.runtime.prepare``).
"""
