"""``state.*``: where Terraform keeps the state of this stack."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from .aws_api import regions, source_of
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

    @field_validator("s3_bucket")
    @classmethod
    def _s3_naming_rules(cls, value: str) -> str:
        return s3_bucket_name(value) if value else value

    @field_validator("s3_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value and value not in regions():
            raise ValueError(f"no AWS region {value} in {source_of('aws_regions.json')}")
        return value

    @model_validator(mode="after")
    def _s3_has_a_bucket(self) -> "StateConfig":
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("state.s3_bucket must name the state bucket when state.backend is s3")
        return self


# Prefixes and suffixes S3 reserves for its own names (access points, Outposts, directory
# buckets, table buckets, examples).
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why S3 would refuse ``name`` as a general purpose bucket name, or None."""
    if not BUCKET_PATTERN.fullmatch(name):
        return "must be 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if ".." in name:
        return "must not hold two dots in a row"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return "must not look like an IP address"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return f"must not start with {', '.join(_RESERVED_PREFIXES)} or end with {', '.join(_RESERVED_SUFFIXES)}"
    return None


def s3_bucket_name(name: str) -> str:
    """``name``, or a ValueError saying which S3 naming rule it breaks."""
    problem = bucket_name_problem(name)
    if problem:
        raise ValueError(f"{problem} (S3 bucket naming rules)")
    return name


# A general purpose bucket's name, for every section that names one.
S3BucketName = Annotated[str, AfterValidator(s3_bucket_name)]
