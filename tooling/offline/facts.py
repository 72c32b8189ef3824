"""What the provider bindings do not say about the real providers, kept as data.

Each table names its source. The versions are the pinned ones (hashicorp/aws 6.25,
hashicorp/helm 3.1, hashicorp/kubernetes 2.38); where a table reads a provider's Go
source, it is the schema in ``hashicorp/terraform-provider-<name>`` of that release line.
Paths step through nested blocks by name: ``("vpc_config", "subnet_ids")``.

Only the resource types this project uses (and their neighbours) are listed; a type not
listed plans every change as an in-place update, which a test would show.
"""

from __future__ import annotations

# --- schema shape ----------------------------------------------------------------------

# Providers written with terraform-plugin-framework whose every nested object is a nested
# attribute (``set = [{...}]``, ``kubernetes = {...}``), though the bindings call them blocks.
# Source: helm provider docs/guides/v3-upgrade-guide.md ("Blocks to Nested Objects") and
# helm/resource_helm_release.go (ListNestedAttribute, SingleNestedAttribute,
# timeouts.Attributes).
NESTED_ATTRIBUTE_PROVIDERS = frozenset({"helm"})

# SDKv2 "attributes as blocks" (ConfigMode: SchemaConfigModeAttr): Terraform sees a plain
# optional+computed attribute of type set(object), so every field of an object written as an
# attribute must be given. Source: aws provider internal/service/ec2 (vpc_security_group.go,
# vpc_default_security_group.go, vpc_route_table.go).
ATTRIBUTES_AS_BLOCKS: dict[str, frozenset[str]] = {
    "aws_security_group": frozenset({"ingress", "egress"}),
    "aws_default_security_group": frozenset({"ingress", "egress"}),
    "aws_route_table": frozenset({"route"}),
    "aws_default_route_table": frozenset({"route"}),
}

# Sensitive attributes (the bindings drop the flag). Source: the providers' schemas
# (Sensitive: true).
SENSITIVE: dict[str, frozenset[tuple[str, ...]]] = {
    "provider.aws": frozenset({("access_key",), ("secret_key",), ("token",)}),
    "provider.helm": frozenset(
        {("kubernetes", "password"), ("kubernetes", "token"), ("kubernetes", "client_key"), ("registries", "password")}
    ),
    "provider.kubernetes": frozenset({("password",), ("token",), ("client_key",)}),
    "helm_release": frozenset({("repository_password",), ("set_sensitive", "value"), ("set_wo", "value")}),
    "aws_cloudcontrolapi_resource": frozenset({("schema",)}),
    "aws_iam_access_key": frozenset({("secret",), ("ses_smtp_password_v4",)}),
}

# --- plan ------------------------------------------------------------------------------

