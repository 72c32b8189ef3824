"""VPC endpoints: S3 through a gateway endpoint on the private and intra route tables, and
interface endpoints for the AWS APIs the nodes and controllers call, so that traffic stays
in the VPC instead of going through (and being billed by) the NAT gateway.

Service names are read from the region (``aws_vpc_endpoint_service``), which also knows
the partitions whose names differ and fails the plan when a region lacks a service.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_vpc_endpoint_service import DataAwsVpcEndpointService
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.core.refs import address, count_when, first
from modules.core.security_group_rules import rule_less_group

HTTPS = 443


@dataclass(frozen=True)
class EndpointsProps:
    name: str
    vpc_id: str
    vpc_cidr_block: str
    subnet_ids: list[str]
    """Where interface endpoints put their network interfaces (the private subnets)."""
    route_table_ids: list[str]
    """Route tables the S3 gateway endpoint joins."""
    s3_gateway: str
    """A Terraform condition (``var.vpc_s3_gateway_endpoint``) counting the gateway in or out."""
    interface_services: str
    """A Terraform list of short service names (``var.vpc_interface_endpoints``), see
    ``INTERFACE_ENDPOINT_SERVICES``: one endpoint each."""


class Endpoints(Construct):
    """The endpoints are counted from variables, so a ``terraform.tfvars`` turns them on
    and off as the YAML does; nothing is created for an empty list or a false flag."""

    def __init__(self, scope: Construct, construct_id: str, props: EndpointsProps):
        super().__init__(scope, construct_id)
        gateway_count = count_when(props.s3_gateway)
        service = DataAwsVpcEndpointService(
            self, "s3_gateway_service", service="s3", service_type="Gateway", count=gateway_count
        )
        self.s3_gateway = VpcEndpoint(
            self,
            "s3_gateway",
            count=gateway_count,
            vpc_id=props.vpc_id,
            vpc_endpoint_type="Gateway",
            service_name=first(service, "service_name"),
            route_table_ids=props.route_table_ids,
            tags={"Name": f"{props.name}-s3"},
        )
        self._interface_endpoints(props)

    def _interface_endpoints(self, props: EndpointsProps) -> None:
        services = props.interface_services
        # One group for every interface endpoint: HTTPS from inside the VPC, nothing else.
        group_count = count_when(f"length({services}) > 0")
        self.security_group = rule_less_group(
            self,
            "security_group",
            name=f"{props.name}-endpoints",
            description=f"Interface endpoints of {props.name}: HTTPS from the VPC",
            vpc_id=props.vpc_id,
        )
        self.security_group.count = group_count
        VpcSecurityGroupIngressRule(
            self,
            "https_from_vpc",
            count=group_count,
            security_group_id=first(self.security_group, "id"),
            description="HTTPS from the VPC to the interface endpoints",
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_ipv4=props.vpc_cidr_block,
        )
        each = f"${{toset({services})}}"
        found = DataAwsVpcEndpointService(self, "interface_services", service="${each.key}", service_type="Interface")
        found.add_override("for_each", each)
        self.interface = VpcEndpoint(
            self,
            "interface",
            vpc_id=props.vpc_id,
            vpc_endpoint_type="Interface",
            service_name=f"${{{address(found)}[each.key].service_name}}",
            subnet_ids=props.subnet_ids,
            security_group_ids=[first(self.security_group, "id")],
            # The public service name resolves to the endpoint inside the VPC: clients
            # need no configuration.
            private_dns_enabled=True,
            tags={"Name": f"{props.name}-${{each.key}}"},
        )
        self.interface.add_override("for_each", each)
