"""The AWS Load Balancer Controller: its pinned IAM policy, pod identity and Helm release."""

from __future__ import annotations

import json

import pytest
import yaml

from modules.load_balancer_controller.iam_policy import CHART_VERSION, CONTROLLER_RELEASE
from tests.tf import policy_of, ref, resource, size_when_applied

ROLE = ("aws_iam_role", "load_balancer_controller_identity_role")
POLICY = ("aws_iam_role_policy", "load_balancer_controller_identity_role_policy_load_balancer_controller")
RELEASE = ("helm_release", "load_balancer_controller_release")
# IAM's limit on all inline policies of one role together.
INLINE_POLICIES_PER_ROLE_LIMIT = 10240


@pytest.fixture(scope="module")
def policy(stack) -> dict:
    return policy_of(resource(stack, *POLICY)["policy"])


def test_role_is_assumed_through_pod_identity_by_the_controller_service_account(stack):
    (trust,) = policy_of(resource(stack, *ROLE)["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    association = resource(stack, "aws_eks_pod_identity_association", "load_balancer_controller_identity_association")
    assert (association["namespace"], association["service_account"]) == ("kube-system", "aws-load-balancer-controller")
    assert association["cluster_name"] == ref("aws_eks_cluster", "eks_control_plane_cluster", "name")
    assert resource(stack, *POLICY)["role"] == ref(*ROLE, "id")


def test_policy_fits_and_grants_no_wildcard_action(stack, policy):
    assert size_when_applied(resource(stack, *POLICY)["policy"]) < INLINE_POLICIES_PER_ROLE_LIMIT
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "*" not in statement["Action"] and not any(a.endswith(":*") for a in statement["Action"])
    assert len({s["Sid"] for s in policy["Statement"]}) == len(policy["Statement"])


def actions_of(policy: dict) -> dict[str, dict]:
    granted: dict[str, list[dict]] = {}
    for statement in policy["Statement"]:
        for action in statement["Action"]:
            granted.setdefault(action, []).append(statement)
    return granted


def test_destructive_actions_require_the_controller_ownership_tag(policy):
    granted = actions_of(policy)
    for action in (
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup",
        "ec2:DeleteSecurityGroup",
        "elasticloadbalancing:CreateLoadBalancer",
    ):
        for statement in granted[action]:
            assert "elbv2.k8s.aws/cluster" in json.dumps(statement.get("Condition", {})), action


def test_policy_covers_what_the_pinned_release_calls(policy):
    granted = actions_of(policy)
    # Added to the published policy by recent releases: missing ones break reconciliation.
    for action in (
        "ec2:GetSecurityGroupsForVpc",
        "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:DescribeCapacityReservation",
        "elasticloadbalancing:ModifyCapacityReservation",
        "elasticloadbalancing:ModifyIpPools",
        "elasticloadbalancing:SetRulePriorities",
        "iam:CreateServiceLinkedRole",
    ):
        assert action in granted, action
    arns = [arn for s in policy["Statement"] for arn in s.get("Resource", []) if arn.startswith("arn:")]
    assert arns and all(arn.startswith("arn:${data.aws_partition.context_partition.partition}:") for arn in arns)


@pytest.fixture(scope="module")
def release(stack) -> dict:
    return resource(stack, *RELEASE)


def test_chart_is_pinned_to_the_release_the_policy_comes_from(release):
    assert release["repository"] == "https://aws.github.io/eks-charts"
    assert release["chart"] == "aws-load-balancer-controller"
    assert release["version"] == CHART_VERSION
    # eks-charts numbers the chart 1.N for controller v2.N.
    assert CHART_VERSION.split(".")[1] == CONTROLLER_RELEASE.split(".")[1]


def test_cluster_region_and_vpc_are_given_to_the_controller(release):
    (values,) = release["values"]
    values = yaml.safe_load(values)
    assert values["clusterName"] == "ml-platform"
    assert values["region"] == "us-west-2"
    assert values["serviceAccount"]["name"] == "aws-load-balancer-controller"
    assert {"name": "vpcId", "value": ref("aws_vpc", "network_vpc", "id")} in release["set"]


def test_controller_waits_for_nodes_dns_karpenter_and_its_permissions(release):
    assert {
        "helm_release.karpenter_release",
        "aws_eks_node_group.eks_system_nodes_node_group",
        "aws_eks_addon.eks_addons_coredns_addon",
        "aws_eks_pod_identity_association.load_balancer_controller_identity_association",
        "aws_iam_role_policy.load_balancer_controller_identity_role_policy_load_balancer_controller",
    } <= set(release["depends_on"])


def test_controller_runs_on_the_system_node_group(stack, release):
    node_labels = resource(stack, "aws_eks_node_group", "eks_system_nodes_node_group")["labels"]
    selector = yaml.safe_load(release["values"][0])["nodeSelector"]
    assert selector and all(node_labels.get(k) == v for k, v in selector.items())
