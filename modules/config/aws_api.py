"""What the AWS APIs accept, from the copies of botocore's service data kept in ``data/``
(``scripts/refresh_reference_data.py`` writes them; a test compares them with the
installed botocore): the SageMaker CreateCluster limits the CloudFormation schema leaves
out (at most 100 instance groups, 6758 instances a group, 50 labels...), the instance
types HyperPod offers, and the regions of every partition.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import annotated_types as at

DATA = Path(__file__).with_name("data")


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def sagemaker_shape(name: str) -> dict[str, Any]:
    return _load("sagemaker_api.json")["shapes"][name]


def api_limits(shape: str) -> list[Any]:
    """A SageMaker API shape's min and max as annotated-types metadata: item counts for
    lists and maps, lengths for strings, bounds for integers."""
    node = sagemaker_shape(shape)
    if node["type"] == "integer":
        return [at.Ge(node["min"])] * ("min" in node) + [at.Le(node["max"])] * ("max" in node)
    return [at.MinLen(node["min"])] * ("min" in node and node["min"] > 0) + [at.MaxLen(node["max"])] * ("max" in node)


def hyperpod_instance_types() -> tuple[str, ...]:
    """The instance types the SageMaker API offers for HyperPod clusters."""
    return tuple(sagemaker_shape("ClusterInstanceType")["enum"])


@cache
def regions() -> dict[str, str]:
    """Region name -> partition, for every region botocore's copy knows."""
    return {region: partition for partition, names in _load("aws_regions.json")["regions"].items() for region in names}


def source_of(name: str) -> str:
    return _load(name)["source"]
