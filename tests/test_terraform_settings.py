"""The terraform block: a root module plain Terraform can use on any machine."""

from __future__ import annotations

import pytest

from modules.config import ConfigError, parse_config
from tests.stacks import REPO, STACK_AT
from tests.test_eks import ELSEWHERE

PROVIDERS = {
    "aws": {"source": "hashicorp/aws", "version": "~> 6.25.0"},
    "helm": {"source": "hashicorp/helm", "version": "~> 3.1.1"},
}


def test_fully_qualified_provider_sources_that_accept_patch_releases(stack):
    for where, document in stack.all_documents().items():
        # The modules pin what the root pins: one provider version for the whole configuration.
        assert document["terraform"]["required_providers"] == PROVIDERS, where or "root"
        assert document["terraform"]["required_version"] == ">= 1.10.0", where or "root"


def test_terraform_reads_the_pins_as_written(plan):
    """What Terraform made of the terraform block when it planned a configuration (any
    one: the pins do not depend on it; ELSEWHERE is planned for other tests anyway)."""
    planned = plan(ELSEWHERE).json
    assert tuple(int(part) for part in planned["terraform_version"].split(".")[:2]) >= (1, 10)
    providers = planned["configuration"]["provider_config"]
    for name, pin in PROVIDERS.items():
        assert providers[name]["full_name"] == f"registry.terraform.io/{pin['source']}"
        assert providers[name]["version_constraint"] == pin["version"]


def test_local_state_beside_the_project_by_relative_path(stack):
    path = stack.root["terraform"]["backend"]["local"]["path"]
    assert path == "../../../terraform.ml-platform.tfstate"
    assert (REPO / STACK_AT / stack.folder.name / path).resolve() == REPO / "terraform.ml-platform.tfstate"


def test_s3_state_with_native_locking(synth):
    # ELSEWHERE: GovCloud, so the bucket's region is seen to follow the configured one.
    stack = synth(ELSEWHERE)
    assert stack.root["terraform"]["backend"] == {
        "s3": {
            "bucket": "acme-terraform-state",
            "encrypt": True,
            "key": "ml-platform/terraform.tfstate",
            "region": "us-gov-west-1",
            "use_lockfile": True,
        }
    }


@pytest.mark.parametrize(
    "state, message",
    [
        ({"backend": "s3"}, "state.s3_bucket"),
        ({"backend": "s3", "s3_bucket": "Bad_Bucket"}, "state.s3_bucket"),
        ({"local_path": "/var/state/x.tfstate"}, "relative"),
        ({"local_path": "../elsewhere.tfstate"}, "relative"),
        ({"backend": "consul"}, "'local' or 's3'"),
    ],
)
def test_bad_state_settings(state, message):
    with pytest.raises(ConfigError, match=message) as error:
        parse_config({"state": state})
    assert error.value.problems[0].path.startswith("state")
