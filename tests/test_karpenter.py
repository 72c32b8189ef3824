"""Karpenter in the synthesized stack: IAM, interruption handling and the two Helm releases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.tf import policy_of, ref, resource, resources, size_when_applied

REPO = Path(__file__).resolve().parent.parent
STACK_DIR = REPO / "cdktf.out" / "stacks" / "ml-platform"
CONCERNS = ("eks_integration", "iam_integration", "interruption", "node_lifecycle", "resource_discovery")
MANAGED_POLICY_LIMIT = 6144
# Resource "*" is allowed only where the action has no resource-level permissions.
UNSCOPABLE = {"DescribeInThisRegion", "ReadPrices", "ListInstanceProfiles"}
NODE_ROLE = ("aws_iam_role", "karpenter_node_role")
QUEUE = ("aws_sqs_queue", "karpenter_interruption_queue")
CONTROLLER_RELEASE = ("helm_release", "karpenter_release")
NODE_POOLS_RELEASE = ("helm_release", "karpenter_node_pools")


def statements(policy_expression: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy_of(policy_expression)["Statement"]}


@pytest.fixture(scope="module")
def controller_policies(stack) -> dict[str, dict]:
    return {c: resource(stack, "aws_iam_policy", f"karpenter_controller_policy_{c}") for c in CONCERNS}


def test_controller_role_is_assumed_through_pod_identity(stack):
    role = resource(stack, "aws_iam_role", "karpenter_controller_identity_role")
    (trust,) = policy_of(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    association = resource(stack, "aws_eks_pod_identity_association", "karpenter_controller_identity_association")
    assert (association["namespace"], association["service_account"]) == ("kube-system", "karpenter")
    assert association["cluster_name"] == ref("aws_eks_cluster", "eks_control_plane_cluster", "name")
    assert association["role_arn"] == ref("aws_iam_role", "karpenter_controller_identity_role", "arn")


def test_controller_policy_is_split_by_concern_and_attached(stack, controller_policies):
    attachments = resources(stack, "aws_iam_role_policy_attachment")
    attached = {
        a["policy_arn"]
        for a in attachments.values()
        if a["role"] == ref("aws_iam_role", "karpenter_controller_identity_role", "name")
    }
    assert attached == {ref("aws_iam_policy", f"karpenter_controller_policy_{c}", "arn") for c in CONCERNS}
    names = [p["name"] for p in controller_policies.values()]
    assert len(set(names)) == len(CONCERNS) and all(n.startswith("ml-platform-karpenter-") for n in names)


def test_each_controller_policy_fits_a_managed_policy(controller_policies):
    for concern, policy in controller_policies.items():
        assert size_when_applied(policy["policy"]) < MANAGED_POLICY_LIMIT, concern
    together = sum(size_when_applied(p["policy"]) for p in controller_policies.values())
    assert together > MANAGED_POLICY_LIMIT, "one document would not fit: the split is needed"


def test_controller_policies_are_least_privilege(controller_policies):
    for concern, policy in controller_policies.items():
        for sid, statement in statements(policy["policy"]).items():
            assert statement["Effect"] == "Allow"
            assert "*" not in statement["Action"] and not any(a.endswith(":*") for a in statement["Action"])
            if "*" in statement["Resource"]:
                assert sid in UNSCOPABLE, f"{concern}/{sid} grants Resource '*'"


def test_ec2_writes_are_bound_to_this_cluster_and_region(controller_policies):
    lifecycle = statements(controller_policies["node_lifecycle"]["policy"])
    for sid, statement in lifecycle.items():
        for arn in statement["Resource"]:
            assert arn.startswith("arn:${data.aws_partition.context_partition.partition}:ec2:us-west-2:"), arn
        conditions = json.dumps(statement.get("Condition", {}))
        if sid != "LaunchFromSharedResources":
            assert "kubernetes.io/cluster/ml-platform" in conditions, sid
    deletion = lifecycle["DeleteOwnInstancesAndLaunchTemplates"]
    assert deletion["Condition"]["StringEquals"] == {"aws:ResourceTag/kubernetes.io/cluster/ml-platform": "owned"}
    assert set(deletion["Action"]) == {"ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"}


def test_controller_may_pass_only_the_node_role_to_ec2(controller_policies):
    passing = statements(controller_policies["iam_integration"]["policy"])["PassNodeRoleToEc2"]
    assert passing["Resource"] == [ref(*NODE_ROLE, "arn")]
    assert passing["Condition"]["StringEquals"]["iam:PassedToService"].startswith("ec2.")


def test_controller_reads_only_this_queue_and_cluster(controller_policies):
    (queue,) = statements(controller_policies["interruption"]["policy"]).values()
    assert queue["Resource"] == [ref(*QUEUE, "arn")]
    assert set(queue["Action"]) == {"sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"}
    (cluster,) = statements(controller_policies["eks_integration"]["policy"]).values()
    assert cluster["Resource"][0].endswith(":cluster/ml-platform")


def test_describe_calls_are_limited_to_the_region(controller_policies):
    discovery = statements(controller_policies["resource_discovery"]["policy"])["DescribeInThisRegion"]
    assert discovery["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}
    assert all(action.startswith("ec2:Describe") for action in discovery["Action"])


def test_node_role_has_the_node_policies_and_joins_as_ec2_linux(stack):
    role = resource(stack, *NODE_ROLE)
    assert role["name"] == "ml-platform-karpenter-node"
    (trust,) = policy_of(role["assume_role_policy"])["Statement"]
    assert trust["Principal"]["Service"].startswith("ec2.") and trust["Action"] == ["sts:AssumeRole"]
    attached = {
        a["policy_arn"].rsplit("/", 1)[1]
        for a in resources(stack, "aws_iam_role_policy_attachment").values()
        if a["role"] == ref(*NODE_ROLE, "name")
    }
    assert attached == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKS_CNI_Policy",
        "AmazonSSMManagedInstanceCore",
    }
    entry = resource(stack, "aws_eks_access_entry", "karpenter_node_access_entry")
    assert entry["type"] == "EC2_LINUX"
    assert entry["principal_arn"] == ref(*NODE_ROLE, "arn")


def test_interruption_queue_is_encrypted_short_lived_and_tls_only(stack):
    queue = resource(stack, *QUEUE)
    assert queue["name"] == "ml-platform-karpenter"
    assert queue["message_retention_seconds"] == 300
    assert queue["sqs_managed_sse_enabled"] is True
    policy = resource(stack, "aws_sqs_queue_policy", "karpenter_interruption_policy")
    assert policy["queue_url"] == ref(*QUEUE, "url")
    by_sid = statements(policy["policy"])
    deny = by_sid["DenyWithoutTls"]
    assert deny["Effect"] == "Deny" and deny["Action"] == ["sqs:*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    send = by_sid["EventBridgeRulesSend"]
    assert send["Principal"]["Service"].startswith("events.") and send["Action"] == ["sqs:SendMessage"]
    rules = resources(stack, "aws_cloudwatch_event_rule")
    assert set(send["Condition"]["ArnEquals"]["aws:SourceArn"]) == {
        ref("aws_cloudwatch_event_rule", name, "arn") for name in rules if name.startswith("karpenter_")
    }


EXPECTED_EVENTS = {
    ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("aws.ec2", "EC2 Instance State-change Notification"),
    ("aws.health", "AWS Health Event"),
    ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}


def test_every_interruption_event_reaches_the_queue(stack):
    rules = {n: r for n, r in resources(stack, "aws_cloudwatch_event_rule").items() if n.startswith("karpenter_")}
    patterns = [json.loads(r["event_pattern"]) for r in rules.values()]
    assert {(p["source"][0], p["detail-type"][0]) for p in patterns} == EXPECTED_EVENTS
    assert all(len(r["name"]) <= 64 for r in rules.values())
    targets = [t for n, t in resources(stack, "aws_cloudwatch_event_target").items() if n.startswith("karpenter_")]
    assert {t["rule"] for t in targets} == {ref("aws_cloudwatch_event_rule", n, "name") for n in rules}
    assert all(t["arn"] == ref(*QUEUE, "arn") for t in targets)


@pytest.fixture(scope="module")
def controller_release(stack) -> dict:
    return resource(stack, *CONTROLLER_RELEASE)


def release_values(release: dict) -> dict:
    (values,) = release["values"]
    return yaml.safe_load(values)


def test_karpenter_chart_is_pinned_from_public_ecr(controller_release):
    assert controller_release["repository"] == "oci://public.ecr.aws/karpenter"
    assert controller_release["chart"] == "karpenter"
    assert controller_release["version"] == "1.14.1"
    assert tuple(int(p) for p in controller_release["version"].split(".")) >= (1, 5, 0)
    assert controller_release["namespace"] == "kube-system"


def test_chart_version_comes_from_config(synth):
    release = resource(synth({"karpenter": {"chart_version": "1.6.3"}}), *CONTROLLER_RELEASE)
    assert release["version"] == "1.6.3"


def test_karpenter_settings_name_cluster_endpoint_and_queue(stack, controller_release):
    values = release_values(controller_release)
    assert values["settings"]["clusterName"] == "ml-platform"
    assert values["settings"]["interruptionQueue"] == resource(stack, *QUEUE)["name"]
    assert {"name": "settings.clusterEndpoint", "value": ref("aws_eks_cluster", "eks_control_plane_cluster", "endpoint")} in (
        controller_release["set"]
    )
    assert values["serviceAccount"]["name"] == "karpenter", "the pod identity association names this account"


def test_controller_runs_on_the_system_node_group(stack, controller_release):
    node_labels = resource(stack, "aws_eks_node_group", "eks_system_nodes_node_group")["labels"]
    selector = release_values(controller_release)["nodeSelector"]
    assert selector["karpenter.sh/controller"] == "true"
    assert all(node_labels.get(k) == v for k, v in selector.items() if k != "kubernetes.io/os")


def test_controller_waits_for_nodes_dns_permissions_and_queue(controller_release):
    depends_on = set(controller_release["depends_on"])
    assert {
        "aws_eks_node_group.eks_system_nodes_node_group",
        "aws_eks_addon.eks_addons_coredns_addon",
        "aws_eks_pod_identity_association.karpenter_controller_identity_association",
        "aws_sqs_queue_policy.karpenter_interruption_policy",
    } <= depends_on
    assert {f"aws_iam_role_policy_attachment.karpenter_controller_identity_role_attach_{c}" for c in CONCERNS} <= depends_on


def test_node_pools_chart_is_installed_after_karpenter_from_the_repo(stack):
    release = resource(stack, *NODE_POOLS_RELEASE)
    assert {"helm_release.karpenter_release", "aws_eks_node_group.eks_system_nodes_node_group"} <= set(
        release["depends_on"]
    )
    assert "aws_eks_access_entry.karpenter_node_access_entry" in release["depends_on"]
    chart = release["chart"]
    assert not chart.startswith("/"), "no absolute path in the synthesized JSON"
    assert (STACK_DIR / chart / "Chart.yaml").resolve() == REPO / "charts" / "karpenter-nodepools" / "Chart.yaml"
    values = release_values(release)
    assert [c["spec"]["role"] for c in values["nodeClasses"]] == [resource(stack, *NODE_ROLE)["name"]] * 2
    assert [p["metadata"]["name"] for p in values["nodePools"]] == ["default", "p5-gpu-h100"]


def test_no_kubernetes_manifest_resources(stack):
    assert "kubernetes_manifest" not in stack.get("resource", {})
