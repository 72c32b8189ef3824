"""Deterministic, realistic values for what the real providers compute.

Nothing here talks to AWS or Kubernetes: ids, ARNs and endpoints are derived from a hash of
the planned values, a fixed fake account (``123456789012``) and the configured region and
partition, so the same configuration applied twice in fresh folders gives the same state.
Data sources answer from the run's settings (region, number of availability zones).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from .values import UNKNOWN, known_part

FAKE_ACCOUNT = "123456789012"
FIXED_TIME = "2026-01-01T00:00:00Z"
FIXED_EPOCH = 1767225600  # FIXED_TIME in seconds
ZONE_LETTERS = "abcdefghijklmnopqrstuvwxyz"

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "Europe (Ireland)",
    "eu-central-1": "Europe (Frankfurt)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
}

# Route 53 hosted zone of S3 website endpoints per region (s3.go hostedZoneIDsMap).
S3_HOSTED_ZONES = {
    "us-east-1": "Z3AQBSTGFYJSTF",
    "us-east-2": "Z2O1EMRO9K5GLX",
    "us-west-1": "Z2F56UZL2M1ACD",
    "us-west-2": "Z3BJ6K6RIION7M",
    "eu-west-1": "Z1BKCTXD74EZPE",
    "eu-central-1": "Z21DNDUVLTQW6Q",
}


def zone_id_prefix(region: str) -> str:
    """The AZ id prefix of a region: us-west-2 -> usw2, ap-southeast-1 -> apse1."""
    parts = region.split("-")
    words = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c", "gov": "g",
             "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "iso": "i", "isob": "ib"}
    return parts[0] + "".join(words.get(p, p[:1]) for p in parts[1:-1]) + parts[-1]


def partition_of(region: str) -> tuple[str, str]:
    """(partition, DNS suffix) of a region."""
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    if region.startswith("us-isob-"):
        return "aws-iso-b", "sc2s.sgov.gov"
    if region.startswith("us-iso-"):
        return "aws-iso", "c2s.ic.gov"
    return "aws", "amazonaws.com"


@dataclass
class Context:
    """What one apply or data source read knows: the run's settings and the provider
    configuration, and a seed taken from the planned values."""

    region: str
    zones: int
    account: str = FAKE_ACCOUNT
    default_tags: dict[str, str] = field(default_factory=dict)
    type_name: str = ""
    seed: str = ""

    @property
    def partition(self) -> str:
        return partition_of(self.region)[0]

    @property
    def dns_suffix(self) -> str:
        return partition_of(self.region)[1]

    def digest(self, *parts: Any) -> str:
        text = json.dumps([self.seed, *[known_part(p) for p in parts]], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def hex(self, n: int, *parts: Any) -> str:
        return self.digest(*parts)[:n]

    def digits(self, n: int, *parts: Any) -> str:
        return str(int(self.digest(*parts), 16))[:n].rjust(n, "0")

    def upper(self, n: int, *parts: Any) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        number = int(self.digest(*parts), 16)
        out = []
        for _ in range(n):
            number, r = divmod(number, len(alphabet))
            out.append(alphabet[r])
        return "".join(out)

    def uuid(self, *parts: Any) -> str:
        return str(uuid.UUID(self.digest(*parts)[:32]))

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account if account else ''}:{resource}"

    def zone_names(self) -> list[str]:
        return [f"{self.region}{ZONE_LETTERS[i]}" for i in range(self.zones)]

    def zone_ids(self) -> list[str]:
        return [f"{zone_id_prefix(self.region)}-az{i + 1}" for i in range(self.zones)]

    def zone_id_of(self, zone_name: Any) -> Any:
        names = self.zone_names()
        if isinstance(zone_name, str) and zone_name in names:
            return self.zone_ids()[names.index(zone_name)]
        return UNKNOWN

    def ip(self, *parts: Any) -> str:
        # TEST-NET-2 (RFC 5737): realistic in form, never a real address.
        return f"198.51.100.{int(self.hex(4, *parts), 16) % 254 + 1}"

    def private_ip(self, *parts: Any) -> str:
        n = int(self.hex(6, *parts), 16)
        return f"10.{n % 256}.{(n >> 8) % 256}.{(n >> 16) % 254 + 1}"


def _known(value: Any) -> bool:
    return value is not None and value is not UNKNOWN


def _name(state: dict[str, Any], ctx: Context, key: str = "name", prefix_key: str = "name_prefix") -> str:
    """A configured name, or one made from the prefix as the provider does (prefix + 26 digits)."""
    if _known(state.get(key)) and state.get(key) != "":
        return state[key]
    prefix = state.get(prefix_key)
    prefix = prefix if _known(prefix) else "terraform-"
    return prefix + ctx.digits(26, "name")


def _ca_data(ctx: Context) -> str:
    body = base64.b64encode(hashlib.sha512(ctx.digest("ca").encode()).digest() * 8).decode()
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(body[i : i + 64] for i in range(0, len(body), 64)) + "\n-----END CERTIFICATE-----\n"
    return base64.b64encode(pem.encode()).decode()


def _eks_endpoint(ctx: Context, name: Any) -> tuple[str, str]:
    code = ctx.hex(32, "eks", name).upper()
    return f"https://{code}.gr7.{ctx.region}.eks.{ctx.dns_suffix}", f"https://oidc.eks.{ctx.region}.{ctx.dns_suffix}/id/{code}"


Fake = Callable[[dict[str, Any], Context], dict[str, Any]]
RESOURCES: dict[str, Fake] = {}
DATA_SOURCES: dict[str, Fake] = {}


def resource(*names: str) -> Callable[[Fake], Fake]:
    def register(fn: Fake) -> Fake:
        for name in names:
            RESOURCES[name] = fn
        return fn

    return register


def data_source(*names: str) -> Callable[[Fake], Fake]:
    def register(fn: Fake) -> Fake:
        for name in names:
            DATA_SOURCES[name] = fn
        return fn

    return register


# --- EC2 and VPC -------------------------------------------------------------------------

# Resource type -> (id prefix, ARN resource kind); ids look like vpc-0a1b2c3d4e5f60718.
EC2_IDS = {
    "aws_vpc": ("vpc", "vpc"),
    "aws_subnet": ("subnet", "subnet"),
    "aws_security_group": ("sg", "security-group"),
    "aws_default_security_group": ("sg", "security-group"),
    "aws_internet_gateway": ("igw", "internet-gateway"),
    "aws_nat_gateway": ("nat", "natgateway"),
    "aws_eip": ("eipalloc", "elastic-ip"),
    "aws_route_table": ("rtb", "route-table"),
    "aws_route_table_association": ("rtbassoc", None),
    "aws_launch_template": ("lt", "launch-template"),
    "aws_flow_log": ("fl", "vpc-flow-log"),
    "aws_vpc_security_group_ingress_rule": ("sgr", "security-group-rule"),
    "aws_vpc_security_group_egress_rule": ("sgr", "security-group-rule"),
    "aws_network_acl": ("acl", "network-acl"),
    "aws_vpc_endpoint": ("vpce", "vpc-endpoint"),
}


def ec2_id(type_name: str, ctx: Context) -> str:
    return f"{EC2_IDS[type_name][0]}-0{ctx.hex(16, type_name)}"


@resource(*EC2_IDS)
def _ec2(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    type_name = ctx.type_name
    _, kind = EC2_IDS[type_name]
    ident = ec2_id(type_name, ctx)
    out: dict[str, Any] = {"id": ident, "owner_id": ctx.account}
    if kind:
        out["arn"] = ctx.arn("ec2", f"{kind}/{ident}")
    if type_name == "aws_vpc":
        out.update(
            default_security_group_id=f"sg-0{ctx.hex(16, 'default-sg')}",
            default_route_table_id=f"rtb-0{ctx.hex(16, 'main-rtb')}",
            main_route_table_id=f"rtb-0{ctx.hex(16, 'main-rtb')}",
            default_network_acl_id=f"acl-0{ctx.hex(16, 'default-acl')}",
            dhcp_options_id=f"dopt-0{ctx.hex(16, 'dopt')}",
            enable_dns_hostnames=False,
            enable_network_address_usage_metrics=False,
        )
    elif type_name == "aws_subnet":
        zone = state.get("availability_zone")
        if not _known(zone):
            zone = ctx.zone_names()[0]
        out.update(availability_zone=zone, availability_zone_id=ctx.zone_id_of(zone))
    elif type_name in ("aws_security_group", "aws_default_security_group"):
        out["name"] = "default" if type_name == "aws_default_security_group" else _name(state, ctx)
        out["description"] = "default VPC security group" if type_name == "aws_default_security_group" else "Managed by Terraform"
        out["ingress"] = []
        out["egress"] = []
    elif type_name == "aws_eip":
        out.update(allocation_id=ident, domain="vpc", public_ip=ctx.ip("eip"), public_ipv4_pool="amazon",
                   network_border_group=ctx.region)
        out["public_dns"] = f"ec2-{out['public_ip'].replace('.', '-')}.{ctx.region}.compute.{ctx.dns_suffix}"
    elif type_name == "aws_nat_gateway":
        out.update(network_interface_id=f"eni-0{ctx.hex(16, 'eni')}", private_ip=ctx.private_ip("nat"),
                   public_ip=ctx.ip("nat"), availability_mode="zonal")
    elif type_name == "aws_launch_template":
        out.update(latest_version=1, default_version=1, name=_name(state, ctx))
    elif type_name in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        out["security_group_rule_id"] = ident
    elif type_name == "aws_route_table":
        out.update(route=[], propagating_vgws=[])
    return out


@resource("aws_route")
def _route(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    table = state.get("route_table_id")
    dest = state.get("destination_cidr_block") or state.get("destination_ipv6_cidr_block") or ""
    return {"id": f"r-{table}{ctx.digits(10, dest)}", "origin": "CreateRoute", "state": "active"}


# --- IAM, KMS, logs, queues, events --------------------------------------------------------


@resource("aws_iam_role")
def _iam_role(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = _name(state, ctx)
    path = state.get("path") if _known(state.get("path")) else "/"
    return {"id": name, "name": name, "arn": ctx.arn("iam", f"role{path}{name}", region=False),
            "unique_id": "AROA" + ctx.upper(17, "role"), "create_date": FIXED_TIME}


@resource("aws_iam_policy")
def _iam_policy(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = _name(state, ctx)
    path = state.get("path") if _known(state.get("path")) else "/"
    arn = ctx.arn("iam", f"policy{path}{name}", region=False)
    return {"id": arn, "arn": arn, "name": name, "policy_id": "ANPA" + ctx.upper(17, "policy"), "attachment_count": 0}


@resource("aws_iam_role_policy")
def _iam_role_policy(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = _name(state, ctx)
    return {"id": f"{state.get('role')}:{name}", "name": name}


@resource("aws_iam_role_policy_attachment")
def _iam_attachment(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"id": f"{state.get('role')}-{ctx.digits(26, 'attachment')}"}


@resource("aws_iam_openid_connect_provider")
def _oidc_provider(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    # IAM names an OIDC provider by its issuer's host and path.
    url = str(state.get("url") or "").removeprefix("https://")
    arn = ctx.arn("iam", f"oidc-provider/{url}", region=False)
    return {"id": arn, "arn": arn, "thumbprint_list": []}


@resource("aws_kms_key")
def _kms_key(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    key_id = ctx.uuid("kms")
    return {"id": key_id, "key_id": key_id, "arn": ctx.arn("kms", f"key/{key_id}"), "multi_region": False,
            "deletion_window_in_days": 30, "rotation_period_in_days": 365}


@resource("aws_kms_alias")
def _kms_alias(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = _name(state, ctx)
    target = state.get("target_key_id")
    target_arn = target if isinstance(target, str) and target.startswith("arn:") else ctx.arn("kms", f"key/{target}")
    return {"id": name, "name": name, "arn": ctx.arn("kms", name), "target_key_arn": target_arn}


@resource("aws_cloudwatch_log_group")
def _log_group(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = _name(state, ctx)
    return {"id": name, "name": name, "arn": ctx.arn("logs", f"log-group:{name}"), "log_group_class": "STANDARD"}


@resource("aws_sqs_queue")
def _sqs(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = _name(state, ctx)
    url = f"https://sqs.{ctx.region}.{ctx.dns_suffix}/{ctx.account}/{name}"
    return {"id": url, "url": url, "name": name, "arn": ctx.arn("sqs", name), "max_message_size": 262144,
            "sqs_managed_sse_enabled": True}


@resource("aws_sqs_queue_policy")
def _sqs_policy(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"id": state.get("queue_url")}


@resource("aws_cloudwatch_event_rule")
def _event_rule(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = _name(state, ctx)
    bus = state.get("event_bus_name") if _known(state.get("event_bus_name")) else "default"
    ident = name if bus == "default" else f"{bus}/{name}"
    return {"id": ident, "name": name, "arn": ctx.arn("events", f"rule/{ident}"), "state": "ENABLED"}


@resource("aws_cloudwatch_event_target")
def _event_target(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    target = state.get("target_id") if _known(state.get("target_id")) else "terraform-" + ctx.digits(26, "target")
    return {"id": f"{state.get('rule')}-{target}", "target_id": target}


@resource("aws_prometheus_workspace")
def _prometheus(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    ident = "ws-" + ctx.uuid("aps")
    return {"id": ident, "arn": ctx.arn("aps", f"workspace/{ident}"),
            "prometheus_endpoint": f"https://aps-workspaces.{ctx.region}.{ctx.dns_suffix}/workspaces/{ident}/"}


# --- S3 --------------------------------------------------------------------------------------


@resource("aws_s3_bucket")
def _bucket(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = _name(state, ctx, "bucket", "bucket_prefix")
    return {
        "id": name, "bucket": name, "arn": f"arn:{ctx.partition}:s3:::{name}",
        "bucket_domain_name": f"{name}.s3.{ctx.dns_suffix}",
        "bucket_regional_domain_name": f"{name}.s3.{ctx.region}.{ctx.dns_suffix}",
        "bucket_region": ctx.region, "hosted_zone_id": S3_HOSTED_ZONES.get(ctx.region, "Z3BJ6K6RIION7M"),
        "object_lock_enabled": False, "website_domain": None, "website_endpoint": None,
    }


@resource(
    "aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
)
def _bucket_part(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    owner = state.get("expected_bucket_owner")
    bucket = state.get("bucket")
    return {"id": f"{bucket},{owner}" if _known(owner) and owner else bucket}


@resource("aws_s3_object")
def _object(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    key = state.get("key")
    return {"id": key, "arn": f"arn:{ctx.partition}:s3:::{state.get('bucket')}/{key}",
            "version_id": ctx.hex(32, "version", state.get("etag")), "content_type": "application/octet-stream",
            "storage_class": "STANDARD", "server_side_encryption": "aws:kms"}


# --- EKS -------------------------------------------------------------------------------------


@resource("aws_eks_cluster")
def _eks_cluster(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = state.get("name")
    endpoint, issuer = _eks_endpoint(ctx, name)
    vpc = state.get("vpc_config") or [{}]
    return {
        "id": name, "arn": ctx.arn("eks", f"cluster/{name}"), "endpoint": endpoint,
        "certificate_authority": [{"data": _ca_data(ctx)}],
        "identity": [{"oidc": [{"issuer": issuer}]}],
        "platform_version": "eks.1", "status": "ACTIVE", "created_at": FIXED_TIME, "cluster_id": "",
        "version": "1.33",
        "vpc_config": [{"cluster_security_group_id": f"sg-0{ctx.hex(16, 'eks-cluster-sg')}",
                        "vpc_id": f"vpc-0{ctx.hex(16, 'eks-vpc', vpc[0].get('subnet_ids') if isinstance(vpc[0], dict) else None)}",
                        "public_access_cidrs": ["0.0.0.0/0"], "security_group_ids": []}],
        "kubernetes_network_config": [{"service_ipv4_cidr": "172.20.0.0/16", "ip_family": "ipv4", "service_ipv6_cidr": "",
                                       "elastic_load_balancing": []}],
        "access_config": [{"authentication_mode": "CONFIG_MAP"}],
        "upgrade_policy": [{"support_type": "EXTENDED"}],
    }


@resource("aws_eks_node_group")
def _eks_node_group(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    cluster = state.get("cluster_name")
    name = _name(state, ctx, "node_group_name", "node_group_name_prefix")
    group_uuid = ctx.uuid("nodegroup")
    return {
        "id": f"{cluster}:{name}", "node_group_name": name,
        "arn": ctx.arn("eks", f"nodegroup/{cluster}/{name}/{group_uuid}"), "status": "ACTIVE",
        "resources": [{"autoscaling_groups": [{"name": f"eks-{name}-{group_uuid}"}], "remote_access_security_group_id": ""}],
        "ami_type": "AL2023_x86_64_STANDARD", "capacity_type": "ON_DEMAND", "disk_size": 0, "instance_types": ["t3.medium"],
        "release_version": "1.33.0-20260101", "version": "1.33",
    }


@resource("aws_eks_addon")
def _eks_addon(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    cluster, addon = state.get("cluster_name"), state.get("addon_name")
    return {"id": f"{cluster}:{addon}", "arn": ctx.arn("eks", f"addon/{cluster}/{addon}/{ctx.uuid('addon')}"),
            "addon_version": addon_version(addon, None), "created_at": FIXED_TIME, "modified_at": FIXED_TIME}


@resource("aws_eks_access_entry")
def _eks_access_entry(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    cluster, principal = state.get("cluster_name"), state.get("principal_arn")
    kind = "role" if ":role/" in str(principal) else "user"
    principal_name = str(principal).rsplit("/", 1)[-1]
    return {"id": f"{cluster}:{principal}",
            "access_entry_arn": ctx.arn("eks", f"access-entry/{cluster}/{kind}/{ctx.account}/{principal_name}/{ctx.uuid('entry')}"),
            "created_at": FIXED_TIME, "modified_at": FIXED_TIME, "kubernetes_groups": [], "type": "STANDARD",
            "user_name": principal}


@resource("aws_eks_access_policy_association")
def _eks_access_policy(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"id": f"{state.get('cluster_name')}#{state.get('principal_arn')}#{state.get('policy_arn')}",
            "associated_at": FIXED_TIME, "modified_at": FIXED_TIME}


@resource("aws_eks_pod_identity_association")
def _eks_pod_identity(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    ident = "a-" + ctx.hex(17, "association")
    return {"id": ident, "association_id": ident, "external_id": ctx.uuid("external"),
            "association_arn": ctx.arn("eks", f"podidentityassociation/{state.get('cluster_name')}/{ident}")}


# --- Cloud Control ---------------------------------------------------------------------------


def _sagemaker_cluster(desired: dict[str, Any], ctx: Context) -> tuple[str, dict[str, Any]]:
    arn = ctx.arn("sagemaker", f"cluster/{ctx.hex(12, 'sagemaker-cluster')}")
    reported = dict(desired)
    reported.update(ClusterArn=arn, ClusterStatus="InService", CreationTime=FIXED_TIME)
    groups = []
    for group in desired.get("InstanceGroups", []) or []:
        group = dict(group)
        group.setdefault("CurrentCount", group.get("InstanceCount", 0))
        groups.append(group)
    if groups:
        reported["InstanceGroups"] = groups
    return arn, reported


def _sagemaker_policy(kind: str, prefix: str) -> Callable[[dict[str, Any], Context], tuple[str, dict[str, Any]]]:
    """A task governance policy: its ARN (the primary identifier), ID, version and status."""

    def report(desired: dict[str, Any], ctx: Context) -> tuple[str, dict[str, Any]]:
        identifier = ctx.hex(12, kind, desired.get("Name"))
        arn = ctx.arn("sagemaker", f"{kind}/{identifier}")
        reported = dict(desired)
        reported.update({f"{prefix}Arn": arn, f"{prefix}Id": identifier, f"{prefix}Version": 1, "Status": "Created",
                         "CreationTime": FIXED_TIME})
        return arn, reported

    return report


# CloudFormation type -> what the service reports beside the desired state.
CLOUDCONTROL_TYPES = {
    "AWS::SageMaker::Cluster": _sagemaker_cluster,
    "AWS::SageMaker::ComputeQuota": _sagemaker_policy("compute-quota", "ComputeQuota"),
    "AWS::SageMaker::ClusterSchedulerConfig": _sagemaker_policy("cluster-scheduler-config", "ClusterSchedulerConfig"),
}


@resource("aws_cloudcontrolapi_resource")
def _cloudcontrol(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    type_name = state.get("type_name")
    try:
        desired = json.loads(state.get("desired_state") or "{}")
    except (TypeError, ValueError):
        desired = {}
    report = CLOUDCONTROL_TYPES.get(type_name)
    if report is not None:
        identifier, properties = report(desired, ctx)
    else:
        identifier, properties = ctx.hex(20, "cloudcontrol"), desired
    return {"id": identifier, "properties": json.dumps(properties, sort_keys=True, separators=(",", ":")),
            "schema": json.dumps({"typeName": type_name, "description": "stand-in schema"}), "role_arn": "", "type_version_id": ""}


# --- helm ------------------------------------------------------------------------------------


@resource("helm_release")
def _helm_release(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = state.get("name")
    namespace = state.get("namespace") if _known(state.get("namespace")) else "default"
    chart = str(state.get("chart") or "").rstrip("/").rsplit("/", 1)[-1]
    version = state.get("version") if _known(state.get("version")) else "0.1.0"
    values = {}
    for document in state.get("values") or []:
        if isinstance(document, str):
            values["raw"] = values.get("raw", "") + document
    return {
        "id": name, "status": "deployed", "version": version, "namespace": namespace, "manifest": None,
        "resources": {},
        "metadata": {"name": name, "namespace": namespace, "chart": chart, "version": version, "app_version": version,
                     "revision": 1, "first_deployed": FIXED_EPOCH, "last_deployed": FIXED_EPOCH, "notes": "",
                     "values": json.dumps(values, sort_keys=True)},
    }


# --- data sources ----------------------------------------------------------------------------

# Versions the stand-in reports for an add-on of the pinned Kubernetes line.
ADDON_VERSIONS = {
    "coredns": "v1.12.1-eksbuild.2",
    "kube-proxy": "v{k8s}.0-eksbuild.2",
    "vpc-cni": "v1.19.5-eksbuild.1",
    "eks-pod-identity-agent": "v1.3.7-eksbuild.2",
    "aws-ebs-csi-driver": "v1.44.0-eksbuild.1",
    "amazon-cloudwatch-observability": "v4.1.0-eksbuild.1",
    "amazon-sagemaker-hyperpod-training-operator": "v1.0.0-eksbuild.1",
    "amazon-sagemaker-hyperpod-taskgovernance": "v1.0.0-eksbuild.1",
    "amazon-sagemaker-hyperpod-observability": "v1.0.0-eksbuild.1",
}


def addon_version(addon: Any, kubernetes_version: Any) -> str:
    k8s = kubernetes_version if isinstance(kubernetes_version, str) and kubernetes_version else "1.33"
    return ADDON_VERSIONS.get(str(addon), "v1.0.0-eksbuild.1").format(k8s=k8s)


@data_source("aws_availability_zones")
def _zones(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    pairs = list(zip(ctx.zone_names(), ctx.zone_ids()))
    excluded_names = set(config.get("exclude_names") or [])
    excluded_ids = set(config.get("exclude_zone_ids") or [])
    pairs = [(n, i) for n, i in pairs if n not in excluded_names and i not in excluded_ids]
    return {"id": ctx.region, "names": [n for n, _ in pairs], "zone_ids": [i for _, i in pairs],
            "group_names": [ctx.region] * len(pairs)}


@data_source("aws_caller_identity")
def _caller(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"id": ctx.account, "account_id": ctx.account,
            "arn": f"arn:{ctx.partition}:sts::{ctx.account}:assumed-role/OfflineStandIn/offline-session",
            "user_id": "AROA" + ctx.upper(17, "caller") + ":offline-session"}


@data_source("aws_partition")
def _partition(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    suffix = ctx.dns_suffix
    return {"id": ctx.partition, "partition": ctx.partition, "dns_suffix": suffix,
            "reverse_dns_prefix": ".".join(reversed(suffix.split(".")))}


@data_source("aws_region")
def _region(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"id": ctx.region, "name": ctx.region, "region": ctx.region,
            "description": REGION_NAMES.get(ctx.region, ctx.region), "endpoint": f"ec2.{ctx.region}.{ctx.dns_suffix}"}


@data_source("aws_iam_session_context")
def _session_context(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    arn = config.get("arn") or ""
    if ":assumed-role/" in arn:
        head, rest = arn.split(":assumed-role/", 1)
        role, _, session = rest.partition("/")
        return {"id": arn, "issuer_arn": head.replace(":sts:", ":iam:") + f":role/{role}", "issuer_name": role,
                "issuer_id": "AROA" + ctx.upper(17, "caller"), "session_name": session}
    return {"id": arn, "issuer_arn": arn, "issuer_name": arn.rsplit("/", 1)[-1], "issuer_id": "", "session_name": ""}


@data_source("aws_eks_addon_version")
def _addon_version(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"id": config.get("addon_name"), "version": addon_version(config.get("addon_name"), config.get("kubernetes_version"))}


@data_source("aws_eks_cluster")
def _eks_cluster_data(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    name = config.get("name")
    endpoint, issuer = _eks_endpoint(ctx, name)
    return {
        "id": name, "arn": ctx.arn("eks", f"cluster/{name}"), "endpoint": endpoint,
        "certificate_authority": [{"data": _ca_data(ctx)}], "identity": [{"oidc": [{"issuer": issuer}]}],
        "platform_version": "eks.1", "status": "ACTIVE", "version": "1.33", "created_at": FIXED_TIME,
        "role_arn": ctx.arn("iam", f"role/{name}-cluster", region=False), "cluster_id": "",
        "deletion_protection": False, "enabled_cluster_log_types": ["api", "audit", "authenticator"],
        "vpc_config": [{
            "cluster_security_group_id": f"sg-0{ctx.hex(16, 'eks-cluster-sg')}", "endpoint_private_access": True,
            "endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"], "security_group_ids": [],
            "subnet_ids": [f"subnet-0{ctx.hex(16, 'subnet', i)}" for i in range(ctx.zones)],
            "vpc_id": f"vpc-0{ctx.hex(16, 'eks-vpc')}",
        }],
        "kubernetes_network_config": [{"ip_family": "ipv4", "service_ipv4_cidr": "172.20.0.0/16", "service_ipv6_cidr": "",
                                       "elastic_load_balancing": [{"enabled": False}]}],
        "access_config": [{"authentication_mode": "API_AND_CONFIG_MAP", "bootstrap_cluster_creator_admin_permissions": False}],
        "upgrade_policy": [{"support_type": "EXTENDED"}],
    }


# --- FSx and VPC endpoints (storage and network) ---------------------------------------------


@resource("aws_fsx_lustre_file_system")
def _fsx_lustre(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    ident = f"fs-0{ctx.hex(16, 'fsx')}"
    # FSx names Lustre file systems <id>.fsx.<region>.<suffix>; the mount name is 8
    # characters (SCRATCH_1's is "fsx").
    mount = "fsx" if state.get("deployment_type") == "SCRATCH_1" else ctx.hex(8, "mount")
    return {"id": ident, "arn": ctx.arn("fsx", f"file-system/{ident}"), "dns_name": f"{ident}.fsx.{ctx.region}.{ctx.dns_suffix}",
            "mount_name": mount, "owner_id": ctx.account, "network_interface_ids": [f"eni-0{ctx.hex(16, 'fsx-eni')}"],
            "vpc_id": f"vpc-0{ctx.hex(16, 'fsx-vpc')}"}


@resource("aws_fsx_data_repository_association")
def _fsx_association(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    ident = f"dra-0{ctx.hex(16, 'dra')}"
    return {"id": ident, "association_id": ident, "arn": ctx.arn("fsx", f"association/{state.get('file_system_id')}/{ident}")}


@resource("aws_ec2_tag")
def _ec2_tag(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"id": f"{state.get('resource_id')},{state.get('key')}"}


@data_source("aws_vpc_endpoint_service")
def _endpoint_service(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    service = config.get("service") or "s3"
    name = config.get("service_name") or f"com.amazonaws.{ctx.region}.{service}"
    kind = config.get("service_type") or "Interface"
    return {"id": ctx.hex(8, name, kind), "service": service, "service_name": name, "service_type": kind,
            "availability_zones": ctx.zone_names(), "owner": "amazon", "acceptance_required": False,
            "private_dns_name": None if kind == "Gateway" else f"{service}.{ctx.region}.{ctx.dns_suffix}"}


@data_source("aws_subnet")
def _subnet_data(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """An existing subnet: spread over the region's zones by its id, in a 10.0.0.0/16 VPC."""
    ident = config.get("id") or f"subnet-0{ctx.hex(16, 'subnet')}"
    index = int(hashlib.sha256(str(ident).encode()).hexdigest(), 16) % ctx.zones
    zone = ctx.zone_names()[index]
    return {"id": ident, "arn": ctx.arn("ec2", f"subnet/{ident}"), "availability_zone": zone,
            "availability_zone_id": ctx.zone_ids()[index], "cidr_block": f"10.0.{index * 16}.0/20",
            "vpc_id": f"vpc-0{ctx.hex(16, 'existing-vpc')}", "owner_id": ctx.account, "state": "available"}


@data_source("aws_vpc")
def _vpc_data(config: dict[str, Any], ctx: Context) -> dict[str, Any]:
    ident = config.get("id") or f"vpc-0{ctx.hex(16, 'existing-vpc')}"
    return {"id": ident, "arn": ctx.arn("ec2", f"vpc/{ident}"), "cidr_block": "10.0.0.0/16", "owner_id": ctx.account,
            "enable_dns_support": True, "enable_dns_hostnames": True, "state": "available"}
