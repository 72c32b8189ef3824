"""``storage.*`` refusals: what FSx, S3 or the stack would refuse at apply is refused at
synth with its key path (FSx SSD limits per deployment type, data repository associations,
bucket names by S3's rules, the training zone in the region)."""

from __future__ import annotations

import pytest

from modules.config import ConfigError, parse_config
from modules.config.storage import PER_UNIT_STORAGE_THROUGHPUT, storage_capacity_problem

FSX = "storage.fsx_lustre"


def fsx(file_system: dict | None = None, **extra) -> dict:
    section: dict = {"enabled": True, **extra}
    if file_system is not None:
        section["file_system"] = file_system
    return {"storage": {"fsx_lustre": section}}


def refusal(config: dict) -> str:
    with pytest.raises(ConfigError) as refused:
        parse_config(config)
    return str(refused.value)


@pytest.mark.parametrize("gib, accepted", [(1200, True), (2400, True), (4800, True), (1100, False), (3600, False), (3000, False), (0, False)])
def test_capacity_steps(gib, accepted):
    assert (storage_capacity_problem(gib) is None) is accepted
    if not accepted:
        assert refusal(fsx({"storage_capacity_gib": gib})).startswith(f"{FSX}.file_system.storage_capacity_gib: must be 1200 or a multiple of 2400 GiB")


@pytest.mark.parametrize("deployment_type, tiers", sorted(PER_UNIT_STORAGE_THROUGHPUT.items()))
def test_throughput_tiers_per_deployment_type(deployment_type, tiers):
    for tier in tiers:
        parse_config(fsx({"deployment_type": deployment_type, "per_unit_storage_throughput": tier}))
    said = refusal(fsx({"deployment_type": deployment_type, "per_unit_storage_throughput": 300}))
    if tiers:
        assert f"per_unit_storage_throughput 300 is not a tier of {deployment_type}: one of {', '.join(map(str, tiers))}" in said
    else:
        assert f"per_unit_storage_throughput does not apply to {deployment_type}" in said


def test_lowest_tier_when_unset_and_customer_key_only_for_persistent_types():
    default = parse_config(fsx({})).storage.fsx_lustre.file_system
    assert (default.deployment_type, default.throughput, default.customer_key) == ("PERSISTENT_2", 125, True)
    scratch = parse_config(fsx({"deployment_type": "SCRATCH_2"})).storage.fsx_lustre.file_system
    assert (scratch.throughput, scratch.customer_key) == (None, False)


