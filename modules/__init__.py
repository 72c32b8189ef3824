"""Constructs and configuration of the ML training platform (VPC, EKS, Karpenter, HyperPod)."""
