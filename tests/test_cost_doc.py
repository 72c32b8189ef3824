"""docs/cost.md prices what the default configuration deploys: its quantities are the
default plan's (as Terraform applies it offline) and the configuration's, and its sums add up."""

from __future__ import annotations

import re
from decimal import Decimal

from modules.config import parse_config
from tests.processes import REPO
from tests.stacks import split_address

DOC = REPO / "docs" / "cost.md"
ROW = re.compile(r"^\| (?P<component>[^|]+) \| `(?P<source>[^`]+)` \| (?P<quantity>[^|]+) \| (?P<price>[^|]+) \| (?P<hourly>[^|]+) \|$")


def rows() -> list[dict[str, str]]:
    return [m.groupdict() for line in DOC.read_text().splitlines() if (m := ROW.match(line))]


def money(text: str) -> Decimal:
    return Decimal(re.search(r"\$(\d+\.\d+)", text).group(1))


def test_quantities_are_what_the_default_configuration_deploys(deployed):
    config = parse_config({})
    applied: dict[str, int] = {}
    for address in deployed.addresses():
        _, local = split_address(address)
        applied[local.split(".")[0]] = applied.get(local.split(".")[0], 0) + 1
    nodes = config.eks.system_node_group
    from_config = {
        "eks.system_node_group.desired_size": str(nodes.desired_size),
        "eks.system_node_group.disk_size_gb": f"{nodes.desired_size * nodes.disk_size_gb} GiB",
        "hyperpod.instance_groups[0].instance_count": str(config.hyperpod.instance_groups[0].instance_count),
    }
    checked = 0
    for row in rows():
        source, quantity = row["source"], row["quantity"].strip()
        if source.startswith("aws_"):
            assert int(quantity) == applied[source], row["component"]
        else:
            assert quantity == from_config[source], row["component"]
        checked += 1
    assert checked == 7
    assert "**us-west-2**" in DOC.read_text() and config.region == "us-west-2"
    assert config.hyperpod.instance_groups[0].instance_type in DOC.read_text()
    assert f"Kubernetes {config.kubernetes_version} in **extended support**" in DOC.read_text()


def test_the_subtotal_is_the_sum_of_its_rows():
    text = DOC.read_text()
    platform = [money(row["hourly"]) for row in rows() if row["source"] != "hyperpod.instance_groups[0].instance_count"]
    subtotal = money(re.search(r"\*\*EKS, network and system nodes\*\* \| \| \| \| \*\*(\$[\d.]+)\*\*", text).group(1))
    assert sum(platform) == subtotal
    hyperpod = money(next(r["hourly"] for r in rows() if r["source"].startswith("hyperpod")))
    total = money(re.search(r"\*\*Total, idle\*\* \| \| \| \| \*\*about (\$[\d.]+)\*\*", text).group(1))
    assert abs(subtotal + hyperpod - total) <= Decimal("0.01")
