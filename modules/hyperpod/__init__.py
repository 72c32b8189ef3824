"""SageMaker HyperPod orchestrated by the stack's EKS cluster: lifecycle scripts, execution
role, node security group, helm dependencies, the cluster, its add-ons and outputs."""

from .hyperpod import HyperPod, HyperPodProps, add_hyperpod

__all__ = ["HyperPod", "HyperPodProps", "add_hyperpod"]
