"""The reference data kept in the project agrees with its sources and with itself."""

from __future__ import annotations

import hashlib
import json

from modules.config import aws_api, cfn
from modules.config.hyperpod_instance_types import INSTANCE_TYPES
from scripts.refresh_reference_data import DATA, copies


def test_the_botocore_extracts_match_the_installed_botocore():
    """botocore is pinned (scripts/requirements.txt): an upgrade shows here as a diff to
    review, written by python -m scripts.refresh_reference_data."""
    for name, content in copies().items():
        assert json.loads((DATA / name).read_text()) == content, f"{name} is stale: run python -m scripts.refresh_reference_data"


def test_the_published_schema_is_the_recorded_copy():
    recorded = (DATA / "SOURCES.md").read_text()
    digest = hashlib.sha256(cfn.SCHEMA_FILE.read_bytes()).hexdigest()
    assert digest in recorded, "AWS_SageMaker_Cluster.json changed: record its source, version and sha256"
    assert cfn.schema()["typeName"] == cfn.TYPE_NAME


def test_every_hyperpod_type_the_platform_knows_is_offered_by_the_api():
    offered = set(aws_api.hyperpod_instance_types())
    assert sorted(set(INSTANCE_TYPES) - offered) == []


def test_api_limits_read_the_model():
    assert aws_api.sagemaker_shape("ClusterInstanceGroupSpecifications")["max"] == 100
    assert [type(c).__name__ for c in aws_api.api_limits("ClusterInstanceCount")] == ["Ge", "Le"]
    assert "us-west-2" in aws_api.regions() and aws_api.regions()["us-gov-west-1"] == "aws-us-gov"
