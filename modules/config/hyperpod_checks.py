"""Small checks and wordings the HyperPod configuration sections share."""

from __future__ import annotations

from collections.abc import Iterable

# SageMaker's entity-name pattern (clusters, instance groups, quotas, policies), in words.
SAGEMAKER_NAME_HINT = "1-63 letters, digits and hyphens, starting and ending with a letter or digit"


def repeated(values: Iterable[str]) -> list[str]:
    """The values that appear more than once, sorted (for "names X twice" messages)."""
    values = list(values)
    return sorted({value for value in values if values.count(value) > 1})
