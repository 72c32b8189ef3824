"""What a synth prints: what the configuration chose, what will be created, the outputs.

Resources are counted from the synthesized documents as Terraform will count them, for
the count forms this project writes: none (one), a number, one per availability zone (the
zones are read from the region at plan time, so the count is a number per zone), and
``var.<flag> ? 1 : 0`` with the flag's value from the configuration (a variable's
default, or what the root module passes to the module), ``length(var.<list>) > 0 ? 1 : 0``
and ``for_each = toset(var.<list>)`` with the list's value. Any other form is a new kind of
count this summary does not know: it says so instead of guessing.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modules.config import PlatformConfig
from modules.config.karpenter import PoolConfig
from modules.config.versions import PLATFORM_VERSION
from modules.core.module import MODULES_FOLDER
from tooling.operator_files import kept_in

ZONE_DATA_SOURCE = "data.aws_availability_zones."
FLAG = re.compile(r"^\$\{var\.([a-z0-9_]+) \? 1 : 0\}$")
# One instance unless the caller gives the thing (the HyperPod module's OIDC provider).
UNLESS_GIVEN = re.compile(r'^\$\{var\.([a-z0-9_]+) == "" \? 1 : 0\}$')
# One block while a list variable has items (a group shared by the items' resources).
ANY_ITEM = re.compile(r"^\$\{length\(var\.([a-z0-9_]+)\) > 0 \? 1 : 0\}$")
# One instance per item of a list variable.
PER_ITEM = re.compile(r"^\$\{toset\(var\.([a-z0-9_]+)\)\}$")
PASSED_VARIABLE = re.compile(r"^\$\{var\.([a-z0-9_]+)\}$")


@dataclass
class Tally:
    """Resources of a subsystem: ``fixed`` plus ``per_zone`` for each availability zone."""

    fixed: int = 0
    per_zone: int = 0
    unknown: list[str] = field(default_factory=list)

    def add(self, other: "Tally", times: int = 1) -> None:
        self.fixed += other.fixed * times
        self.per_zone += other.per_zone * times
        self.unknown.extend(other.unknown)

    def __str__(self) -> str:
        return f"{self.fixed}" + (f" + {self.per_zone} per zone" if self.per_zone else "")


def _variable_value(document: dict[str, Any], name: str, passed: dict[str, Any], root: dict[str, Any]) -> Any:
    """A variable's value: what the calling module block passes, else its default."""
    if name in passed:
        value = passed[name]
        match = PASSED_VARIABLE.match(value) if isinstance(value, str) else None
        return _variable_value(root, match.group(1), {}, root) if match else value
    return document.get("variable", {}).get(name, {}).get("default")


def _times(count: Any, document: dict[str, Any], passed: dict[str, Any], root: dict[str, Any]) -> tuple[int, int] | None:
    """(fixed, per zone) instances of a block with this ``count``; None for a form not known."""
    if count is None:
        return 1, 0
    if isinstance(count, int):
        return count, 0
    if isinstance(count, str) and ZONE_DATA_SOURCE in count:
        return 0, 1
    match = FLAG.match(count) if isinstance(count, str) else None
    if match:
        value = _variable_value(document, match.group(1), passed, root)
        if isinstance(value, bool):
            return int(value), 0
    match = UNLESS_GIVEN.match(count) if isinstance(count, str) else None
    if match:
        value = _variable_value(document, match.group(1), passed, root)
        if isinstance(value, str):
            return int(value == ""), 0
    match = ANY_ITEM.match(count) if isinstance(count, str) else None
    if match:
        value = _variable_value(document, match.group(1), passed, root)
        if isinstance(value, list):
            return int(bool(value)), 0
    return None


def _instances(block: dict[str, Any], document: dict[str, Any], passed: dict[str, Any], root: dict[str, Any]) -> tuple[int, int] | None:
    """(fixed, per zone) instances of a block, from its ``count`` or ``for_each``."""
    for_each = block.get("for_each")
    if for_each is None:
        return _times(block.get("count"), document, passed, root)
    match = PER_ITEM.match(for_each) if isinstance(for_each, str) else None
    value = _variable_value(document, match.group(1), passed, root) if match else None
    return (len(set(value)), 0) if isinstance(value, list) else None


def _blocks(document: dict[str, Any]):
    for resource_type, blocks in document.get("resource", {}).items():
        for name, block in blocks.items():
            yield f"{resource_type}.{name}", block


def _count_into(tally: Tally, address: str, times: tuple[int, int] | None) -> None:
    if times is None:
        tally.unknown.append(address)
    else:
        tally.fixed += times[0]
        tally.per_zone += times[1]


def resource_tallies(stack_dir: Path, root: dict[str, Any] | None = None) -> dict[str, Tally]:
    """Resources per subsystem: the root module's top-level constructs (the first part
    of each block's construct path) and the modules it calls (``module.<name>``).
    ``root``: the stack's cdk.tf.json when the caller has read it already."""
    if root is None:
        root = json.loads((stack_dir / "cdk.tf.json").read_text())
    tallies: dict[str, Tally] = {}
    for address, block in _blocks(root):
        subsystem = block["//"]["metadata"]["path"].split("/")[1]
        _count_into(tallies.setdefault(subsystem, Tally()), address, _instances(block, root, {}, root))
    for name, call in root.get("module", {}).items():
        document = json.loads((stack_dir / MODULES_FOLDER / name / "main.tf.json").read_text())
        inner = Tally()
        for address, block in _blocks(document):
            _count_into(inner, f"module.{name}.{address}", _instances(block, document, call, root))
        times = _times(call.get("count"), root, {}, root)
        tally = tallies.setdefault(f"module.{name}", Tally())
        if times is None or times[1]:
            tally.unknown.append(f"module.{name}")
        else:
            tally.add(inner, times[0])
    return tallies


