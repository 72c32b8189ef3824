"""The lifecycle-scripts bucket and one object per file of ``lifecycle_scripts/``."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cdktf_cdktf_provider_aws.s3_object import S3Object
from constructs import Construct

from modules.core.private_bucket import PrivateBucket


from modules.core.module import MODULE_ROOT, REPO_ROOT

SCRIPTS_DIR = REPO_ROOT / "lifecycle_scripts"
ON_CREATE_SCRIPT = "on_create.sh"

# AmazonSageMakerClusterInstanceRolePolicy reaches only buckets named sagemaker-*.
BUCKET_NAME_PREFIX = "sagemaker-"
# S3 adds a 26-character unique suffix to bucket_prefix; names are at most 63 characters.
MAX_BUCKET_PREFIX = 37


def bucket_prefix(name_reference: str) -> str:
    """``sagemaker-<name>-``, the name cut by Terraform to fit (``name_reference`` is
    ``var.name``, known at plan time)."""
    room = MAX_BUCKET_PREFIX - len(BUCKET_NAME_PREFIX) - 1
    return f'{BUCKET_NAME_PREFIX}${{trimsuffix(substr({name_reference}, 0, {room}), "-")}}-'


@dataclass(frozen=True)
class ScriptFile:
    key: str
    """Object key: the path below ``lifecycle_scripts/``, with forward slashes."""
    source: str
    """Where Terraform finds it: the module's copy of the folder, so the output is the same
    on every machine."""
    md5: str
    """The MD5 of its content, the upload's ``source_hash``: under SSE-KMS S3's ETag is not
    the content's MD5, so ``etag`` would show a change on every plan."""


def script_source(key: str, scripts_dir: Path = SCRIPTS_DIR) -> str:
    """Where Terraform finds the file ``key`` of the scripts folder (copied into the module)."""
    return f"{MODULE_ROOT}/{scripts_dir.name}/{key}"


def script_files(scripts_dir: Path = SCRIPTS_DIR) -> list[ScriptFile]:
    """Every file below ``scripts_dir``, read now so the upload tracks each file's content."""
    files = []
    for path in sorted(p for p in scripts_dir.rglob("*") if p.is_file()):
        relative = PurePosixPath(path.relative_to(scripts_dir).as_posix())
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        files.append(
            ScriptFile(
                key=str(relative),
                source=script_source(str(relative), scripts_dir),
                md5=hashlib.md5(path.read_bytes()).hexdigest(),  # noqa: S324 - S3's ETag, not security
            )
        )
    return files


def _object_id(key: str) -> str:
    return "script_" + re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").lower()


class LifecycleScripts(Construct):
    """A private, versioned, TLS-only bucket holding the node lifecycle scripts, encrypted with
    the module's customer managed key."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_reference: str,
        kms_key_arn: str | None = None,
        files: list[ScriptFile] | None = None,
    ):
        super().__init__(scope, construct_id)
        # Old versions of replaced scripts are kept a month (to see what a node ran), then go.
        # The scripts live in git: destroying the platform may delete every version of them.
        self.private_bucket = PrivateBucket(
            self,
            "bucket",
            bucket_prefix=bucket_prefix(name_reference),
            force_destroy=True,
            noncurrent_days=30,
            kms_key_arn=kms_key_arn,
        )
        self.bucket = self.private_bucket.bucket
        bucket_id = self.bucket.id
        files = script_files() if files is None else files
        if ON_CREATE_SCRIPT not in {file.key for file in files}:
            raise FileNotFoundError(
                f"lifecycle_scripts/{ON_CREATE_SCRIPT} is missing: HyperPod runs it on every new node "
                "(LifeCycleConfig.OnCreate); add it to the lifecycle_scripts folder"
            )
        self.objects = [
            S3Object(
                self,
                _object_id(file.key),
                bucket=bucket_id,
                key=file.key,
                source=file.source,
                source_hash=file.md5,
            )
            for file in files
        ]

    @staticmethod
    def source_of(key: str) -> str:
        return script_source(key)

    @property
    def source_uri(self) -> str:
        return f"s3://{self.bucket.bucket}"

    @property
    def arn(self) -> str:
        return self.bucket.arn
