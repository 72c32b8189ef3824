"""VPC endpoints as Terraform applies them (offline stand-ins, three zones): the S3
gateway endpoint of the default configuration, and the interface endpoints of the
everything-on configuration with the one security group they share."""

from __future__ import annotations

import pytest

from modules.config.network import INTERFACE_ENDPOINT_SERVICES

NO_GATEWAY = {"vpc": {"endpoints": {"s3_gateway": False}}}
TWO_ENDPOINTS = {"vpc": {"endpoints": {"interface": ["ecr.api", "sts"]}}}


def interface_endpoints(deployed) -> dict[str, dict]:
    """Service -> endpoint (one instance per service: for_each keys)."""
    found = deployed.of_type("aws_vpc_endpoint")
    return {a.split('["')[1].rstrip('"]'): v for a, v in found.items() if "network_endpoints_interface[" in a}


def route_table_ids(deployed, kind: str) -> set[str]:
    return {v["id"] for a, v in deployed.of_type("aws_route_table").items() if kind in a}


def test_default_adds_only_the_s3_gateway_endpoint(deployed):
    endpoints = deployed.of_type("aws_vpc_endpoint")
    assert list(endpoints) == ["aws_vpc_endpoint.network_endpoints_s3_gateway[0]"]
    (gateway,) = endpoints.values()
    assert gateway["vpc_endpoint_type"] == "Gateway"
    assert gateway["service_name"] == "com.amazonaws.us-west-2.s3"
    assert gateway["vpc_id"] == deployed.find("aws_vpc", "network_vpc")["id"]
    assert not [a for a in deployed.of_type("aws_security_group") if "endpoints" in a]


def test_s3_gateway_joins_the_private_and_intra_route_tables(deployed):
    gateway = deployed.find("aws_vpc_endpoint", "network_endpoints_s3_gateway")
    private, intra = route_table_ids(deployed, "private_route_tables"), route_table_ids(deployed, "intra_route_table")
    assert len(private) == 3 and len(intra) == 1
    assert set(gateway["route_table_ids"]) == private | intra
    assert not set(gateway["route_table_ids"]) & route_table_ids(deployed, "public_route_table")


def test_s3_gateway_can_be_turned_off(planned):
    assert planned(NO_GATEWAY).of_type("aws_vpc_endpoint") == {}


@pytest.fixture(scope="module")
def everything(deploy, everything_on):
    return deploy(everything_on)


def test_every_listed_interface_endpoint_in_the_private_subnets(everything, everything_on):
    listed = everything_on["vpc"]["endpoints"]["interface"]
    assert set(listed) == set(INTERFACE_ENDPOINT_SERVICES), "everything-on lists every interface endpoint"
    private = {v["id"] for a, v in everything.of_type("aws_subnet").items() if "private_subnets" in a}
    group = everything.find("aws_security_group", "network_endpoints_security_group")
    endpoints = interface_endpoints(everything)
    assert sorted(endpoints) == sorted(listed)
    for service in listed:
        endpoint = endpoints[service]
        assert endpoint["vpc_endpoint_type"] == "Interface", service
        assert endpoint["service_name"] == f"com.amazonaws.us-west-2.{service}"
        assert endpoint["private_dns_enabled"] is True, service
        assert set(endpoint["subnet_ids"]) == private, service
        assert endpoint["security_group_ids"] == [group["id"]], service


def test_interface_endpoints_admit_only_https_from_the_vpc(everything):
    group = everything.find("aws_security_group", "network_endpoints_security_group")["id"]
    ingress = [r for r in everything.of_type("aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == group]
    egress = [r for r in everything.of_type("aws_vpc_security_group_egress_rule").values() if r["security_group_id"] == group]
    assert egress == []
    (rule,) = ingress
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 443, 443)
    assert rule["cidr_ipv4"] == everything.find("aws_vpc", "network_vpc")["cidr_block"] == "10.0.0.0/16"


def test_an_interface_endpoint_is_listed_once():
    from modules.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as refused:
        parse_config({"vpc": {"endpoints": {"interface": ["sts", "ecr.api", "sts"]}}})
    assert str(refused.value).startswith("vpc.endpoints.interface: lists sts more than once")
    with pytest.raises(ConfigError) as unknown:
        parse_config({"vpc": {"endpoints": {"interface": ["s3"]}}})
    assert "vpc.endpoints.interface[0]" in str(unknown.value) and "'ecr.api'" in str(unknown.value)


def test_tfvars_turn_endpoints_on_and_off_as_the_yaml_does(planned):
    by_tfvars = planned({}, {"vpc_interface_endpoints": ["ecr.api", "sts"], "vpc_s3_gateway_endpoint": False})
    by_yaml = planned({"vpc": {"endpoints": {"interface": ["ecr.api", "sts"], "s3_gateway": False}}})
    for plan in (by_tfvars, by_yaml):
        assert sorted(interface_endpoints(plan)) == ["ecr.api", "sts"]
        assert [a for a in plan.of_type("aws_vpc_endpoint") if "s3_gateway" in a] == []
        assert len([a for a in plan.of_type("aws_security_group") if "endpoints" in a]) == 1
    assert sorted(by_tfvars.addresses()) == sorted(by_yaml.addresses())


def test_tfvars_naming_an_unknown_endpoint_are_refused_at_plan(plan):
    from tooling.offline import TerraformError

    with pytest.raises(TerraformError) as refused:
        plan({}, {"vpc_interface_endpoints": ["s3"]})
    said = " ".join(refused.value.stderr.split())
    assert "vpc_interface_endpoints must be items one of ecr.api, ecr.dkr" in said


def test_docs_table_is_the_configured_list():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "network.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows == [f"| `{name}` | {why} |" for name, why in INTERFACE_ENDPOINT_SERVICES.items()]