def choices(config: PlatformConfig) -> list[str]:
    """What the configuration chose, a line per subsystem."""
    vpc, state, karpenter, hyperpod = config.vpc, config.state, config.karpenter, config.hyperpod
    nat = "one NAT gateway" if vpc.nat_gateways == "single" else "a NAT gateway per zone"
    endpoints = [*(["S3 gateway"] if vpc.s3_gateway else []), *vpc.endpoints.interface]
    if vpc.existing is not None:
        network = (
            f"network: existing {vpc.existing.vpc_id} ({len(vpc.existing.private_subnet_ids)} private, "
            f"{len(vpc.existing.public_subnet_ids)} public, {len(vpc.existing.intra_subnet_ids)} intra subnets; nothing created)"
        )
    else:
        network = f"network: {vpc.cidr}, every zone of the region up to {vpc.max_azs} (read at plan), {nat}, " + (
            f"flow logs kept {vpc.flow_logs.retention_days} days" if vpc.flow_logs.enabled else "no flow logs"
        )
    lines = [
        network + f"; endpoints: {', '.join(endpoints) if endpoints else 'none'}",
        f"eks: Kubernetes {config.kubernetes_version}, "
        + ("public endpoint" if config.eks.endpoint_public_access else "private endpoint only"),
    ]
    if state.backend == "s3":
        key = state.s3_key or f"{config.name}/terraform.tfstate"
        lines.append(f"state: s3://{state.s3_bucket}/{key} ({state.s3_region or config.region}, S3 locking)")
    else:
        lines.append(f"state: local file {state.local_path or f'terraform.{config.name}.tfstate'} (project root)")
    lines.append("karpenter: " + "; ".join(pool_summary(pool) for pool in karpenter.pools))
    fsx, s3 = config.storage.fsx_lustre, config.storage.s3
    storage = []
    if fsx.enabled:
        made = fsx.file_system
        what = (
            f"{made.deployment_type} {made.storage_capacity_gib} GiB in {fsx.availability_zone or 'the first zone'}"
            if made
            else (f"existing {fsx.existing.id}" if fsx.existing else "StorageClass only")
        )
        storage.append(f"FSx for Lustre ({what})")
    if s3.enabled:
        storage.append(f"S3 mounts of {', '.join(b.name for b in s3.buckets)}")
    lines.append(f"storage: {'; '.join(storage) if storage else 'none'}")
    if hyperpod.enabled:
        groups = ", ".join(f"{g.name} {g.instance_count}x {g.instance_type}" for g in hyperpod.instance_groups)
        lines.append(f"hyperpod: {hyperpod.cluster_name_for(config.name)}, node recovery {hyperpod.node_recovery}, groups {groups}")
    else:
        lines.append("hyperpod: off")
    return lines


def pool_summary(pool: PoolConfig) -> str:
    if pool.kind == "general":
        what = f"{'/'.join(pool.instance_categories)} families, {pool.min_vcpu}-{pool.max_vcpu} vCPU"
    else:
        what = ", ".join(pool.instance_types)
    extras = [
        *(["EFA"] if pool.efa else []),
        *([f"zones {', '.join(pool.zones)}"] if pool.zones else []),
        *([f"{len(pool.capacity_reservations)} reservation selector(s)"] if pool.capacity_reservations else []),
        *(["placement group"] if pool.placement_group else []),
    ]
    return f"pool {pool.pool_name}: {what} ({'/'.join(pool.capacity_types)}{''.join(', ' + e for e in extras)})"


def print_summary(stack_id: str, config: PlatformConfig, outdir: Path) -> None:
    stack_dir = outdir / "stacks" / stack_id
    print(f"Synthesized stack '{stack_id}' (platform {PLATFORM_VERSION}): {os.path.relpath(stack_dir)}/cdk.tf.json")
    for line in choices(config):
        print(f"  {line}")
    root = json.loads((stack_dir / "cdk.tf.json").read_text())
    tallies = resource_tallies(stack_dir, root)
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    print(f"  resources: {total}" + (" (terraform plan gives the exact number for the region)" if total.per_zone else ""))
    width = max([12, *map(len, tallies)])
    for subsystem, tally in sorted(tallies.items()):
        print(f"    {subsystem:<{width}} {tally}")
    if total.unknown:
        print(f"    not counted (a count this summary does not know): {', '.join(total.unknown)}")
    kept = kept_in(stack_dir)
    if kept:
        print(f"  kept from the previous synth: {', '.join(p.name for p in kept)}")
    outputs = root.get("output", {})
    print(f"  outputs ({len(outputs)}):")
    width = max(map(len, outputs), default=0)
    for name, output in sorted(outputs.items()):
        print(f"    {name:<{width}} {output.get('description', '')}")
    # On stdout with the rest of the report: `cdktf synth` shows a child's stderr as [ERROR].
    for warning in config.warnings():
        print(f"warning: {warning}")
