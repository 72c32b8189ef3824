"""SageMaker HyperPod orchestrated by an EKS cluster, as a Terraform module (``SOURCE``):
lifecycle scripts, execution role, node security group, helm dependencies, the cluster,
its add-ons and outputs."""

from .helm_dependencies import CHART_IN_CHECKOUT, CHECKOUT_DIR
from .module import SETTINGS, SOURCE, HyperPodModule

# Where scripts/fetch-hyperpod-chart.sh checks the dependencies chart out, below the project.
CHART_CHECKOUT = f"{CHECKOUT_DIR}/{CHART_IN_CHECKOUT}"

__all__ = ["CHART_CHECKOUT", "SETTINGS", "SOURCE", "HyperPodModule"]
