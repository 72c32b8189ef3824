"""Terraform variables of the root configuration: what an HCL team sets in terraform.tfvars."""

from .variables import InputSpec, Inputs, Validation, declare_inputs, platform_inputs

__all__ = ["InputSpec", "Inputs", "Validation", "declare_inputs", "platform_inputs"]
