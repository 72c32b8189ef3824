"""SageMaker HyperPod orchestrated by an EKS cluster, as a Terraform module (``SOURCE``):
lifecycle scripts, execution role, node security group, helm dependencies, the cluster,
its add-ons and outputs."""

from pathlib import Path

from .helm_dependencies import CHART_IN_CHECKOUT, CHECKOUT_DIR, FETCH_SCRIPT
from .module import SETTINGS, SOURCE, HyperPodModule, root_setting_values

# The dependencies chart as the fetch script leaves it, relative to the project root.
CHART_CHECKOUT = Path(CHECKOUT_DIR) / CHART_IN_CHECKOUT

__all__ = ["CHART_CHECKOUT", "FETCH_SCRIPT", "SETTINGS", "SOURCE", "HyperPodModule", "root_setting_values"]