# Attributes whose change replaces the resource (ForceNew / RequiresReplace).
# Source: each type's schema in the provider's Go source of the pinned line, e.g.
# aws internal/service/eks/cluster.go and node_group.go, ec2/vpc_subnet.go,
# cloudcontrol/resource.go; helm/resource_helm_release.go. Since aws 5.25.0
# aws_eks_cluster vpc_config.subnet_ids and security_group_ids update in place
# (CHANGELOG 5.25.0), so they are not listed. Every aws resource with a ``region``
# argument (aws 6) is also replaced when it changes; see ``replacing_paths``.
REPLACING: dict[str, frozenset[tuple[str, ...]]] = {
    key: frozenset(tuple(p.split(".")) for p in paths)
    for key, paths in {
        "aws_vpc": ["cidr_block", "ipv4_ipam_pool_id", "ipv4_netmask_length"],
        "aws_subnet": ["vpc_id", "cidr_block", "availability_zone", "availability_zone_id", "ipv6_native", "outpost_arn"],
        "aws_eip": ["address", "customer_owned_ipv4_pool", "domain", "ipam_pool_id", "network_border_group", "public_ipv4_pool"],
        "aws_nat_gateway": ["allocation_id", "connectivity_type", "private_ip", "subnet_id"],
        "aws_route_table": ["vpc_id"],
        "aws_route": ["route_table_id", "destination_cidr_block", "destination_ipv6_cidr_block", "destination_prefix_list_id"],
        "aws_route_table_association": ["subnet_id", "gateway_id"],
        "aws_security_group": ["name", "name_prefix", "description", "vpc_id"],
        "aws_default_security_group": ["vpc_id"],
        "aws_vpc_security_group_ingress_rule": ["security_group_id"],
        "aws_vpc_security_group_egress_rule": ["security_group_id"],
        "aws_flow_log": [
            "deliver_cross_account_role", "eni_id", "iam_role_arn", "log_destination", "log_destination_type",
            "log_format", "max_aggregation_interval", "subnet_id", "traffic_type",
            "transit_gateway_attachment_id", "transit_gateway_id", "vpc_id", "destination_options",
        ],
        "aws_cloudwatch_log_group": ["name", "name_prefix", "log_group_class"],
        "aws_kms_key": ["customer_master_key_spec", "key_usage", "multi_region", "custom_key_store_id", "xks_key_id"],
        "aws_kms_alias": ["name", "name_prefix"],
        "aws_iam_role": ["name", "name_prefix", "path"],
        "aws_iam_policy": ["name", "name_prefix", "path", "description"],
        "aws_iam_role_policy": ["name", "name_prefix", "role"],
        "aws_iam_role_policy_attachment": ["role", "policy_arn"],
        "aws_eks_cluster": [
            "name", "role_arn", "bootstrap_self_managed_addons",
            "access_config.bootstrap_cluster_creator_admin_permissions",
            "kubernetes_network_config.ip_family", "kubernetes_network_config.service_ipv4_cidr",
            "outpost_config.control_plane_instance_type", "outpost_config.control_plane_placement.group_name",
            "remote_network_config",
        ],
        "aws_eks_node_group": [
            "ami_type", "capacity_type", "cluster_name", "disk_size", "instance_types", "launch_template.id",
            "launch_template.name", "node_group_name", "node_group_name_prefix", "node_role_arn", "remote_access",
            "subnet_ids",
        ],
        "aws_eks_addon": ["cluster_name", "addon_name"],
        "aws_eks_access_entry": ["cluster_name", "principal_arn", "type"],
        "aws_eks_access_policy_association": ["cluster_name", "principal_arn", "policy_arn", "access_scope"],
        "aws_eks_pod_identity_association": ["cluster_name", "namespace", "service_account"],
        "aws_launch_template": ["name", "name_prefix"],
        "aws_s3_bucket": ["bucket", "bucket_prefix", "object_lock_enabled"],
        "aws_s3_bucket_lifecycle_configuration": ["bucket", "expected_bucket_owner"],
        "aws_s3_bucket_ownership_controls": ["bucket"],
        "aws_s3_bucket_policy": ["bucket"],
        "aws_s3_bucket_public_access_block": ["bucket"],
        "aws_s3_bucket_server_side_encryption_configuration": ["bucket", "expected_bucket_owner"],
        "aws_s3_bucket_versioning": ["bucket", "expected_bucket_owner"],
        "aws_s3_object": ["bucket", "key"],
        "aws_sqs_queue": ["name", "name_prefix", "fifo_queue"],
        "aws_sqs_queue_policy": ["queue_url"],
        "aws_cloudwatch_event_rule": ["name", "name_prefix", "event_bus_name"],
        "aws_cloudwatch_event_target": ["rule", "target_id", "event_bus_name"],
        "aws_prometheus_workspace": ["kms_key_arn"],
        "aws_cloudcontrolapi_resource": ["type_name", "type_version_id"],
        "helm_release": ["name", "namespace"],
        "kubernetes_namespace": ["metadata.name"],
    }.items()
}

# Cloud Control replaces a resource when a JSON patch path of its desired_state change
# equals one of its type's createOnlyProperties pointers (cloudcontrol/resource.go with
# cfschema's EqualsStringPath: string equality, so pointers with "*" never match and a
# change inside an array element plans as an update). Source: the CloudFormation resource
# schema of each type (createOnlyProperties).
CREATE_ONLY_PROPERTIES: dict[str, tuple[tuple[str, ...], ...]] = {
    "AWS::SageMaker::Cluster": (
        ("ClusterName",),
        ("VpcConfig",),
        ("Orchestrator",),
        ("InstanceGroups", "*", "OverrideVpcConfig"),
        ("InstanceGroups", "*", "ExecutionRole"),
        ("InstanceGroups", "*", "InstanceGroupName"),
        ("InstanceGroups", "*", "InstanceType"),
        ("InstanceGroups", "*", "ThreadsPerCore"),
    ),
}

