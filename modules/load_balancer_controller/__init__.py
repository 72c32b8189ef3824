"""The AWS Load Balancer Controller with its published IAM policy, through Pod Identity."""

from .load_balancer_controller import LoadBalancerController, LoadBalancerControllerProps

__all__ = ["LoadBalancerController", "LoadBalancerControllerProps"]