@pytest.mark.parametrize(
    "config, says",
    [
        (fsx(availability_zone="us-east-1a"), f"{FSX}.availability_zone 'us-east-1a' is not in region us-west-2"),
        (fsx(availability_zone="us-west-2"), f"{FSX}.availability_zone: must be an availability zone name such as us-west-2a"),
        (fsx({"deployment_type": "SCRATCH_1"}), f"{FSX}.file_system.deployment_type: Input should be 'SCRATCH_2', 'PERSISTENT_1' or 'PERSISTENT_2'"),
        ({"storage": {"fsx_lustre": {"file_system": {}}}}, "set storage.fsx_lustre.enabled to true"),
        (fsx({}, existing={"id": "fs-0123456789abcdef0", "mount_name": "abcdef12", "security_group_id": "sg-01234567"}), "sets both file_system (create one) and existing (use one)"),
        (fsx(existing={"id": "fs-1", "mount_name": "abcdef12", "security_group_id": "sg-01234567"}), f"{FSX}.existing.id: must be an FSx file system id"),
        (fsx(existing={"id": "fs-0123456789abcdef0", "mount_name": "abcdef12"}), f"{FSX}.existing.security_group_id: is required"),
        (fsx(namespace="Team_A"), f"{FSX}.namespace: must be at most 63 lowercase letters, digits and '-'"),
        (fsx({"data_repositories": [{"bucket": "ab", "file_system_path": "/data"}]}), "data_repositories[0].bucket: must be 3-63 lowercase"),
        (fsx({"data_repositories": [{"bucket": "data-bucket", "file_system_path": "data"}]}), "data_repositories[0].file_system_path: must be an absolute directory"),
        (fsx({"data_repositories": [{"bucket": "data-bucket", "prefix": "x", "file_system_path": "/data"}]}), "data_repositories[0].prefix: must be an S3 key prefix ending with '/'"),
        (fsx({"data_repositories": [{"bucket": "a-bucket", "file_system_path": "/d"}, {"bucket": "b-bucket", "file_system_path": "/d/e"}]}), "data_repositories[1].file_system_path /d/e overlaps data_repositories[0]'s /d"),
        (fsx({"data_repositories": [{"bucket": "a-bucket", "file_system_path": "/d"}, {"bucket": "a-bucket", "prefix": "x/", "file_system_path": "/e"}]}), "data_repositories[1] links s3://a-bucket/x/, which overlaps"),
        (fsx({"data_repositories": [{"bucket": f"b-{i}xx", "file_system_path": f"/d{i}"} for i in range(9)]}), "data_repositories: List should have at most 8 items"),
        (fsx({"data_repositories": [{"bucket": "a-bucket", "file_system_path": "/d", "import_events": ["NEW", "NEW"]}]}), "import_events: lists an event more than once"),
        ({"storage": {"s3": {"enabled": True}}}, "storage.s3: storage.s3.enabled needs storage.s3.buckets"),
        ({"storage": {"s3": {"buckets": [{"name": "data-bucket"}]}}}, "set storage.s3.enabled to true"),
        ({"storage": {"s3": {"enabled": True, "buckets": [{"name": "xn--bucket"}]}}}, "storage.s3.buckets[0].name: must not start with xn--"),
        ({"storage": {"s3": {"enabled": True, "buckets": [{"name": "data-bucket"}, {"name": "data-bucket", "prefix": "x/"}]}}}, "lists data-bucket more than once"),
    ],
)
def test_refused_with_the_key(config, says):
    assert says in refusal(config)


def test_warns_when_hyperpod_trains_in_another_zone():
    config = parse_config({
        **fsx({}, availability_zone="us-west-2a"),
        "hyperpod": {"instance_groups": [{"name": "g", "instance_type": "ml.g5.xlarge", "instance_count": 1, "availability_zone": "us-west-2b"}]},
    })
    (note,) = [w for w in config.warnings() if "FSx" in w]
    assert "us-west-2a" in note and "us-west-2b" in note
    assert not [w for w in parse_config(fsx({}, availability_zone="us-west-2a")).warnings() if "FSx" in w]


def test_the_summary_says_what_storage_was_chosen():
    from cli.summary import choices

    def storage_line(config: dict) -> str:
        (line,) = [line for line in choices(parse_config(config)) if line.startswith("storage:")]
        return line

    assert storage_line({}) == "storage: none"
    assert storage_line(fsx({}, availability_zone="us-west-2b")) == "storage: FSx for Lustre (PERSISTENT_2 1200 GiB in us-west-2b)"
    assert storage_line({"storage": {"s3": {"enabled": True, "buckets": [{"name": "data-bucket"}]}}}) == "storage: S3 mounts of data-bucket"


def readme_section(title: str) -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("title", ["VPC endpoints", "Existing VPC", "Shared storage: FSx for Lustre and S3"])
def test_readme_yaml_examples_are_valid_configurations(title):
    import re

    import yaml

    (example,) = re.findall(r"```yaml\n(.*?)```", readme_section(title), re.S)
    parse_config(yaml.safe_load(example))


def test_readme_endpoint_tfvars_plan(planned):
    import json
    import re

    (block,) = re.findall(r"```hcl\n(.*?)```", readme_section("VPC endpoints"), re.S)
    tfvars = {name.strip(): json.loads(value) for name, value in (line.split("=", 1) for line in block.strip().splitlines())}
    plan = planned({}, tfvars)
    endpoints = [a for a in plan.of_type("aws_vpc_endpoint") if "interface" in a]
    assert len(endpoints) == len(tfvars["vpc_interface_endpoints"])
