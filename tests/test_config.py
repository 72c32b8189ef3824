"""Configuration: defaults, YAML overrides, and bad input rejected with exit code 2."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from modules.cli import run
from modules.config import CONFIG_ENV_VAR, ConfigError, load_config, parse_config
from modules.config.support_calendar import SupportPhase, creatable_versions, support_phase

TODAY = dt.date(2026, 11, 22)


def test_defaults_synthesize_a_platform_in_us_west_2():
    config = load_config({}, today=TODAY)
    assert config.region == "us-west-2"
    assert config.kubernetes_version == "1.33"
    assert config.vpc.cidr == "10.0.0.0/16"
    assert config.vpc.nat_gateways == "single"
    assert config.eks.system_node_group.instance_types == ["m5.large"]
    assert config.eks.system_node_group.desired_size == 2
    assert config.eks.upgrade_policy.support_type == "EXTENDED"


def test_yaml_file_overrides_defaults(tmp_path: Path):
    path = tmp_path / "platform.yaml"
    path.write_text(
        textwrap.dedent(
            """
            region: eu-west-1
            vpc:
              nat_gateways: one_per_az
            eks:
              public_access_cidrs: ["198.51.100.0/24"]
              system_node_group:
                instance_types: [m6i.large]
            tags:
              team: research
            """
        )
    )
    config = load_config({CONFIG_ENV_VAR: str(path)}, today=TODAY)
    assert config.region == "eu-west-1"
    assert config.vpc.nat_gateways == "one_per_az"
    assert config.vpc.cidr == "10.0.0.0/16", "keys not in the file keep their default"
    assert config.eks.public_access_cidrs == ["198.51.100.0/24"]
    assert config.eks.system_node_group.instance_types == ["m6i.large"]
    assert config.tags == {"team": "research"}


def test_empty_file_means_defaults(tmp_path: Path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n")
    assert load_config({CONFIG_ENV_VAR: str(path)}, today=TODAY) == load_config({}, today=TODAY)


BAD_INPUTS = [
    ("unknown top-level key", "regoin: us-west-2\n", "regoin", "unknown key"),
    ("unknown nested key", "vpc:\n  nat: single\n", "vpc.nat", "allowed here"),
    ("region shape", "region: Oregon\n", "region", "us-west-2"),
    ("unquoted version", "kubernetes_version: 1.33\n", "kubernetes_version", "quoted"),
    ("unknown version", 'kubernetes_version: "1.99"\n', "kubernetes_version", "1.33"),
    ("version past extended support", 'kubernetes_version: "1.30"\n', "kubernetes_version", "ended"),
    ("nat enum", "vpc:\n  nat_gateways: two\n", "vpc.nat_gateways", "one_per_az"),
    ("cidr syntax", "vpc:\n  cidr: 10.0.0.0/33\n", "vpc.cidr", "IPv4"),
    ("cidr too small for the plan", "vpc:\n  cidr: 10.0.0.0/20\n", "vpc.cidr", "room"),
    ("cidr too large for AWS", "vpc:\n  cidr: 10.0.0.0/8\n", "vpc.cidr", "/16"),
    ("max_azs range", "vpc:\n  max_azs: 12\n", "vpc.max_azs", "8"),
    ("public cidr", "eks:\n  public_access_cidrs: [everyone]\n", "eks.public_access_cidrs", "IPv4"),
    ("no endpoint", "eks:\n  endpoint_public_access: false\n  endpoint_private_access: false\n", "eks", "at least one"),
    ("node sizes order", "eks:\n  system_node_group:\n    min_size: 3\n    desired_size: 2\n", "eks.system_node_group", "min_size"),
    ("node size type", "eks:\n  system_node_group:\n    desired_size: two\n", "eks.system_node_group.desired_size", "integer"),
    ("instance type", "eks:\n  system_node_group:\n    instance_types: [ml.g5.xlarge]\n", "eks.system_node_group.instance_types", "EC2"),
    ("log retention", "eks:\n  log_retention_days: 100\n", "eks.log_retention_days", "365"),
    ("flow log traffic type", "vpc:\n  flow_logs:\n    traffic_type: SOME\n", "vpc.flow_logs.traffic_type", "REJECT"),
    ("standard support on an extended version", "eks:\n  upgrade_policy:\n    support_type: STANDARD\n", "eks.upgrade_policy.support_type", "EXTENDED"),
    ("tag key", "tags:\n  'aws:owner': me\n", "tags", "aws:"),
    ("name", "name: ML_Platform\n", "name", "lowercase"),
    ("malformed yaml", "vpc: [unclosed\n", "invalid YAML", "line"),
    ("duplicate key", "region: us-west-2\nregion: eu-west-1\n", "duplicate key", "region"),
    ("top level is a list", "- region\n", "top level", "mapping"),
]


@pytest.mark.parametrize("case, text, key, hint", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_exits_2_naming_the_key(case, text, key, hint, tmp_path, monkeypatch, capsys):
    config_file = tmp_path / "platform.yaml"
    config_file.write_text(text)
    previous_output = tmp_path / "cdktf.out" / "stacks" / "ml-platform" / "cdk.tf.json"
    previous_output.parent.mkdir(parents=True)
    previous_output.write_text('{"previous": true}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CONFIG_ENV_VAR, str(config_file))

    def must_not_synthesize(app, config):
        raise AssertionError("an invalid configuration reached synthesis")

    with pytest.raises(SystemExit) as exit_info:
        run(must_not_synthesize)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert key in err and hint in err, err
    assert "Traceback" not in err
    assert previous_output.read_text() == '{"previous": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "platform.yaml"]


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as error:
        parse_config({"region": "x", "vpc": {"nat_gateways": "two"}, "eks": {"log_retention_days": 2}}, today=TODAY)
    paths = [p.path for p in error.value.problems]
    assert paths == ["region", "vpc.nat_gateways", "eks.log_retention_days"]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config({CONFIG_ENV_VAR: str(tmp_path / "absent.yaml")})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config({CONFIG_ENV_VAR: str(tmp_path)})


def test_support_calendar():
    assert support_phase("1.33", dt.date(2026, 7, 29)) is SupportPhase.STANDARD
    assert support_phase("1.33", dt.date(2026, 7, 30)) is SupportPhase.EXTENDED
    assert support_phase("1.33", dt.date(2027, 7, 30)) is SupportPhase.ENDED
    assert "1.30" not in creatable_versions(TODAY)
    assert "1.33" in creatable_versions(TODAY)


def test_extended_support_is_warned_about():
    config = parse_config({}, today=TODAY)
    warnings = config.warnings(today=TODAY)
    assert any("1.33" in w and "extended support" in w for w in warnings)
    assert not any("extended" in w for w in config.warnings(today=dt.date(2026, 1, 1)))


def test_standard_upgrade_policy_is_allowed_while_in_standard_support():
    config = parse_config(
        {"kubernetes_version": "1.34", "eks": {"upgrade_policy": {"support_type": "STANDARD"}}}, today=TODAY
    )
    assert config.eks.upgrade_policy.support_type == "STANDARD"
