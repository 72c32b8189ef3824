"""The synth summary: what the configuration chose and how many resources Terraform will
create, checked against what Terraform itself applies with the offline stand-ins."""

from __future__ import annotations

import json

import pytest

from cli.summary import Tally, choices, resource_tallies
from modules.config import parse_config
from tests.stacks import split_address

ZONES = 3  # what the stand-ins report for the region (the workspace default)


def applied_per_subsystem(deployed) -> dict[str, int]:
    """Managed resources Terraform applied: per module call, and in total."""
    counts: dict[str, int] = {"total": 0}
    for address in deployed.addresses():
        where, local = split_address(address)
        if local.startswith("data."):
            continue
        counts["total"] += 1
        if where:
            module = where.split("[")[0]
            counts[module] = counts.get(module, 0) + 1
    return counts


@pytest.mark.parametrize("name", ["default", "everything-on"])
def test_resource_count_is_what_terraform_creates(name, synth, deploy, everything_on):
    overrides = {} if name == "default" else everything_on
    tallies = resource_tallies(synth(overrides).folder)
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    applied = applied_per_subsystem(deploy(overrides, ZONES))
    assert total.unknown == []
    assert total.fixed + ZONES * total.per_zone == applied["total"]
    for module in ("module.hyperpod", "module.karpenter"):
        assert tallies[module].fixed == applied[module], module


def test_hyperpod_switched_off_counts_none_of_its_resources(synth):
    off = resource_tallies(synth({"hyperpod": {"enabled": False}}).folder)
    on = resource_tallies(synth({}).folder)
    assert off["module.hyperpod"].fixed == 0 < on["module.hyperpod"].fixed
    assert off["eks"].fixed == on["eks"].fixed


def test_a_count_form_it_does_not_know_is_named_not_guessed(tmp_path):
    stack = tmp_path / "s"
    stack.mkdir()
    block = {"//": {"metadata": {"path": "s/network/x"}}, "count": "${length(var.names)}"}
    (stack / "cdk.tf.json").write_text(json.dumps({"resource": {"aws_eip": {"x": block}}}))
    assert resource_tallies(stack)["network"].unknown == ["aws_eip.x"]


def test_choices_say_what_the_configuration_chose():
    lines = "\n".join(choices(parse_config({
        "vpc": {"nat_gateways": "one_per_az", "max_azs": 3},
        "state": {"backend": "s3", "s3_bucket": "team-state"},
        "hyperpod": {"enabled": False},
    })))
    assert "a NAT gateway per zone" in lines and "up to 3" in lines
    assert "s3://team-state/ml-platform/terraform.tfstate (us-west-2" in lines
    assert "hyperpod: off" in lines
    default_lines = "\n".join(choices(parse_config({})))
    assert "one NAT gateway" in default_lines and "local file terraform.ml-platform.tfstate" in default_lines
    assert "gpu-workers 2x ml.g5.xlarge" in default_lines and "p5.48xlarge (spot)" in default_lines
