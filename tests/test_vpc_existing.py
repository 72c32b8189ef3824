"""``vpc.existing``: the stack uses a VPC made elsewhere. Refused when incomplete; then
nothing of the network is created but the Karpenter discovery tags (and the endpoints asked
for), and every consumer reads the given ids. Planned and applied with the stand-ins
(their existing subnets spread over the three zones by id)."""

from __future__ import annotations

import json

import pytest

from modules.config import ConfigError, parse_config
from modules.core.nodes import DISCOVERY_TAG
from tests.processes import STACK_DIR, run_main

VPC = "vpc-0a1b2c3d4e5f60718"
PRIVATE = ["subnet-0a000000000000001", "subnet-0a000000000000002", "subnet-0a000000000000003"]
PUBLIC = ["subnet-0b000000000000001", "subnet-0b000000000000002"]
INTRA = ["subnet-0c000000000000001", "subnet-0c000000000000002", "subnet-0c000000000000003"]
ROUTE_TABLES = ["rtb-0d000000000000001", "rtb-0d000000000000002"]
EXISTING = {"vpc_id": VPC, "private_subnet_ids": PRIVATE, "public_subnet_ids": PUBLIC, "intra_subnet_ids": INTRA}
USE_EXISTING = {"vpc": {"existing": EXISTING}}
WITH_ENDPOINTS = {
    "vpc": {
        "existing": {**EXISTING, "route_table_ids": ROUTE_TABLES},
        "endpoints": {"s3_gateway": True, "interface": ["ecr.api", "sts"]},
    }
}
# Everything the stack creates for a VPC of its own.
NETWORK_TYPES = (
    "aws_vpc", "aws_subnet", "aws_internet_gateway", "aws_nat_gateway", "aws_eip", "aws_route_table",
    "aws_route", "aws_route_table_association", "aws_flow_log", "aws_default_security_group",
)


def refusal(vpc: dict) -> str:
    with pytest.raises(ConfigError) as refused:
        parse_config({"vpc": vpc})
    return str(refused.value)


@pytest.mark.parametrize("missing", ["vpc_id", "private_subnet_ids", "public_subnet_ids", "intra_subnet_ids"])
def test_incomplete_is_refused_naming_the_key(missing):
    existing = {k: v for k, v in EXISTING.items() if k != missing}
    assert refusal({"existing": existing}) == f"vpc.existing.{missing}: is required"


@pytest.mark.parametrize(
    "vpc, says",
    [
        ({"existing": {**EXISTING, "intra_subnet_ids": INTRA[:1]}}, "vpc.existing.intra_subnet_ids: List should have at least 2 items"),
        ({"existing": {**EXISTING, "private_subnet_ids": []}}, "vpc.existing.private_subnet_ids: List should have at least 1 item"),
        ({"existing": {**EXISTING, "vpc_id": "vpc-123"}}, "vpc.existing.vpc_id: must be a VPC id such as vpc-0123456789abcdef0"),
        ({"existing": {**EXISTING, "intra_subnet_ids": [PRIVATE[0], INTRA[0]]}}, f"subnet {PRIVATE[0]} is listed in private_subnet_ids and intra_subnet_ids"),
        ({"existing": EXISTING, "cidr": "10.9.0.0/16"}, "vpc.cidr configures a VPC the stack creates, but vpc.existing names one to use as it is: remove it"),
        ({"existing": EXISTING, "flow_logs": {"enabled": False}, "max_azs": 3}, "vpc.max_azs, vpc.flow_logs configure"),
        ({"existing": EXISTING, "endpoints": {"s3_gateway": True}}, "list the route tables of its private and intra subnets in vpc.existing.route_table_ids"),
        ({"existing": {**EXISTING, "route_table_ids": ROUTE_TABLES}}, "vpc.existing.route_table_ids serve only the S3 gateway endpoint"),
    ],
)
def test_what_aws_or_the_stack_could_not_use_is_refused(vpc, says):
    assert says in refusal(vpc)


def test_refused_at_synth_with_exit_2_and_nothing_written(tmp_path):
    config = tmp_path / "platform.yaml"
    config.write_text(json.dumps({"vpc": {"existing": {"vpc_id": VPC}}}))
    result = run_main(tmp_path, HYPERPOD_EKS_CONFIG=str(config))
    assert result.returncode == 2
    assert "vpc.existing.private_subnet_ids: is required" in result.stderr
    assert not (tmp_path / STACK_DIR).exists()


