"""``state.*``: where Terraform keeps the state of this stack."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Section

BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class StateConfig(Section):
    backend: Literal["local", "s3"] = Field(
        default="local",
        description="`local` keeps state in a file beside cdktf.json; `s3` in a bucket with S3-native locking.",
    )
    local_path: str = Field(
        default="",
        description="Local state file, relative to the project root (default terraform.<name>.tfstate).",
    )
    s3_bucket: str = Field(default="", description="Bucket for remote state (backend s3).")
    s3_key: str = Field(default="", description="Object key of the state (default <name>/terraform.tfstate).")
    s3_region: str = Field(default="", description="Region of the state bucket (default: the platform's region).")

    @field_validator("local_path")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError("must be a path inside the project, relative to it (the output must stay portable)")
        return value

    @model_validator(mode="after")
    def _s3_has_a_bucket(self) -> "StateConfig":
        if self.backend == "s3" and not BUCKET_PATTERN.match(self.s3_bucket):
            raise ValueError(
                f"state.s3_bucket {self.s3_bucket!r} must name an S3 bucket (3-63 lowercase letters, "
                "digits, dots and hyphens) when state.backend is s3"
            )
        return self
