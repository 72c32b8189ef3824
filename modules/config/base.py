"""Shared base of every configuration section."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A strict, immutable configuration section.

    Unknown keys are errors (a typo must never be silently ignored) and values are not
    coerced across types ("2" is not a number), so what the YAML says is what is deployed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)
