"""SageMaker HyperPod orchestrated by an EKS cluster, as a Terraform module (``SOURCE``):
lifecycle scripts, execution role, node security group, helm dependencies, the cluster,
its add-ons and outputs."""

from .module import SETTINGS, SOURCE, HyperPodModule, root_setting_values

__all__ = ["SETTINGS", "SOURCE", "HyperPodModule", "root_setting_values"]
