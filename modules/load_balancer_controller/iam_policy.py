"""The AWS Load Balancer Controller's IAM policy, as published for the release below
(docs/install/iam_policy.json of kubernetes-sigs/aws-load-balancer-controller), kept here as
data. When CONTROLLER_RELEASE changes, compare this file with that release's policy.

The controller creates load balancers, target groups and security groups it tags with
``elbv2.k8s.aws/cluster``; every write beyond creation is conditioned on that tag. Describe
calls, and the create calls that the tag conditions guard, cannot be scoped to resource ARNs.

One deliberate difference from the published policy: writes the published policy grants on
"*" without a condition (security group ingress and creation, listeners and rules) are
limited here to this account and region; the controller never acts elsewhere. Certificate,
WAF, Shield and Cognito calls stay on "*": they name resources chosen per Ingress by the
application teams, which the platform cannot know.
"""

from __future__ import annotations

from modules.core.iam import Statement

CONTROLLER_RELEASE = "v2.14.1"
CHART_VERSION = "1.14.1"  # eks-charts aws-load-balancer-controller, app version v2.14.1

CLUSTER_TAG = "elbv2.k8s.aws/cluster"
TAGGED = {"Null": {f"aws:ResourceTag/{CLUSTER_TAG}": "false"}}
TAG_REQUESTED = {"Null": {f"aws:RequestTag/{CLUSTER_TAG}": "false"}}
TAG_KEPT = {"Null": {f"aws:RequestTag/{CLUSTER_TAG}": "true", f"aws:ResourceTag/{CLUSTER_TAG}": "false"}}

DESCRIBE_ACTIONS = (
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAddresses",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeTags",
    "ec2:GetCoipPoolUsage",
    "ec2:DescribeCoipPools",
    "ec2:GetSecurityGroupsForVpc",
    "ec2:DescribeIpamPools",
    "ec2:DescribeRouteTables",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeSSLPolicies",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTrustStores",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeCapacityReservation",
)

INTEGRATION_ACTIONS = (
    "cognito-idp:DescribeUserPoolClient",
    "acm:ListCertificates",
    "acm:DescribeCertificate",
    "iam:ListServerCertificates",
    "iam:GetServerCertificate",
    "waf-regional:GetWebACL",
    "waf-regional:GetWebACLForResource",
    "waf-regional:AssociateWebACL",
    "waf-regional:DisassociateWebACL",
    "wafv2:GetWebACL",
    "wafv2:GetWebACLForResource",
    "wafv2:AssociateWebACL",
    "wafv2:DisassociateWebACL",
    "shield:GetSubscriptionState",
    "shield:DescribeProtection",
    "shield:CreateProtection",
    "shield:DeleteProtection",
)

TAGGED_LOAD_BALANCER_ACTIONS = (
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:SetIpAddressType",
    "elasticloadbalancing:SetSecurityGroups",
    "elasticloadbalancing:SetSubnets",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:ModifyListenerAttributes",
    "elasticloadbalancing:ModifyCapacityReservation",
    "elasticloadbalancing:ModifyIpPools",
)

CREATE_ACTIONS = ("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup")

LISTENER_AND_RULE_ACTIONS = (
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:CreateRule",
    "elasticloadbalancing:DeleteRule",
)

LISTENER_ACTIONS = (
    "elasticloadbalancing:SetWebAcl",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:AddListenerCertificates",
    "elasticloadbalancing:RemoveListenerCertificates",
    "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:SetRulePriorities",
)


def controller_statements(partition: str, region: str, account_id: str) -> tuple[Statement, ...]:
    return (
        *_read_statements(),
        *_security_group_statements(f"arn:{partition}:ec2:{region}:{account_id}"),
        *_load_balancer_statements(f"arn:{partition}:elasticloadbalancing:{region}:{account_id}"),
    )


def _read_statements() -> tuple[Statement, ...]:
    return (
        Statement(
            "CreateElbServiceLinkedRole",
            ("iam:CreateServiceLinkedRole",),
            ("*",),
            conditions={"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
        ),
        Statement("Describe", DESCRIBE_ACTIONS, ("*",)),
        Statement("CertificatesWafShieldCognito", INTEGRATION_ACTIONS, ("*",)),
    )


def _security_group_statements(ec2_arn: str) -> tuple[Statement, ...]:
    security_groups = (f"{ec2_arn}:security-group/*",)
    return (
        Statement(
            "ManageSecurityGroupIngress",
            ("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"),
            security_groups,
        ),
        # Creating a security group authorizes on the new group and on its VPC.
        Statement("CreateSecurityGroups", ("ec2:CreateSecurityGroup",), (*security_groups, f"{ec2_arn}:vpc/*")),
        Statement(
            "TagSecurityGroupsOnCreation",
            ("ec2:CreateTags",),
            security_groups,
            conditions={"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}, **TAG_REQUESTED},
        ),
        Statement("RetagOwnSecurityGroups", ("ec2:CreateTags", "ec2:DeleteTags"), security_groups, conditions=TAG_KEPT),
        Statement(
            "ManageOwnSecurityGroups",
            ("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"),
            ("*",),
            conditions=TAGGED,
        ),
    )


def _load_balancer_statements(elb_arn: str) -> tuple[Statement, ...]:
    def elb(*resources: str) -> tuple[str, ...]:
        return tuple(f"{elb_arn}:{resource}" for resource in resources)

    load_balancers = elb("targetgroup/*/*", "loadbalancer/net/*/*", "loadbalancer/app/*/*")
    listeners_and_rules = elb(
        "loadbalancer/net/*/*", "loadbalancer/app/*/*",
        "listener/net/*/*/*", "listener/app/*/*/*", "listener-rule/net/*/*/*", "listener-rule/app/*/*/*",
    )
    return (
        Statement("CreateTaggedLoadBalancers", CREATE_ACTIONS, ("*",), conditions=TAG_REQUESTED),
        Statement("ManageListenersAndRules", LISTENER_AND_RULE_ACTIONS, listeners_and_rules),
        Statement(
            "RetagOwnLoadBalancers",
            ("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"),
            load_balancers,
            conditions=TAG_KEPT,
        ),
        Statement(
            "TagListenersAndRules",
            ("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"),
            elb("listener/net/*/*/*", "listener/app/*/*/*", "listener-rule/net/*/*/*", "listener-rule/app/*/*/*"),
        ),
        Statement("ManageOwnLoadBalancers", TAGGED_LOAD_BALANCER_ACTIONS, ("*",), conditions=TAGGED),
        Statement(
            "TagLoadBalancersOnCreation",
            ("elasticloadbalancing:AddTags",),
            load_balancers,
            conditions={
                "StringEquals": {"elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]},
                **TAG_REQUESTED,
            },
        ),
        Statement(
            "RegisterTargets",
            ("elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"),
            elb("targetgroup/*/*"),
        ),
        Statement("ManageListenerSettings", LISTENER_ACTIONS, listeners_and_rules),
    )
