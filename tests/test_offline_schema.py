"""The stand-ins' schemas, facts and fakes, without running Terraform: generation from the
bindings' jsii assemblies and its cache, the served schema, the hand-kept facts naming
attributes that exist, and the data sources' answers."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tooling.offline import facts, fakes
from tooling.offline.__main__ import main as cli_main
from tooling.offline.bindings import bindings_for, provider_requirements, satisfies
from tooling.offline.jsii_schema import schemas_for
from tooling.offline.schema import served_schema
from tooling.offline.serve import _create_only_changed, json_patch_paths
from tooling.offline.usage import Usage

HYPERPOD = "AWS::SageMaker::Cluster"


def test_helm_schemas_are_generated_once_then_read_from_the_cache(tmp_path):
    bindings = bindings_for("helm")
    started = time.perf_counter()
    cold = schemas_for(bindings, ["helm_release", "helm_no_such_thing"], [], root=tmp_path)
    cold_seconds = time.perf_counter() - started
    warm = schemas_for(bindings, ["helm_release", "helm_no_such_thing"], [], root=tmp_path)
    print(f"\nhelm schema: generated in {cold_seconds:.2f}s, cached read in {warm.seconds:.4f}s")
    assert cold.generated and not warm.generated
    assert cold.to_json() == warm.to_json()
    assert cold.provider_version == "3.1.1"
    assert set(cold.resources) == {"helm_release"}, "a type the provider lacks is left for Terraform to report"
    assert (tmp_path / f"helm-{bindings.version}-g1" / "resource" / "helm_release.json").is_file()
    release = cold.resources["helm_release"]
    assert release["attributes"]["chart"] == {"type": "string", "required": True}
    assert release["attributes"]["status"] == {"type": "string", "computed": True}
    assert release["attributes"]["values"] == {"type": ["list", "string"], "optional": True, "computed": True}
    assert release["blocks"]["set"]["nesting"] == "list"


def test_a_pass_also_derives_the_types_the_project_imports(tmp_path):
    """Asking for the provider alone (no type) still derives helm_release: the project
    imports cdktf_cdktf_provider_helm.release, so its next configuration finds it cached."""
    from tooling.offline.jsii_schema import project_submodules

    assert {"release", "provider"} <= project_submodules("helm")
    assert {"eks_cluster", "data_aws_partition"} <= project_submodules("aws")
    bindings = bindings_for("helm")
    asked = schemas_for(bindings, [], [], root=tmp_path)
    assert asked.generated and asked.resources == {}
    cached = tmp_path / f"helm-{bindings.version}-g1" / "resource" / "helm_release.json"
    assert cached.is_file()
    assert not schemas_for(bindings, ["helm_release"], [], root=tmp_path).generated


def _generated(root: str) -> bool:
    return schemas_for(bindings_for("helm"), ["helm_release"], [], root=Path(root)).generated


def test_two_processes_missing_the_same_types_generate_them_once(tmp_path):
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        generated = pool.map(_generated, [str(tmp_path)] * 2)
    assert sorted(generated) == [False, True], "one generated, the other waited and read"


def test_helm_3_blocks_are_served_as_nested_attributes():
    served = served_schema(schemas_for(bindings_for("helm"), ["helm_release"], []))
    release = served["resources"]["helm_release"]
    assert "blocks" not in release
    assert release["attributes"]["set"]["nested"]["nesting"] == "list"
    assert release["attributes"]["set"]["nested"]["attributes"]["name"] == {"type": "string", "required": True}
    assert release["attributes"]["set_sensitive"]["nested"]["attributes"]["value"]["sensitive"] is True
    kubernetes = served["provider"]["attributes"]["kubernetes"]
    assert kubernetes["nested"]["nesting"] == "single" and kubernetes["optional"] is True
    assert kubernetes["nested"]["attributes"]["exec"]["nested"]["attributes"]["command"]["required"] is True
    assert not any(a.get("computed") for a in served["provider"]["attributes"].values()), "provider config is never computed"


def test_aws_schemas_keep_blocks_nesting_and_computed_attributes():
    schemas = schemas_for(bindings_for("aws"), ["aws_eks_cluster", "aws_security_group"], ["aws_eks_cluster"])
    assert schemas.provider_version == "6.25.0"
    cluster = schemas.resources["aws_eks_cluster"]
    vpc_config = cluster["blocks"]["vpc_config"]
    assert (vpc_config["nesting"], vpc_config["min_items"], vpc_config["max_items"]) == ("list", 1, 1)
    assert vpc_config["block"]["attributes"]["subnet_ids"] == {"type": ["set", "string"], "required": True}
    assert vpc_config["block"]["attributes"]["cluster_security_group_id"] == {"type": "string", "computed": True}
    assert cluster["attributes"]["certificate_authority"] == {"type": ["list", ["object", {"data": "string"}]], "computed": True}
    assert cluster["blocks"]["timeouts"]["nesting"] == "single"
    data = schemas.data_sources["aws_eks_cluster"]
    assert data["attributes"]["name"]["required"] and data["attributes"]["endpoint"] == {"type": "string", "computed": True}
    served = served_schema(schemas)["resources"]["aws_security_group"]
    ingress = served["attributes"]["ingress"]
    assert ingress["type"][0] == "set" and ingress["type"][1][0] == "object", "an SDKv2 attribute as blocks"
    assert {"self", "description", "cidr_blocks"} <= set(ingress["type"][1][1])


def _resolves(block: dict, path: tuple[str, ...]) -> bool:
    name, rest = path[0], path[1:]
    if name in block.get("attributes", {}):
        attribute = block["attributes"][name]
        return not rest or ("nested" in attribute and _resolves(attribute["nested"], rest))
    if name in block.get("blocks", {}):
        return not rest or _resolves(block["blocks"][name]["block"], rest)
    return False


def test_every_fact_names_an_attribute_the_schema_has():
    for provider, types in facts.described_types().items():
        schemas = schemas_for(bindings_for(provider), types, [])
        assert set(schemas.resources) == types, f"facts name types {provider} lacks: {types - set(schemas.resources)}"
        for type_name, block in schemas.resources.items():
            paths = set(facts.REPLACING.get(type_name, ())) | set(facts.PLAN_DEFAULTS.get(type_name, {}))
            paths |= set(facts.NAME_RULES.get(type_name, {})) | set(facts.SENSITIVE.get(type_name, ()))
            paths |= {(n,) for n in facts.JSON_ATTRIBUTES.get(type_name, ())}
            paths |= {(n,) for n in facts.ATTRIBUTES_AS_BLOCKS.get(type_name, ())}
            for attribute, watched in facts.RECOMPUTED_ON_CHANGE.get(type_name, {}).items():
                paths |= {(attribute,)} | {(w,) for w in watched or ()}
            missing = sorted(".".join(p) for p in paths if not _resolves(block, p))
            assert not missing, f"{type_name}: facts name {missing}, which its schema lacks"


def test_bindings_describe_the_pinned_provider_versions():
    for name, (source, constraint) in provider_requirements().items():
        version = schemas_for(bindings_for(name), [], []).provider_version
        assert satisfies(version, constraint), f"{source} {version} vs PROVIDER_REQUIREMENTS {constraint}"
    assert satisfies("6.25.3", "~> 6.25.0") and not satisfies("6.26.0", "~> 6.25.0")
    assert satisfies("3.1.1", ">= 3.0, < 4.0") and not satisfies("2.9.0", ">= 3.0")


@pytest.mark.parametrize("zones", [2, 3, 4, 6, 8])
def test_availability_zones_answer_with_the_configured_count(zones):
    ctx = fakes.Context(region="us-west-2", zones=zones)
    answer = fakes.DATA_SOURCES["aws_availability_zones"]({"state": "available"}, ctx)
    assert answer["names"] == [f"us-west-2{letter}" for letter in "abcdefgh"[:zones]]
    assert answer["zone_ids"] == [f"usw2-az{i}" for i in range(1, zones + 1)]
    excluded = fakes.DATA_SOURCES["aws_availability_zones"]({"exclude_zone_ids": ["usw2-az1"]}, ctx)
    assert excluded["names"][0] == "us-west-2b" and len(excluded["zone_ids"]) == zones - 1


def test_context_data_sources_follow_the_region():
    ctx = fakes.Context(region="eu-central-1", zones=3)
    assert fakes.DATA_SOURCES["aws_availability_zones"]({}, ctx)["zone_ids"][0] == "euc1-az1"
    assert fakes.zone_id_prefix("ap-southeast-1") == "apse1" and fakes.zone_id_prefix("us-gov-west-1") == "usgw1"
    china = fakes.Context(region="cn-north-1", zones=2)
    assert fakes.DATA_SOURCES["aws_partition"]({}, china) == {
        "id": "aws-cn", "partition": "aws-cn", "dns_suffix": "amazonaws.com.cn", "reverse_dns_prefix": "cn.com.amazonaws",
    }
    caller = fakes.DATA_SOURCES["aws_caller_identity"]({}, ctx)
    session = fakes.DATA_SOURCES["aws_iam_session_context"]({"arn": caller["arn"]}, ctx)
    assert caller["account_id"] == "123456789012"
    assert session["issuer_arn"] == "arn:aws:iam::123456789012:role/OfflineStandIn"


def test_hyperpod_changes_replace_only_where_the_aws_provider_does():
    state = {"ClusterName": "hp", "InstanceGroups": [{"InstanceGroupName": "gpu", "InstanceType": "ml.g5.xlarge", "InstanceCount": 2}],
             "VpcConfig": {"Subnets": ["subnet-1"]}}

    def replaces(**changes):
        after = json.loads(json.dumps(state))
        for key, value in changes.items():
            after[key] = value
        return _create_only_changed({"desired_state": json.dumps(state)}, {"type_name": HYPERPOD, "desired_state": json.dumps(after)})

    assert replaces(ClusterName="other")
    assert replaces(Orchestrator={"Eks": {"ClusterArn": "arn"}}), "adding a create-only property"
    groups = [dict(state["InstanceGroups"][0], InstanceCount=3)]
    assert not replaces(InstanceGroups=groups)
    # The provider compares patch paths with the pointers for equality: a new instance type
    # plans as an update (Cloud Control would refuse it at apply).
    assert not replaces(InstanceGroups=[dict(state["InstanceGroups"][0], InstanceType="ml.g5.2xlarge")])
    assert not replaces(VpcConfig={"Subnets": ["subnet-1", "subnet-2"]})
    assert json_patch_paths({"a": [1, {"b": 2}]}, {"a": [1, {"b": 3}], "c": 1}) == ["/a/1/b", "/c"]


def test_usage_names_the_providers_a_configuration_implies():
    usage = Usage(providers={"aws": "hashicorp/aws"}, resources={"aws_vpc", "kubernetes_namespace"}, data_sources={"helm_template"})
    assert usage.sources() == {"aws": "hashicorp/aws", "helm": "hashicorp/helm", "kubernetes": "hashicorp/kubernetes"}
    assert usage.types_of("aws") == ({"aws_vpc"}, set())


def test_cli_help_and_bad_usage(capsys, tmp_path):
    with pytest.raises(SystemExit) as shown:
        cli_main(["--help"])
    assert shown.value.code == 0
    assert re.search(r"not\s+that\s+AWS\s+accepts\s+it", capsys.readouterr().out)
    assert cli_main([str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli_main(["--var", "no-equals-sign", str(tmp_path)]) == 2
