"""The VPC: subnets in every AZ, the CIDR plan, NAT modes, routes and tags."""

from __future__ import annotations

import ipaddress
import re

import pytest

from tests.tf import data, policy_of, ref, resource, resources

AZ_COUNT = "${min(length(data.aws_availability_zones.network_availability_zones.names), 8)}"
CIDRSUBNET = re.compile(
    r"^\$\{cidrsubnet\(aws_vpc\.network_vpc\.cidr_block, (\d+), (?:\((\d+) \+ count\.index\)|count\.index)\)\}$"
)


def evaluate_cidr(expression: str, vpc_cidr: str, index: int) -> ipaddress.IPv4Network:
    """Evaluate the subnet's ``cidrsubnet`` expression as Terraform would for ``index``."""
    match = CIDRSUBNET.match(expression)
    assert match, f"unexpected CIDR expression {expression}"
    newbits, offset = int(match.group(1)), int(match.group(2) or 0)
    vpc = ipaddress.IPv4Network(vpc_cidr)
    return list(vpc.subnets(prefixlen_diff=newbits))[offset + index]


def test_availability_zones_are_discovered_at_apply_time(stack):
    azs = data(stack, "aws_availability_zones", "network_availability_zones")
    assert azs["state"] == "available"
    assert azs["filter"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


@pytest.mark.parametrize("tier", ["public", "private", "intra"])
def test_one_subnet_per_az_up_to_eight(stack, tier):
    subnet = resource(stack, "aws_subnet", f"network_{tier}_subnets")
    assert subnet["count"] == AZ_COUNT
    assert subnet["availability_zone"] == (
        "${element(data.aws_availability_zones.network_availability_zones.names, count.index)}"
    )
    assert subnet["vpc_id"] == ref("aws_vpc", "network_vpc", "id")
    assert subnet["map_public_ip_on_launch"] is False


@pytest.mark.parametrize(
    "tier, first, second, prefix",
    [
        ("private", "10.0.0.0/20", "10.0.16.0/20", 20),
        ("public", "10.0.128.0/24", "10.0.129.0/24", 24),
        ("intra", "10.0.192.0/24", "10.0.193.0/24", 24),
    ],
)
def test_cidr_plan(stack, tier, first, second, prefix):
    expression = resource(stack, "aws_subnet", f"network_{tier}_subnets")["cidr_block"]
    assert str(evaluate_cidr(expression, "10.0.0.0/16", 0)) == first
    assert str(evaluate_cidr(expression, "10.0.0.0/16", 1)) == second
    assert evaluate_cidr(expression, "10.0.0.0/16", 7).prefixlen == prefix


def test_cidr_plan_has_no_overlap_for_eight_azs(stack):
    subnets = [
        evaluate_cidr(resource(stack, "aws_subnet", f"network_{tier}_subnets")["cidr_block"], "10.0.0.0/16", i)
        for tier in ("private", "public", "intra")
        for i in range(8)
    ]
    for i, a in enumerate(subnets):
        for b in subnets[i + 1 :]:
            assert not a.overlaps(b), f"{a} overlaps {b}"
    private = subnets[:8]
    assert all(s.subnet_of(ipaddress.IPv4Network("10.0.0.0/17")) for s in private)


def test_cidr_plan_follows_a_custom_cidr(synth):
    stack = synth({"vpc": {"cidr": "172.20.0.0/16"}})
    assert resource(stack, "aws_vpc", "network_vpc")["cidr_block"] == "172.20.0.0/16"
    expression = resource(stack, "aws_subnet", "network_public_subnets")["cidr_block"]
    assert str(evaluate_cidr(expression, "172.20.0.0/16", 0)) == "172.20.128.0/24"


def test_subnet_tags(stack):
    public = resource(stack, "aws_subnet", "network_public_subnets")["tags"]
    private = resource(stack, "aws_subnet", "network_private_subnets")["tags"]
    intra = resource(stack, "aws_subnet", "network_intra_subnets")["tags"]
    assert public["kubernetes.io/role/elb"] == "1"
    assert private["kubernetes.io/role/internal-elb"] == "1"
    assert private["karpenter.sh/discovery"] == "ml-platform"
    assert "karpenter.sh/discovery" not in public and "karpenter.sh/discovery" not in intra
    assert "kubernetes.io/role/elb" not in private


def test_single_nat_gateway_by_default(stack):
    nat = resource(stack, "aws_nat_gateway", "network_nat_gateways")
    assert nat["count"] == 1
    assert resource(stack, "aws_eip", "network_nat_eips")["count"] == 1
    assert nat["subnet_id"] == "${element(aws_subnet.network_public_subnets.*.id, count.index)}"


def test_one_nat_gateway_per_az(synth):
    stack = synth({"vpc": {"nat_gateways": "one_per_az"}})
    assert resource(stack, "aws_nat_gateway", "network_nat_gateways")["count"] == AZ_COUNT
    assert resource(stack, "aws_eip", "network_nat_eips")["count"] == AZ_COUNT


def test_private_subnets_route_through_nat(stack):
    route = resource(stack, "aws_route", "network_private_nat_routes")
    assert route["count"] == AZ_COUNT
    assert route["destination_cidr_block"] == "0.0.0.0/0"
    assert route["nat_gateway_id"] == "${element(aws_nat_gateway.network_nat_gateways.*.id, count.index)}"


def test_public_subnets_route_through_the_internet_gateway(stack):
    route = resource(stack, "aws_route", "network_public_internet_route")
    assert route["gateway_id"] == ref("aws_internet_gateway", "network_internet_gateway", "id")
    assert route["route_table_id"] == ref("aws_route_table", "network_public_route_table", "id")


def test_intra_subnets_have_no_route_out(stack):
    intra_table = ref("aws_route_table", "network_intra_route_table", "id")
    for name, route in resources(stack, "aws_route").items():
        assert route["route_table_id"] != intra_table, f"{name} routes intra traffic out"
    association = resource(stack, "aws_route_table_association", "network_intra_route_table_associations")
    assert association["route_table_id"] == f"${{element([{intra_table[2:-1]}], count.index)}}"


def test_default_security_group_is_emptied(stack):
    default = resource(stack, "aws_default_security_group", "network_default_security_group")
    assert "ingress" not in default and "egress" not in default


def test_flow_logs_to_an_encrypted_retained_log_group(stack):
    flow_log = resource(stack, "aws_flow_log", "network_flow_logs_flow_log")
    assert flow_log["vpc_id"] == ref("aws_vpc", "network_vpc", "id")
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination"] == ref("aws_cloudwatch_log_group", "network_flow_logs_log_group", "arn")
    log_group = resource(stack, "aws_cloudwatch_log_group", "network_flow_logs_log_group")
    assert log_group["retention_in_days"] == 365
    assert log_group["kms_key_id"] == ref("aws_kms_key", "network_flow_logs_key", "arn")
    assert resource(stack, "aws_kms_key", "network_flow_logs_key")["enable_key_rotation"] is True
    role = resource(stack, "aws_iam_role", "network_flow_logs_role")
    trust = policy_of(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]


def test_flow_logs_can_be_turned_off(synth):
    stack = synth({"vpc": {"flow_logs": {"enabled": False}}})
    assert resources(stack, "aws_flow_log") == {}
    assert "network_flow_logs_log_group" not in resources(stack, "aws_cloudwatch_log_group")
