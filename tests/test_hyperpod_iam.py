"""No IAM statement the everything-on stack applies grants a service-wide wildcard on
every resource, iam:PassRole on every role, or S3 access to every bucket: read from the
policies Terraform applies with the offline stand-ins (inline and managed policies, the
root module and every module)."""

from __future__ import annotations

import json
import re

import pytest

from tests.stacks import Deployed

# Named exceptions: none today. A statement added here needs its reason beside it.
EXCEPTIONS: dict[tuple[str, str], str] = {}

ALL_BUCKETS = re.compile(r"^(\*|arn:aws[a-z-]*:s3:::\*(/.*)?)$")
ALL_ROLES = re.compile(r"^(\*|arn:aws[a-z-]*:iam::[0-9*]*:role/\*)$")


def _list(value):
    return value if isinstance(value, list) else [value]


def permission_statements(applied: Deployed):
    for resource_type, attribute in (("aws_iam_role_policy", "policy"), ("aws_iam_policy", "policy")):
        for address, values in applied.of_type(resource_type).items():
            for statement in json.loads(values[attribute])["Statement"]:
                if statement.get("Effect") == "Allow":
                    yield address, statement


def problems_of(address: str, statement: dict) -> list[str]:
    actions, resources = _list(statement.get("Action", [])), _list(statement.get("Resource", []))
    found = []
    for action in actions:
        service_wide = action == "*" or action.endswith(":*")
        if service_wide and "*" in resources:
            found.append(f"{action} on every resource")
        if action.lower() in ("iam:passrole", "iam:*") and any(ALL_ROLES.match(r) for r in resources):
            found.append(f"{action} on every role")
        if action.lower().startswith("s3:") and any(ALL_BUCKETS.match(r) for r in resources):
            found.append(f"{action} on every bucket")
    return [] if (address, statement.get("Sid", "")) in EXCEPTIONS else found


@pytest.fixture(scope="module")
def everything(deploy, everything_on) -> Deployed:
    return deploy(everything_on)


def test_no_statement_grants_everything(everything):
    statements = list(permission_statements(everything))
    assert len(statements) > 50, "the policies of every module are read"
    assert any("inference_operator" in a for a, _ in statements), "the HyperPod add-ons' roles are read"
    found = [f"{a} {s.get('Sid')}: {p}" for a, s in statements for p in problems_of(a, s)]
    assert found == []


@pytest.mark.parametrize(
    "statement, problem",
    [
        ({"Action": ["sagemaker:*"], "Resource": ["*"]}, "sagemaker:* on every resource"),
        ({"Action": ["iam:PassRole"], "Resource": ["arn:aws:iam::123456789012:role/*"]}, "every role"),
        ({"Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::*"]}, "every bucket"),
        ({"Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::*/*"}, "every bucket"),
    ],
)
def test_the_scan_finds_what_it_looks_for(statement, problem):
    assert any(problem in p for p in problems_of("x", statement))


def test_the_scan_lets_narrow_statements_pass():
    assert problems_of("x", {"Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::jumpstart-cache-prod-us-west-2/*"]}) == []
    assert problems_of("x", {"Action": ["iam:PassRole"], "Resource": ["arn:aws:iam::1:role/SageMakerHyperPodInference-x"]}) == []
