"""Structural checks of Karpenter v1 manifests: the required fields, enums and value
formats of karpenter.sh/v1 NodePool and karpenter.k8s.aws/v1 EC2NodeClass that a rendered
manifest must satisfy for the API server to accept it. Returns the problems found."""

from __future__ import annotations

import re
from typing import Any

DURATION = re.compile(r"^(([0-9]+(s|m|h))+|Never)$")
QUANTITY = re.compile(r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE])?$")
VOLUME_SIZE = re.compile(r"^[1-9][0-9]*(Gi|G|Ti|T)$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"}
TAINT_EFFECTS = {"NoSchedule", "PreferNoSchedule", "NoExecute"}
CONSOLIDATION_POLICIES = {"WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"}
CAPACITY_TYPES = {"spot", "on-demand", "reserved"}
VOLUME_TYPES = {"standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"}
HTTP_TOKENS = {"required", "optional"}
ENABLED = {"enabled", "disabled"}


def _missing(body: dict[str, Any], where: str, *keys: str) -> list[str]:
    return [f"{where}.{key} is required" for key in keys if key not in body]


def node_pool_problems(manifest: dict[str, Any]) -> list[str]:
    problems = _kind_problems(manifest, "karpenter.sh/v1", "NodePool")
    spec = manifest.get("spec", {})
    problems += _missing(spec, "spec", "template")
    template_spec = spec.get("template", {}).get("spec", {})
    problems += _missing(template_spec, "spec.template.spec", "nodeClassRef", "requirements")
    problems += _missing(template_spec.get("nodeClassRef", {}), "nodeClassRef", "group", "kind", "name")
    for requirement in template_spec.get("requirements", []):
        problems += _requirement_problems(requirement)
    for taint in template_spec.get("taints", []):
        problems += _missing(taint, "taint", "key", "effect")
        if taint.get("effect") not in TAINT_EFFECTS:
            problems.append(f"taint effect {taint.get('effect')!r} not in {sorted(TAINT_EFFECTS)}")
    if "expireAfter" in template_spec and not DURATION.match(template_spec["expireAfter"]):
        problems.append(f"expireAfter {template_spec['expireAfter']!r} is not a duration")
    for resource, quantity in spec.get("limits", {}).items():
        if not (isinstance(quantity, (str, int)) and QUANTITY.match(str(quantity))):
            problems.append(f"limits.{resource} {quantity!r} is not a quantity")
    disruption = spec.get("disruption")
    if disruption is not None:
        problems += _missing(disruption, "disruption", "consolidateAfter")
        if disruption.get("consolidationPolicy", "WhenEmptyOrUnderutilized") not in CONSOLIDATION_POLICIES:
            problems.append(f"consolidationPolicy {disruption['consolidationPolicy']!r} is not allowed")
        if not DURATION.match(str(disruption.get("consolidateAfter", ""))):
            problems.append(f"consolidateAfter {disruption.get('consolidateAfter')!r} is not a duration")
    return problems


def _requirement_problems(requirement: dict[str, Any]) -> list[str]:
    problems = _missing(requirement, "requirement", "key", "operator")
    operator = requirement.get("operator")
    values = requirement.get("values", [])
    if operator not in OPERATORS:
        problems.append(f"operator {operator!r} not in {sorted(OPERATORS)}")
    if operator in {"In", "NotIn", "Gt", "Lt", "Gte", "Lte"} and not values:
        problems.append(f"{requirement.get('key')} {operator} needs values")
    if operator in {"Gt", "Lt", "Gte", "Lte"} and (len(values) != 1 or not str(values[0]).isdigit()):
        problems.append(f"{requirement.get('key')} {operator} needs one integer value")
    if not all(isinstance(value, str) and LABEL_VALUE.match(value) for value in values):
        problems.append(f"{requirement.get('key')} values must be label-value strings: {values!r}")
    if requirement.get("key") == "karpenter.sh/capacity-type" and not set(values) <= CAPACITY_TYPES:
        problems.append(f"capacity types {values!r} not in {sorted(CAPACITY_TYPES)}")
    return problems


def node_class_problems(manifest: dict[str, Any]) -> list[str]:
    problems = _kind_problems(manifest, "karpenter.k8s.aws/v1", "EC2NodeClass")
    spec = manifest.get("spec", {})
    problems += _missing(spec, "spec", "amiSelectorTerms", "securityGroupSelectorTerms", "subnetSelectorTerms")
    if ("role" in spec) == ("instanceProfile" in spec):
        problems.append("exactly one of spec.role and spec.instanceProfile must be set")
    for key in ("amiSelectorTerms", "securityGroupSelectorTerms", "subnetSelectorTerms"):
        if not spec.get(key):
            problems.append(f"spec.{key} must not be empty")
    metadata = spec.get("metadataOptions", {})
    if metadata.get("httpTokens", "required") not in HTTP_TOKENS:
        problems.append(f"httpTokens {metadata['httpTokens']!r} not in {sorted(HTTP_TOKENS)}")
    for key in ("httpEndpoint", "httpProtocolIPv6"):
        if metadata.get(key, "enabled" if key == "httpEndpoint" else "disabled") not in ENABLED:
            problems.append(f"{key} {metadata[key]!r} not in {sorted(ENABLED)}")
    hops = metadata.get("httpPutResponseHopLimit", 1)
    if not (isinstance(hops, int) and 1 <= hops <= 64):
        problems.append(f"httpPutResponseHopLimit {hops!r} must be an integer 1-64")
    for mapping in spec.get("blockDeviceMappings", []):
        ebs = mapping.get("ebs", {})
        if ebs.get("volumeType") not in VOLUME_TYPES:
            problems.append(f"volumeType {ebs.get('volumeType')!r} not in {sorted(VOLUME_TYPES)}")
        if not VOLUME_SIZE.match(str(ebs.get("volumeSize", ""))):
            problems.append(f"volumeSize {ebs.get('volumeSize')!r} is not a size such as 100Gi")
        if not isinstance(ebs.get("encrypted"), bool):
            problems.append("ebs.encrypted must be a boolean")
    if "instanceStorePolicy" in spec and spec["instanceStorePolicy"] != "RAID0":
        problems.append("instanceStorePolicy must be RAID0")
    if not isinstance(spec.get("userData", ""), str):
        problems.append("userData must be a string")
    return problems


def _kind_problems(manifest: dict[str, Any], api_version: str, kind: str) -> list[str]:
    problems = []
    if manifest.get("apiVersion") != api_version or manifest.get("kind") != kind:
        problems.append(f"expected {api_version} {kind}, got {manifest.get('apiVersion')} {manifest.get('kind')}")
    if not manifest.get("metadata", {}).get("name"):
        problems.append("metadata.name is required")
    return problems
