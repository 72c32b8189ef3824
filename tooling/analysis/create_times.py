"""Typical create times per resource type, in seconds, for the estimated critical path.

Rough public figures for an uncontended account and region; what matters is their order
of magnitude (an EKS control plane takes minutes, an IAM attachment seconds). Types not
listed count as DEFAULT_SECONDS.
"""

from __future__ import annotations

DEFAULT_SECONDS = 5.0

CREATE_SECONDS: dict[str, float] = {
    "aws_eks_cluster": 600,
    "aws_eks_node_group": 240,
    "aws_eks_addon": 60,
    "aws_eks_access_entry": 5,
    "aws_eks_access_policy_association": 5,
    "aws_eks_pod_identity_association": 5,
    "aws_nat_gateway": 120,
    "aws_eip": 5,
    "aws_vpc": 10,
    "aws_subnet": 10,
    "aws_internet_gateway": 10,
    "aws_route_table": 5,
    "aws_route": 5,
    "aws_kms_key": 20,
    "aws_iam_role": 5,
    "aws_iam_policy": 5,
    "aws_launch_template": 5,
    "aws_security_group": 5,
    "aws_cloudwatch_log_group": 5,
    "aws_sqs_queue": 30,
    "aws_s3_bucket": 10,
    "aws_prometheus_workspace": 60,
    # Cloud Control resources other than the HyperPod cluster (task governance policies):
    # one API call and a status poll.
    "aws_cloudcontrolapi_resource": 30,
    "helm_release": 120,
}

# Resources whose time is not their type's, by ``<type>.<name>`` (in any module).
CREATE_SECONDS_BY_NAME: dict[str, float] = {
    # The SageMaker HyperPod cluster (Cloud Control): provisioning and deep health checks.
    "aws_cloudcontrolapi_resource.cluster": 1500,
}


def create_seconds(address: str) -> float:
    """The estimate for a resource address, in a module or not (data sources read in
    about a second)."""
    while address.startswith("module."):
        address = address.split(".", 2)[2]
    if address.startswith("data."):
        return 1.0
    name = address.split("[", 1)[0]
    if name in CREATE_SECONDS_BY_NAME:
        return CREATE_SECONDS_BY_NAME[name]
    resource_type = address.split(".", 1)[0]
    return CREATE_SECONDS.get(resource_type, DEFAULT_SECONDS)
