"""The terraform block: a root module plain Terraform can use on any machine."""

from __future__ import annotations

import pytest

from modules.config import ConfigError, parse_config


def test_fully_qualified_provider_sources_that_accept_patch_releases(stack):
    providers = stack["terraform"]["required_providers"]
    assert providers["aws"] == {"source": "hashicorp/aws", "version": "~> 6.25.0"}
    assert providers["helm"] == {"source": "hashicorp/helm", "version": "~> 3.1.1"}
    assert stack["terraform"]["required_version"] == ">= 1.10.0"


def test_local_state_beside_the_project_by_relative_path(stack):
    assert stack["terraform"]["backend"] == {"local": {"path": "../../../terraform.ml-platform.tfstate"}}


def test_s3_state_with_native_locking(synth):
    stack = synth({"state": {"backend": "s3", "s3_bucket": "acme-terraform-state"}})
    assert stack["terraform"]["backend"] == {
        "s3": {
            "bucket": "acme-terraform-state",
            "encrypt": True,
            "key": "ml-platform/terraform.tfstate",
            "region": "us-west-2",
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
