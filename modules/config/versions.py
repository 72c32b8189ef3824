"""The platform's own version, and the Terraform and provider versions the synthesized
configuration requires.

The provider versions are those the pinned prebuilt bindings (requirements.txt) were
generated from; ``~>`` admits their patch releases.
"""

from __future__ import annotations

# The platform's release (semantic versioning; CHANGELOG.md describes each). The root
# module records it as the output `platform_version`, so a deployment says what made it.
PLATFORM_VERSION = "2.0.0"

# S3-native state locking (use_lockfile) needs Terraform 1.10.
REQUIRED_TERRAFORM_VERSION = ">= 1.10.0"

# Provider name in the bindings -> (registry source, version constraint).
PROVIDER_REQUIREMENTS: dict[str, tuple[str, str]] = {
    "aws": ("hashicorp/aws", "~> 6.25.0"),
    "helm": ("hashicorp/helm", "~> 3.1.1"),
    "kubernetes": ("hashicorp/kubernetes", "~> 2.38.0"),
}
