"""Configuration: defaults, YAML overrides, and bad input rejected with exit code 2."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from modules.config import CONFIG_ENV_VAR, ConfigError, load_config, parse_config
from modules.config.support_calendar import EKS_SUPPORT_CALENDAR, SupportPhase, creatable_versions, support_phase

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


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as error:
        parse_config({"region": "x", "vpc": {"nat_gateways": "two"}, "eks": {"log_retention_days": 2}}, today=TODAY)
    paths = [p.path for p in error.value.problems]
    assert paths == ["region", "vpc.nat_gateways", "eks.log_retention_days"]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config({CONFIG_ENV_VAR: str(tmp_path / "absent.yaml")})
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config({CONFIG_ENV_VAR: str(tmp_path)})
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config({CONFIG_ENV_VAR: str(latin1)})


def test_support_calendar():
    assert support_phase("1.33", dt.date(2026, 7, 29)) is SupportPhase.STANDARD
    assert support_phase("1.33", dt.date(2026, 7, 30)) is SupportPhase.EXTENDED
    assert support_phase("1.33", dt.date(2027, 7, 30)) is SupportPhase.ENDED
    assert "1.30" not in creatable_versions(TODAY)
    assert "1.33" in creatable_versions(TODAY)


def test_support_calendar_is_kept_current():
    """Fails when the newest version in the calendar was released more than six months ago:
    EKS releases a version about every four months, so the calendar is probably missing one.
    Look it up in the EKS release calendar and add a row."""
    newest = max(EKS_SUPPORT_CALENDAR.values(), key=lambda entry: entry.released)
    age = dt.date.today() - newest.released
    assert age <= dt.timedelta(days=183), (
        f"the newest EKS version in modules/config/support_calendar.py is {newest.version}, "
        f"released {newest.released} ({age.days} days ago): add the versions EKS released since"
    )


def test_every_version_eks_offers_is_accepted():
    for version in ("1.35", "1.36", "1.37"):
        assert parse_config({"kubernetes_version": version}, today=TODAY).kubernetes_version == version
    with pytest.raises(ConfigError, match=r"kubernetes_version.*one of 1\.32, 1\.33, 1\.34, 1\.35, 1\.36"):
        parse_config({"kubernetes_version": "1.31"}, today=dt.date(2027, 1, 1))


def test_extended_support_is_warned_about():
    config = parse_config({}, today=TODAY)
    warnings = config.warnings(today=TODAY)
    assert any("1.33" in w and "extended support" in w for w in warnings)
    assert any(w.endswith("standard support: 1.34, 1.35, 1.36, 1.37.") for w in warnings), warnings
    assert not any("extended" in w for w in config.warnings(today=dt.date(2026, 1, 1)))


def test_standard_upgrade_policy_is_allowed_while_in_standard_support():
    config = parse_config(
        {"kubernetes_version": "1.34", "eks": {"upgrade_policy": {"support_type": "STANDARD"}}}, today=TODAY
    )
    assert config.eks.upgrade_policy.support_type == "STANDARD"


def test_a_pattern_has_one_description():
    from modules.config.patterns import described

    with pytest.raises(ValueError, match="described twice"):
        described(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", "another wording of the DNS label")
