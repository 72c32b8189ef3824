"""The ``terraform`` block: Terraform version, provider sources and versions, backend.

The output must work as a root module with plain ``terraform`` on any machine: providers
named by their full registry source, versions that accept patch releases, and a backend
with no absolute path.
"""

from __future__ import annotations

from cdktf import LocalBackend, S3Backend, TerraformProvider, TerraformStack

from modules.config.platform import PlatformConfig
from modules.config.versions import PROVIDER_REQUIREMENTS, REQUIRED_TERRAFORM_VERSION

# Terraform runs in cdktf.out/stacks/<stack>/: the project root is three levels up.
PROJECT_ROOT_FROM_STACK = "../../.."


def configure_backend(stack: TerraformStack, config: PlatformConfig) -> None:
    state = config.state
    if state.backend == "s3":
        S3Backend(
            stack,
            bucket=state.s3_bucket,
            key=state.s3_key or f"{config.name}/terraform.tfstate",
            region=state.s3_region or config.region,
            encrypt=True,
        )
        # S3-native locking (no DynamoDB table); cdktf 0.21's S3Backend predates the option.
        stack.add_override("terraform.backend.s3.use_lockfile", True)
        return
    # State lives beside cdktf.json, outside the output folder that each synth replaces;
    # the path is relative so the output is the same on every machine.
    local_path = state.local_path or f"terraform.{config.name}.tfstate"
    LocalBackend(stack, path=f"{PROJECT_ROOT_FROM_STACK}/{local_path}")


def pin_terraform_and_providers(stack: TerraformStack) -> None:
    """Call once every provider of the stack exists."""
    stack.add_override("terraform.required_version", REQUIRED_TERRAFORM_VERSION)
    names = sorted({p.terraform_resource_type for p in stack.node.find_all() if isinstance(p, TerraformProvider)})
    for name in names:
        if name not in PROVIDER_REQUIREMENTS:
            raise ValueError(f"provider {name!r} has no entry in PROVIDER_REQUIREMENTS")
        source, version = PROVIDER_REQUIREMENTS[name]
        stack.add_override(f"terraform.required_providers.{name}", {"source": source, "version": version})