# Defaults the real provider plans for an unset optional attribute (SDKv2 ``Default:``,
# framework ``Default``). Unset optional attributes not listed plan as "known after apply".
# Source: the types' schemas in the providers' Go source; helm: defaultAttributes and
# namespaceDefault in helm/resource_helm_release.go.
PLAN_DEFAULTS: dict[str, dict[tuple[str, ...], object]] = {
    key: {tuple(p.split(".")): v for p, v in values.items()}
    for key, values in {
        "helm_release": {
            "atomic": False, "cleanup_on_fail": False, "create_namespace": False, "dependency_update": False,
            "disable_crd_hooks": False, "disable_openapi_validation": False, "disable_webhooks": False,
            "force_update": False, "lint": False, "max_history": 0, "namespace": "default", "pass_credentials": False,
            "recreate_pods": False, "render_subchart_notes": True, "replace": False, "reset_values": False,
            "reuse_values": False, "skip_crds": False, "take_ownership": False, "timeout": 300, "verify": False,
            "wait": True, "wait_for_jobs": False, "upgrade_install": False, "set.type": "",
        },
        "aws_eks_cluster": {
            "bootstrap_self_managed_addons": True,
            "vpc_config.endpoint_private_access": False,
            "vpc_config.endpoint_public_access": True,
            "access_config.bootstrap_cluster_creator_admin_permissions": True,
        },
        "aws_iam_role": {"force_detach_policies": False, "max_session_duration": 3600, "path": "/"},
        "aws_iam_policy": {"path": "/"},
        "aws_s3_bucket": {"force_destroy": False},
        "aws_s3_object": {"force_destroy": False},
        "aws_security_group": {"description": "Managed by Terraform", "revoke_rules_on_delete": False},
        "aws_default_security_group": {"revoke_rules_on_delete": False},
        "aws_vpc": {"enable_dns_support": True, "instance_tenancy": "default", "assign_generated_ipv6_cidr_block": False},
        "aws_subnet": {
            "map_public_ip_on_launch": False, "assign_ipv6_address_on_creation": False, "enable_dns64": False,
            "ipv6_native": False, "enable_resource_name_dns_a_record_on_launch": False,
            "enable_resource_name_dns_aaaa_record_on_launch": False,
        },
        "aws_kms_key": {
            "is_enabled": True, "key_usage": "ENCRYPT_DECRYPT", "customer_master_key_spec": "SYMMETRIC_DEFAULT",
            "bypass_policy_lockout_safety_check": False, "enable_key_rotation": False,
        },
        "aws_cloudwatch_log_group": {"retention_in_days": 0, "skip_destroy": False},
        "aws_cloudwatch_event_rule": {"event_bus_name": "default", "force_destroy": False},
        "aws_cloudwatch_event_target": {"event_bus_name": "default", "force_destroy": False},
        "aws_nat_gateway": {"connectivity_type": "public"},
        "aws_flow_log": {"max_aggregation_interval": 600, "log_destination_type": "cloud-watch-logs"},
        "aws_sqs_queue": {
            "delay_seconds": 0, "fifo_queue": False, "content_based_deduplication": False,
            "message_retention_seconds": 345600, "receive_wait_time_seconds": 0, "visibility_timeout_seconds": 30,
        },
    }.items()
}

# Optional attributes that are not computed in the real provider, named here because the
# bindings make every optional attribute optional+computed: unset, they plan as null (not
# "known after apply"). Source: tftags.TagsSchema() (Optional only) in the aws provider.
PLAN_NULL: dict[str, frozenset[tuple[str, ...]]] = {
    "aws": frozenset({("tags",)}),
}

# Computed attributes the real provider plans as unknown again when these inputs change
# (customdiff.ComputedIf, framework ModifyPlan). Source: cloudcontrol/resource.go
# (properties), helm/resource_helm_release.go (metadata and manifest on every change).
RECOMPUTED_ON_CHANGE: dict[str, dict[str, tuple[str, ...] | None]] = {
    "aws_cloudcontrolapi_resource": {"properties": ("desired_state",)},
    "helm_release": {"metadata": None, "manifest": None},  # None: on any change
    "aws_s3_object": {"version_id": ("source", "content", "content_base64", "etag", "source_hash")},
    "aws_launch_template": {"latest_version": None},
}

# --- validation ------------------------------------------------------------------------

