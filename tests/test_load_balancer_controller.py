"""The AWS Load Balancer Controller: its pinned IAM policy, pod identity and Helm release,
as Terraform applies them with the offline stand-ins."""

from __future__ import annotations

import json

import pytest
import yaml

from modules.load_balancer_controller.iam_policy import CHART_VERSION, CONTROLLER_RELEASE
from tests.test_eks import ELSEWHERE, VARIANT, VARIANT_ZONES, creation_order
from tests.test_security_defaults import statements_by_sid, worst_case_size

ROLE = ("aws_iam_role", "load_balancer_controller_identity_role")
POLICY = ("aws_iam_role_policy", "load_balancer_controller_identity_role_policy_load_balancer_controller")
RELEASE = ("helm_release", "load_balancer_controller_release")
RELEASE_ADDRESS = "helm_release.load_balancer_controller_release"
# IAM's limit on all inline policies of one role together.
INLINE_POLICIES_PER_ROLE_LIMIT = 10240


@pytest.fixture(scope="module")
def policy(deployed) -> dict:
    return deployed.json_of(*POLICY, "policy")


def test_role_is_assumed_through_pod_identity_by_the_controller_service_account(deployed):
    role = deployed.find(*ROLE)
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    association = deployed.find("aws_eks_pod_identity_association", "load_balancer_controller_identity_association")
    assert (association["namespace"], association["service_account"]) == ("kube-system", "aws-load-balancer-controller")
    assert association["cluster_name"] == deployed.find("aws_eks_cluster", "eks_control_plane_cluster")["name"]
    assert association["role_arn"] == role["arn"]
    assert deployed.find(*POLICY)["role"] == role["id"]
    # The only inline policy of the role: the limit below is for all of them together.
    assert [p for p in deployed.of_type("aws_iam_role_policy").values() if p["role"] == role["id"]] == [deployed.find(*POLICY)]


def test_policy_fits_and_grants_no_wildcard_action(deployed, policy):
    assert worst_case_size(deployed.find(*POLICY)["policy"]) < INLINE_POLICIES_PER_ROLE_LIMIT
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "*" not in statement["Action"] and not any(a.endswith(":*") for a in statement["Action"])
    assert len(statements_by_sid(deployed.find(*POLICY)["policy"])) == len(policy["Statement"])


def actions_of(policy: dict) -> dict[str, list[dict]]:
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
        assert granted[action], action
        for statement in granted[action]:
            assert "elbv2.k8s.aws/cluster" in json.dumps(statement.get("Condition", {})), action


def arns_in(policy: dict) -> list[str]:
    resources = [r for s in policy["Statement"] for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    return [arn for arn in resources if arn.startswith("arn:")]


def test_policy_covers_what_the_pinned_release_calls(policy, planned):
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
    arns = arns_in(policy)
    assert arns and all(arn.startswith("arn:aws:") for arn in arns)
    # The partition is read, not written: in GovCloud every ARN names aws-us-gov.
    gov = arns_in(json.loads(planned(ELSEWHERE).find(*POLICY)["policy"]))
    assert len(gov) == len(arns) and all(arn.startswith("arn:aws-us-gov:") for arn in gov)


@pytest.fixture(scope="module")
def release(deployed) -> dict:
    return deployed.find(*RELEASE)


def release_values(release: dict) -> dict:
    (values,) = release["values"]
    return yaml.safe_load(values)


def test_chart_is_pinned_to_the_release_the_policy_comes_from(release):
    assert release["repository"] == "https://aws.github.io/eks-charts"
    assert release["chart"] == "aws-load-balancer-controller"
    assert release["version"] == CHART_VERSION
    assert (release["namespace"], release["status"]) == ("kube-system", "deployed")
    # eks-charts numbers the chart 1.N for controller v2.N.
    assert CHART_VERSION.split(".")[1] == CONTROLLER_RELEASE.split(".")[1]


def test_cluster_region_and_vpc_are_given_to_the_controller(deployed, deploy, release):
    values = release_values(release)
    assert values["clusterName"] == deployed.find("aws_eks_cluster", "eks_control_plane_cluster")["name"] == "ml-platform"
    assert values["region"] == "us-west-2"
    assert values["serviceAccount"]["name"] == "aws-load-balancer-controller"
    vpc_ids = [s["value"] for s in release["set"] if s["name"] == "vpcId"]
    assert vpc_ids == [deployed.find("aws_vpc", "network_vpc")["id"]]
    # The region follows the configuration.
    assert release_values(deploy(VARIANT, VARIANT_ZONES).find(*RELEASE))["region"] == "us-east-1"


def test_controller_waits_for_nodes_dns_karpenter_and_its_permissions(deploy, stack):
    waited_for = creation_order(deploy, {})[RELEASE_ADDRESS]
    assert {
        "module.karpenter.helm_release.release",
        "module.karpenter.helm_release.node_pools",
        "aws_eks_node_group.eks_system_nodes_node_group",
        "aws_eks_addon.eks_addons_coredns_addon",
        "aws_eks_pod_identity_association.load_balancer_controller_identity_association",
        "aws_iam_role_policy.load_balancer_controller_identity_role_policy_load_balancer_controller",
    } <= waited_for
    # Karpenter as a whole: its webhook must not be half-installed while Karpenter's chart creates Services.
    assert "module.karpenter" in stack.block(*RELEASE)["depends_on"]


def test_controller_runs_on_the_system_node_group(deployed, release):
    node_labels = deployed.find("aws_eks_node_group", "eks_system_nodes_node_group")["labels"]
    selector = release_values(release)["nodeSelector"]
    assert selector and all(node_labels.get(k) == v for k, v in selector.items())
