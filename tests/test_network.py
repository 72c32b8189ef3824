"""The VPC: subnets in every AZ, the CIDR plan, NAT modes, routes and tags, as Terraform
plans and applies them (offline stand-ins: ``zones`` is how many zones the region has)."""

from __future__ import annotations

import ipaddress
import json

import pytest

from tests.stacks import split_address

TIERS = ("private", "public", "intra")
# Plans are the slow part of these tests: each configuration below is planned once per
# zone count and read by several tests.
PER_ZONE_NAT = {"vpc": {"nat_gateways": "one_per_az"}}
# A custom CIDR, two zones at most, no flow logs: three choices one plan proves.
NARROW = {"vpc": {"cidr": "172.20.0.0/16", "max_azs": 2, "flow_logs": {"enabled": False}}}


def subnets(deployed, tier: str) -> list[dict]:
    found = deployed.of_type("aws_subnet")
    return [found[a] for a in sorted(found, key=_index) if split_address(a)[1].startswith(f"aws_subnet.network_{tier}_subnets")]


def _index(address: str) -> int:
    return int(address.rsplit("[", 1)[1].rstrip("]")) if address.endswith("]") else 0


def test_availability_zones_are_discovered_at_apply_time(stack):
    azs = stack.block("aws_availability_zones", "network_availability_zones", data=True)
    assert azs["state"] == "available"
    assert azs["filter"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


@pytest.mark.parametrize("zones", [2, 8])
def test_one_subnet_per_zone_of_the_region(planned, zones):
    deployed = planned(PER_ZONE_NAT, zones=zones)
    for tier in TIERS:
        found = subnets(deployed, tier)
        assert len(found) == zones, tier
        assert [s["availability_zone"] for s in found] == [f"us-west-2{letter}" for letter in "abcdefgh"[:zones]]
        assert all(s["map_public_ip_on_launch"] is False for s in found)


def test_three_zones_applied(deployed):
    assert [len(subnets(deployed, tier)) for tier in TIERS] == [3, 3, 3]


def test_at_most_max_azs_zones(planned):
    deployed = planned(NARROW, zones=8)
    assert [len(subnets(deployed, tier)) for tier in TIERS] == [2, 2, 2]


@pytest.mark.parametrize(
    "tier, first, second, prefix",
    [("private", "10.0.0.0/20", "10.0.16.0/20", 20), ("public", "10.0.128.0/24", "10.0.129.0/24", 24), ("intra", "10.0.192.0/24", "10.0.193.0/24", 24)],
)
def test_cidr_plan(planned, tier, first, second, prefix):
    blocks = [s["cidr_block"] for s in subnets(planned(PER_ZONE_NAT, zones=8), tier)]
    assert blocks[:2] == [first, second]
    assert {ipaddress.IPv4Network(b).prefixlen for b in blocks} == {prefix}


def test_cidr_plan_has_no_overlap_for_eight_zones(planned):
    deployed = planned(PER_ZONE_NAT, zones=8)
    networks = [ipaddress.IPv4Network(s["cidr_block"]) for tier in TIERS for s in subnets(deployed, tier)]
    assert len(networks) == 24
    for i, a in enumerate(networks):
        for b in networks[i + 1 :]:
            assert not a.overlaps(b), f"{a} overlaps {b}"
    assert all(n.subnet_of(ipaddress.IPv4Network("10.0.0.0/17")) for n in networks[:8])


def test_cidr_plan_follows_a_custom_cidr(planned):
    deployed = planned(NARROW, zones=8)
    assert deployed.find("aws_vpc", "network_vpc")["cidr_block"] == "172.20.0.0/16"
    assert subnets(deployed, "public")[0]["cidr_block"] == "172.20.128.0/24"


def test_subnet_tags(deployed):
    public, private, intra = (subnets(deployed, tier)[0]["tags"] for tier in ("public", "private", "intra"))
    assert public["kubernetes.io/role/elb"] == "1"
    assert private["kubernetes.io/role/internal-elb"] == "1"
    assert private["karpenter.sh/discovery"] == "ml-platform"
    assert "karpenter.sh/discovery" not in public and "karpenter.sh/discovery" not in intra
    assert "kubernetes.io/role/elb" not in private


def test_single_nat_gateway_by_default(deployed):
    nats = deployed.of_type("aws_nat_gateway")
    assert len(nats) == 1 and len(deployed.of_type("aws_eip")) == 1
    (nat,) = nats.values()
    assert nat["subnet_id"] == subnets(deployed, "public")[0]["id"]
    routes = deployed.of_type("aws_route")
    nat_routes = [r for a, r in routes.items() if "private_nat_routes" in a]
    assert len(nat_routes) == 3, "every private route table goes out through the one gateway"
    assert {r["nat_gateway_id"] for r in nat_routes} == {nat["id"]}


@pytest.mark.parametrize("zones", [2, 8])
def test_one_nat_gateway_per_zone(planned, zones):
    deployed = planned(PER_ZONE_NAT, zones=zones)
    assert len(deployed.of_type("aws_nat_gateway")) == zones
    assert len(deployed.of_type("aws_eip")) == zones
    tables = [a for a in deployed.of_type("aws_route_table") if "private_route_tables" in a]
    assert len(tables) == zones


def test_private_subnets_route_through_nat(deployed):
    tables = {v["id"] for a, v in deployed.of_type("aws_route_table").items() if "private_route_tables" in a}
    routes = [r for a, r in deployed.of_type("aws_route").items() if "private_nat_routes" in a]
    assert {r["route_table_id"] for r in routes} == tables
    assert {r["destination_cidr_block"] for r in routes} == {"0.0.0.0/0"}


def test_public_subnets_route_through_the_internet_gateway(deployed):
    route = deployed.find("aws_route", "network_public_internet_route")
    assert route["gateway_id"] == deployed.find("aws_internet_gateway", "network_internet_gateway")["id"]
    assert route["route_table_id"] == deployed.find("aws_route_table", "network_public_route_table")["id"]


def test_intra_subnets_have_no_route_out(deployed):
    intra_table = deployed.find("aws_route_table", "network_intra_route_table")["id"]
    for address, route in deployed.of_type("aws_route").items():
        assert route["route_table_id"] != intra_table, f"{address} routes intra traffic out"
    associations = [v for a, v in deployed.of_type("aws_route_table_association").items() if "intra" in a]
    assert len(associations) == 3 and {v["route_table_id"] for v in associations} == {intra_table}
    assert {v["subnet_id"] for v in associations} == {s["id"] for s in subnets(deployed, "intra")}


def test_default_security_group_is_emptied(deployed):
    default = deployed.find("aws_default_security_group", "network_default_security_group")
    assert not default.get("ingress") and not default.get("egress")


def test_flow_logs_to_an_encrypted_retained_log_group(deployed):
    flow_log = deployed.find("aws_flow_log", "network_flow_logs_flow_log")
    log_group = deployed.find("aws_cloudwatch_log_group", "network_flow_logs_log_group")
    assert flow_log["vpc_id"] == deployed.find("aws_vpc", "network_vpc")["id"]
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination"] == log_group["arn"]
    assert log_group["retention_in_days"] == 365
    key = deployed.find("aws_kms_key", "network_flow_logs_key")
    assert log_group["kms_key_id"] == key["arn"] and key["enable_key_rotation"] is True
    trust = json.loads(deployed.find("aws_iam_role", "network_flow_logs_role")["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_flow_logs_can_be_turned_off(planned):
    deployed = planned(NARROW, zones=8)
    assert deployed.of_type("aws_flow_log") == {}
    assert [a for a in deployed.of_type("aws_cloudwatch_log_group") if "flow_logs" in a] == []