# (min length, max length, pattern) for names the real provider validates at plan.
# Source: ValidateFunc/validators of the types' schemas (aws validClusterName,
# StringLenBetween on node_group_name, iam role name 64 / prefix 38, helm release name 53...).
NAME_RULES: dict[str, dict[tuple[str, ...], tuple[int, int, str | None]]] = {
    key: {tuple(p.split(".")): rule for p, rule in rules.items()}
    for key, rules in {
        "aws_eks_cluster": {"name": (1, 100, r"^[0-9A-Za-z][A-Za-z0-9\-_]*$")},
        "aws_eks_node_group": {"node_group_name": (0, 63, None), "node_group_name_prefix": (0, 37, None)},
        "aws_iam_role": {"name": (1, 64, r"^[\w+=,.@-]*$"), "name_prefix": (1, 38, r"^[\w+=,.@-]*$")},
        "aws_iam_policy": {"name": (1, 128, r"^[\w+=,.@-]*$")},
        "aws_iam_role_policy": {"name": (1, 128, r"^[\w+=,.@-]*$")},
        "aws_s3_bucket": {"bucket": (3, 63, r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"), "bucket_prefix": (1, 37, None)},
        "aws_sqs_queue": {"name": (1, 80, r"^[A-Za-z0-9_-]+(\.fifo)?$")},
        "aws_cloudwatch_event_rule": {"name": (1, 64, r"^[\.\-_A-Za-z0-9]+$")},
        "aws_security_group": {"name": (0, 255, None), "description": (0, 255, None)},
        "aws_kms_alias": {"name": (1, 256, r"^alias/(?!aws/)[a-zA-Z0-9:/_-]+$")},
        "aws_launch_template": {"name": (3, 128, r"^[a-zA-Z0-9().\-/_]+$")},
        "aws_cloudwatch_log_group": {"name": (1, 512, r"^[\.\-_/#A-Za-z0-9]+$")},
        "aws_eks_access_entry": {"type": (1, 64, r"^(STANDARD|FARGATE_LINUX|EC2_LINUX|EC2_WINDOWS|EC2|HYBRID_LINUX|HYPERPOD_LINUX)$")},
        "helm_release": {"name": (1, 53, None)},
    }.items()
}

# CloudFormation property rules checked on a Cloud Control desired_state. Source: the
# AWS::SageMaker::Cluster resource schema (ClusterName and InstanceGroupName patterns).
CLOUDCONTROL_RULES: dict[str, dict[tuple[str, ...], tuple[int, int, str | None]]] = {
    "AWS::SageMaker::Cluster": {
        ("ClusterName",): (1, 63, r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"),
        ("InstanceGroups", "*", "InstanceGroupName"): (1, 63, r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"),
    },
}


def replacing_paths(type_name: str, top_attributes: set[str]) -> frozenset[tuple[str, ...]]:
    """The paths whose change replaces a resource of ``type_name``."""
    paths = set(REPLACING.get(type_name, frozenset()))
    if type_name.startswith("aws_") and "region" in top_attributes:
        paths.add(("region",))
    return frozenset(paths)

# Attributes the real provider requires to hold JSON (validation.StringIsJSON,
# verify.ValidIAMPolicyJSON). Source: the types' schemas in the aws provider.
JSON_ATTRIBUTES: dict[str, frozenset[str]] = {
    "aws_iam_role": frozenset({"assume_role_policy"}),
    "aws_iam_policy": frozenset({"policy"}),
    "aws_iam_role_policy": frozenset({"policy"}),
    "aws_s3_bucket_policy": frozenset({"policy"}),
    "aws_sqs_queue": frozenset({"policy", "redrive_policy", "redrive_allow_policy"}),
    "aws_sqs_queue_policy": frozenset({"policy"}),
    "aws_kms_key": frozenset({"policy"}),
    "aws_eks_addon": frozenset({"configuration_values"}),
    "aws_cloudcontrolapi_resource": frozenset({"desired_state"}),
    "aws_cloudwatch_event_rule": frozenset({"event_pattern"}),
}


def described_types() -> dict[str, set[str]]:
    """Provider name -> the resource types the tables above describe (the schema-shaped
    ones: a Cloud Control type name or a provider configuration is not a resource type)."""
    tables = [REPLACING, PLAN_DEFAULTS, RECOMPUTED_ON_CHANGE, NAME_RULES, JSON_ATTRIBUTES, ATTRIBUTES_AS_BLOCKS,
              {k: v for k, v in SENSITIVE.items() if not k.startswith("provider.")}]
    out: dict[str, set[str]] = {}
    for table in tables:
        for type_name in table:
            out.setdefault(type_name.split("_", 1)[0], set()).add(type_name)
    return out
