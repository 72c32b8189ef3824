"""The example workloads target the pools the stack creates, as Terraform hands them to
Helm (the node-pools release's values in the applied state)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "workloads"


@pytest.fixture(scope="module")
def pools(deployed) -> dict[str, dict]:
    (values,) = deployed.find("helm_release", "node_pools", "karpenter")["values"]
    return {pool["metadata"]["name"]: pool for pool in yaml.safe_load(values)["nodePools"]}


def pod_spec(file_name: str) -> dict:
    documents = list(yaml.safe_load_all((EXAMPLES / file_name).read_text()))
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    return deployment["spec"]["template"]["spec"]


def taints_of(pool: dict) -> list[dict]:
    return pool["spec"]["template"]["spec"].get("taints", [])


def tolerated(taint: dict, tolerations: list[dict]) -> bool:
    return any(
        t.get("key") == taint["key"]
        and t.get("effect") in (taint["effect"], None)
        and (t.get("operator") == "Exists" or t.get("value") == taint["value"])
        for t in tolerations
    )


def instance_types_of(pool: dict) -> list[str]:
    for requirement in pool["spec"]["template"]["spec"]["requirements"]:
        if requirement["key"] == "node.kubernetes.io/instance-type":
            return requirement["values"]
    return []


def test_inflate_scales_the_default_pool(pools):
    spec = pod_spec("inflate.yaml")
    pool = pools[spec["nodeSelector"]["karpenter.sh/nodepool"]]
    assert pool["metadata"]["name"] == "default"
    assert all(tolerated(taint, spec.get("tolerations", [])) for taint in taints_of(pool))
    (container,) = spec["containers"]
    assert container["resources"]["requests"]["cpu"] == "1"
    assert "nvidia.com/gpu" not in container["resources"]["requests"]


def test_vllm_lands_on_the_gpu_pool_and_requests_its_gpus(pools):
    spec = pod_spec("vllm-h100.yaml")
    pool = pools[spec["nodeSelector"]["karpenter.sh/nodepool"]]
    assert pool["metadata"]["name"] == "p5-gpu-h100"
    assert taints_of(pool) and all(tolerated(taint, spec["tolerations"]) for taint in taints_of(pool))
    assert spec["nodeSelector"]["node.kubernetes.io/instance-type"] in instance_types_of(pool)
    (container,) = spec["containers"]
    gpus = int(container["resources"]["limits"]["nvidia.com/gpu"])
    assert gpus == int(container["resources"]["requests"]["nvidia.com/gpu"])
    assert 0 < gpus <= int(pool["spec"]["limits"]["nvidia.com/gpu"])
    assert f"--tensor-parallel-size={gpus}" in container["args"]


def test_the_gpu_taint_keeps_other_pods_away(pools):
    assert not tolerated(taints_of(pools["p5-gpu-h100"])[0], pod_spec("inflate.yaml").get("tolerations", []))
