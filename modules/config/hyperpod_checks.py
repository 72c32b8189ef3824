"""Small checks the HyperPod configuration sections share."""

from __future__ import annotations

from collections.abc import Iterable


def repeated(values: Iterable[str]) -> list[str]:
    """The values that appear more than once, sorted (for "names X twice" messages)."""
    values = list(values)
    return sorted({value for value in values if values.count(value) > 1})