@pytest.fixture(scope="module")
def existing(deploy):
    return deploy(USE_EXISTING)


def test_no_network_is_created(existing):
    for resource_type in (*NETWORK_TYPES, "aws_vpc_endpoint"):
        assert existing.of_type(resource_type) == {}, resource_type
    created = {a.split(".")[0] for a in existing.addresses() if a.startswith("aws_") and "network_" in a}
    assert created == {"aws_ec2_tag"}


def test_the_private_subnets_carry_karpenter_discovery(existing):
    tags = existing.of_type("aws_ec2_tag")
    assert sorted(t["resource_id"] for t in tags.values()) == PRIVATE
    assert {(t["key"], t["value"]) for t in tags.values()} == {(DISCOVERY_TAG, "ml-platform")}


def test_eks_uses_the_given_subnets(existing):
    cluster = existing.find("aws_eks_cluster", "eks_control_plane_cluster")
    (vpc_config,) = cluster["vpc_config"]
    assert set(vpc_config["subnet_ids"]) == set(INTRA), "no stand-in zone id is one EKS refuses"
    assert set(existing.find("aws_eks_node_group", "eks_system_nodes_node_group")["subnet_ids"]) == set(PRIVATE)
    for group in ("cluster", "node"):
        assert existing.find("aws_security_group", f"eks_security_groups_{group}")["vpc_id"] == VPC


def test_hyperpod_and_the_load_balancer_controller_use_the_given_vpc(existing):
    state = existing.json_of("aws_cloudcontrolapi_resource", "cluster", "desired_state", module="hyperpod")
    assert state["VpcConfig"]["Subnets"] == PRIVATE
    assert existing.find("aws_security_group", "security_group", module="hyperpod")["vpc_id"] == VPC
    release = existing.find("helm_release", "load_balancer_controller_release")
    assert [s["value"] for s in release["set"] if s["name"] == "vpcId"] == [VPC]


def test_outputs_are_the_given_ids(existing):
    outputs = {name: value["value"] if isinstance(value, dict) else value for name, value in existing.outputs.items()}
    assert outputs["vpc_id"] == VPC
    assert outputs["private_subnets"] == PRIVATE
    assert outputs["public_subnets"] == PUBLIC
    assert outputs["intra_subnets"] == INTRA
    assert outputs["vpc_cidr_block"] == "10.0.0.0/16", "read from the VPC (stand-in)"


def test_endpoints_only_when_asked(planned):
    plan = planned(WITH_ENDPOINTS)
    gateway = plan.find("aws_vpc_endpoint", "network_endpoints_s3_gateway")
    assert gateway["route_table_ids"] == ROUTE_TABLES and gateway["vpc_id"] == VPC
    interface = {a: v for a, v in plan.of_type("aws_vpc_endpoint").items() if "interface" in a}
    assert len(interface) == 2 and all(v["subnet_ids"] == PRIVATE for v in interface.values())
    group = plan.find("aws_security_group", "network_endpoints_security_group")
    assert group["vpc_id"] == VPC
    (rule,) = [r for a, r in plan.of_type("aws_vpc_security_group_ingress_rule").items() if "https_from_vpc" in a]
    assert rule["cidr_ipv4"] == "10.0.0.0/16"
    for resource_type in NETWORK_TYPES:
        assert plan.of_type(resource_type) == {}, resource_type


def test_the_summary_says_the_network_is_used_not_created():
    from cli.summary import choices

    (network,) = [line for line in choices(parse_config(USE_EXISTING)) if line.startswith("network:")]
    assert network == f"network: existing {VPC} (3 private, 2 public, 3 intra subnets; nothing created); endpoints: none"
    (network,) = [line for line in choices(parse_config(WITH_ENDPOINTS)) if line.startswith("network:")]
    assert network.endswith("endpoints: S3 gateway, ecr.api, sts")


def test_tfvars_cannot_put_a_gateway_in_an_existing_vpc_without_route_tables(plan):
    from tooling.offline import TerraformError

    with pytest.raises(TerraformError) as refused:
        plan(USE_EXISTING, {"vpc_s3_gateway_endpoint": True})
    said = " ".join(refused.value.stderr.split())
    assert "vpc_s3_gateway_endpoint needs the existing VPC's route tables" in said
