"""Availability zone names as the configuration takes them (HyperPod instance groups and
node pools, Karpenter pools): a leaf module, so both sections import the one description."""

from __future__ import annotations

from typing import Annotated

from .patterns import described

AVAILABILITY_ZONE_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$"
AvailabilityZone = Annotated[str, described(AVAILABILITY_ZONE_PATTERN, "an availability zone name such as us-west-2a")]
