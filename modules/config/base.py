"""Shared base of every configuration section."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A strict, immutable configuration section.

    Unknown keys are errors (a typo must never be silently ignored) and values are not
    coerced across types ("2" is not a number), so what the YAML says is what is deployed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)


# Retention values CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)


def check_log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return value
