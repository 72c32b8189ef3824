"""Karpenter as the root module calls it (``module.karpenter``): IAM, interruption handling
and the two Helm releases, as Terraform applies them with the offline stand-ins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.test_eks import ELSEWHERE, VARIANT, VARIANT_ZONES, creation_order
from tests.test_security_defaults import statements_by_sid, worst_case_size

REPO = Path(__file__).resolve().parent.parent
MODULE = "karpenter"
CONCERNS = ("eks_integration", "iam_integration", "interruption", "node_lifecycle", "resource_discovery")
MANAGED_POLICY_LIMIT = 6144
# Resource "*" is allowed only where the action has no resource-level permissions.
UNSCOPABLE = {"DescribeInThisRegion", "ReadPrices", "ListInstanceProfiles"}
NODE_ROLE = ("aws_iam_role", "node_role", MODULE)
CONTROLLER_ROLE = ("aws_iam_role", "controller_identity_role", MODULE)
QUEUE = ("aws_sqs_queue", "interruption_queue", MODULE)
CONTROLLER_RELEASE = ("helm_release", "release", MODULE)
NODE_POOLS_RELEASE = ("helm_release", "node_pools", MODULE)
CLUSTER = ("aws_eks_cluster", "eks_control_plane_cluster")


@pytest.fixture(scope="module")
def controller_policies(deployed) -> dict[str, dict]:
    return {c: deployed.find("aws_iam_policy", f"controller_policy_{c}", MODULE) for c in CONCERNS}


@pytest.fixture(scope="module")
def order(deploy) -> dict[str, set[str]]:
    return creation_order(deploy, {})


def attached_to(deployed, role: dict) -> set[str]:
    return {a["policy_arn"] for a in deployed.of_type("aws_iam_role_policy_attachment", MODULE).values() if a["role"] == role["name"]}


def test_controller_role_is_assumed_through_pod_identity(deployed):
    role = deployed.find(*CONTROLLER_ROLE)
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    association = deployed.find("aws_eks_pod_identity_association", "controller_identity_association", MODULE)
    assert (association["namespace"], association["service_account"]) == ("kube-system", "karpenter")
    assert association["cluster_name"] == deployed.find(*CLUSTER)["name"]
    assert association["role_arn"] == role["arn"]


def test_controller_policy_is_split_by_concern_and_attached(deployed, controller_policies):
    assert attached_to(deployed, deployed.find(*CONTROLLER_ROLE)) == {p["arn"] for p in controller_policies.values()}
    names = [p["name"] for p in controller_policies.values()]
    assert len(set(names)) == len(CONCERNS) and all(n.startswith("ml-platform-karpenter-") for n in names)


def test_each_controller_policy_fits_a_managed_policy(controller_policies):
    for concern, policy in controller_policies.items():
        assert worst_case_size(policy["policy"]) < MANAGED_POLICY_LIMIT, concern
    # Their statements as one document would not fit with the longest region and
    # partition names (in us-west-2 they would today): the split is needed.
    merged = json.dumps(
        {"Statement": [s for p in controller_policies.values() for s in json.loads(p["policy"])["Statement"]], "Version": "2012-10-17"}
    )
    assert worst_case_size(merged) > MANAGED_POLICY_LIMIT, "one document would not fit everywhere"


def test_controller_policies_are_least_privilege(controller_policies):
    for concern, policy in controller_policies.items():
        for sid, statement in statements_by_sid(policy["policy"]).items():
            assert statement["Effect"] == "Allow"
            assert "*" not in statement["Action"] and not any(a.endswith(":*") for a in statement["Action"])
            if "*" in statement["Resource"]:
                assert sid in UNSCOPABLE, f"{concern}/{sid} grants Resource '*'"


def test_ec2_writes_are_bound_to_this_cluster_and_region(controller_policies, planned):
    lifecycle = statements_by_sid(controller_policies["node_lifecycle"]["policy"])
    for sid, statement in lifecycle.items():
        for arn in statement["Resource"]:
            assert arn.startswith("arn:aws:ec2:us-west-2:"), arn
        conditions = json.dumps(statement.get("Condition", {}))
        if sid != "LaunchFromSharedResources":
            assert "kubernetes.io/cluster/ml-platform" in conditions, sid
    deletion = lifecycle["DeleteOwnInstancesAndLaunchTemplates"]
    assert deletion["Condition"]["StringEquals"] == {"aws:ResourceTag/kubernetes.io/cluster/ml-platform": "owned"}
    assert set(deletion["Action"]) == {"ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"}
    # Partition and region are read, not written: GovCloud ARNs name both.
    gov = statements_by_sid(planned(ELSEWHERE).find("aws_iam_policy", "controller_policy_node_lifecycle", MODULE)["policy"])
    assert set(gov) == set(lifecycle)
    assert all(arn.startswith("arn:aws-us-gov:ec2:us-gov-west-1:") for s in gov.values() for arn in s["Resource"])


def test_controller_may_pass_only_the_node_role_to_ec2(deployed, controller_policies):
    passing = statements_by_sid(controller_policies["iam_integration"]["policy"])["PassNodeRoleToEc2"]
    assert passing["Resource"] == [deployed.find(*NODE_ROLE)["arn"]]
    assert passing["Condition"]["StringEquals"]["iam:PassedToService"] == "ec2.amazonaws.com"


def test_controller_reads_only_this_queue_and_cluster(deployed, controller_policies):
    (queue,) = statements_by_sid(controller_policies["interruption"]["policy"]).values()
    assert queue["Resource"] == [deployed.find(*QUEUE)["arn"]]
    assert set(queue["Action"]) == {"sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"}
    (cluster,) = statements_by_sid(controller_policies["eks_integration"]["policy"]).values()
    assert cluster["Resource"] == [deployed.find(*CLUSTER)["arn"]]
    assert cluster["Resource"][0].endswith(":cluster/ml-platform")


def test_describe_calls_are_limited_to_the_region(controller_policies, deploy):
    discovery = statements_by_sid(controller_policies["resource_discovery"]["policy"])["DescribeInThisRegion"]
    assert discovery["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}
    assert all(action.startswith("ec2:Describe") for action in discovery["Action"])
    elsewhere = deploy(VARIANT, VARIANT_ZONES).find("aws_iam_policy", "controller_policy_resource_discovery", MODULE)
    assert statements_by_sid(elsewhere["policy"])["DescribeInThisRegion"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": "us-east-1"}
    }


def test_node_role_has_the_node_policies_and_joins_as_ec2_linux(deployed):
    role = deployed.find(*NODE_ROLE)
    assert role["name"] == "ml-platform-karpenter-node"
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"]["Service"] == "ec2.amazonaws.com" and trust["Action"] == ["sts:AssumeRole"]
    attached = attached_to(deployed, role)
    assert {arn.rsplit("/", 1)[1] for arn in attached} == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKS_CNI_Policy",
        "AmazonSSMManagedInstanceCore",
    }
    assert all(arn.startswith("arn:aws:iam::aws:policy/") for arn in attached)
    entry = deployed.find("aws_eks_access_entry", "node_access_entry", MODULE)
    assert entry["type"] == "EC2_LINUX"
    assert entry["principal_arn"] == role["arn"]
    assert entry["cluster_name"] == deployed.find(*CLUSTER)["name"]


def interruption_rules(deployed) -> dict[str, dict]:
    return deployed.of_type("aws_cloudwatch_event_rule", MODULE)


def test_interruption_queue_is_encrypted_short_lived_and_tls_only(deployed):
    queue = deployed.find(*QUEUE)
    assert queue["name"] == "ml-platform-karpenter"
    assert queue["message_retention_seconds"] == 300
    assert queue["sqs_managed_sse_enabled"] is True
    policy = deployed.find("aws_sqs_queue_policy", "interruption_policy", MODULE)
    assert policy["queue_url"] == queue["url"]
    by_sid = statements_by_sid(policy["policy"])
    deny = by_sid["DenyWithoutTls"]
    assert deny["Effect"] == "Deny" and deny["Action"] == ["sqs:*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    send = by_sid["EventBridgeRulesSend"]
    assert send["Principal"]["Service"] == "events.amazonaws.com" and send["Action"] == ["sqs:SendMessage"]
    assert send["Resource"] == deny["Resource"] == [queue["arn"]]
    rules = interruption_rules(deployed)
    assert len(rules) == 5
    assert set(send["Condition"]["ArnEquals"]["aws:SourceArn"]) == {rule["arn"] for rule in rules.values()}


EXPECTED_EVENTS = {
    ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("aws.ec2", "EC2 Instance State-change Notification"),
    ("aws.health", "AWS Health Event"),
    ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}


def test_every_interruption_event_reaches_the_queue(deployed):
    rules = interruption_rules(deployed)
    patterns = [json.loads(r["event_pattern"]) for r in rules.values()]
    assert {(p["source"][0], p["detail-type"][0]) for p in patterns} == EXPECTED_EVENTS
    assert all(len(r["name"]) <= 64 and r["state"] == "ENABLED" for r in rules.values())
    targets = deployed.of_type("aws_cloudwatch_event_target", MODULE)
    assert sorted(t["rule"] for t in targets.values()) == sorted(r["name"] for r in rules.values())
    assert all(t["arn"] == deployed.find(*QUEUE)["arn"] for t in targets.values())


@pytest.fixture(scope="module")
def controller_release(deployed) -> dict:
    return deployed.find(*CONTROLLER_RELEASE)


def release_values(release: dict) -> dict:
    (values,) = release["values"]
    return yaml.safe_load(values)


def test_karpenter_chart_is_pinned_from_public_ecr(controller_release):
    assert controller_release["repository"] == "oci://public.ecr.aws/karpenter"
    assert controller_release["chart"] == "karpenter"
    assert controller_release["version"] == "1.14.1"
    assert tuple(int(p) for p in controller_release["version"].split(".")) >= (1, 5, 0)
    assert controller_release["namespace"] == "kube-system"
    assert controller_release["status"] == "deployed"


def test_chart_version_comes_from_config(deploy):
    assert deploy(VARIANT, VARIANT_ZONES).find(*CONTROLLER_RELEASE)["version"] == "1.6.3"


def test_karpenter_settings_name_cluster_endpoint_and_queue(deployed, controller_release):
    values = release_values(controller_release)
    assert values["settings"]["clusterName"] == deployed.find(*CLUSTER)["name"] == "ml-platform"
    assert values["settings"]["interruptionQueue"] == deployed.find(*QUEUE)["name"]
    endpoints = [s["value"] for s in controller_release["set"] if s["name"] == "settings.clusterEndpoint"]
    assert endpoints == [deployed.find(*CLUSTER)["endpoint"]]
    assert values["serviceAccount"]["name"] == "karpenter", "the pod identity association names this account"


def test_controller_runs_on_the_system_node_group(deployed, controller_release):
    node_labels = deployed.find("aws_eks_node_group", "eks_system_nodes_node_group")["labels"]
    selector = release_values(controller_release)["nodeSelector"]
    assert selector["karpenter.sh/controller"] == "true"
    assert all(node_labels.get(k) == v for k, v in selector.items() if k != "kubernetes.io/os")


def test_controller_waits_for_nodes_dns_permissions_and_queue(order, stack):
    waited_for = order["module.karpenter.helm_release.release"]
    assert {
        "aws_eks_node_group.eks_system_nodes_node_group",
        "aws_eks_addon.eks_addons_coredns_addon",
        "module.karpenter.aws_eks_pod_identity_association.controller_identity_association",
        "module.karpenter.aws_sqs_queue_policy.interruption_policy",
    } <= waited_for
    assert {f"module.karpenter.aws_iam_role_policy_attachment.controller_identity_role_attach_{c}" for c in CONCERNS} <= waited_for
    # The nodes and DNS reach the module as its cluster_ready input.
    assert "var.cluster_ready" in stack.block("helm_release", "release", MODULE)["depends_on"]
    assert stack.root["module"][MODULE]["cluster_ready"] == [
        "${aws_eks_node_group.eks_system_nodes_node_group.id}",
        "${aws_eks_addon.eks_addons_coredns_addon.id}",
    ]


def test_node_pools_chart_is_installed_after_karpenter_from_the_module(deployed, order, stack):
    waited_for = order["module.karpenter.helm_release.node_pools"]
    assert {
        "module.karpenter.helm_release.release",
        "aws_eks_node_group.eks_system_nodes_node_group",
        "module.karpenter.aws_eks_access_entry.node_access_entry",
    } <= waited_for
    release = deployed.find(*NODE_POOLS_RELEASE)
    assert release["status"] == "deployed"
    chart = release["chart"]
    assert chart == "modules/karpenter/charts/karpenter-nodepools", "relative to the root module: no absolute path"
    # The module carries its own copy of the project's chart.
    copied, project = stack.folder / chart, REPO / "charts" / "karpenter-nodepools"
    files = sorted(p.relative_to(project) for p in project.rglob("*") if p.is_file())
    assert files and sorted(p.relative_to(copied) for p in copied.rglob("*") if p.is_file()) == files
    assert all((copied / f).read_bytes() == (project / f).read_bytes() for f in files)
    values = release_values(release)
    assert [c["spec"]["role"] for c in values["nodeClasses"]] == [deployed.find(*NODE_ROLE)["name"]] * 2
    assert [p["metadata"]["name"] for p in values["nodePools"]] == ["default", "p5-gpu-h100"]


def test_no_kubernetes_manifest_resources(stack, deployed):
    for where, document in stack.all_documents().items():
        assert "kubernetes_manifest" not in document.get("resource", {}), where or "root"
    assert deployed.of_type("kubernetes_manifest") == {}
