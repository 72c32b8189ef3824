"""The inference manager's commands through the real kubernetes client, against a loopback
server speaking the custom-objects API: create, list, watch, delete, the errors when the
operator's CRDs are missing or the cluster is unreachable, and the exit codes."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from modules.config import CONFIG_ENV_VAR
from scripts import inference
from scripts.inference import CUSTOM, JUMPSTART, CannotRun, InferenceManager, JumpStartRequest, OperationFailed
from tests.custom_objects_endpoint import FakeCustomObjectsApi, custom_objects_api  # noqa: F401 - fixture
from tests.local_endpoints import write_kubeconfig

JUMPSTART_PATH = "/apis/inference.sagemaker.aws.amazon.com/v1/namespaces/default/jumpstartmodels"
CUSTOM_PATH = "/apis/inference.sagemaker.aws.amazon.com/v1/namespaces/default/inferenceendpointconfigs"
CUSTOM_ARGS = ("--bucket", "weights", "--region", "us-west-2", "--model-location", "qwen/")


@pytest.fixture
def kubeconfig(custom_objects_api: FakeCustomObjectsApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "not-this-one"))
    return write_kubeconfig(tmp_path / "kubeconfig", custom_objects_api.url)


def run(capsys: pytest.CaptureFixture[str], kubeconfig: Path, *args: str) -> tuple[int, str, str]:
    code = inference.main([*args, "--kubeconfig", str(kubeconfig)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if code != 0:
        assert len(err.strip().splitlines()) == 1, err
    return code, out, err


def closed_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def posted(api: FakeCustomObjectsApi, plural: str, name: str) -> dict:
    return api.objects[(plural, "default", name)]


# --- deploy ---------------------------------------------------------------------------------


def test_deploy_jumpstart_creates_the_model(custom_objects_api, kubeconfig, capsys):
    code, out, _ = run(capsys, kubeconfig, "deploy-jumpstart", "--name", "deepseek")
    assert code == 0 and "created JumpStartModel default/deepseek" in out
    assert f"POST {JUMPSTART_PATH}" in custom_objects_api.requests
    model = posted(custom_objects_api, "jumpstartmodels", "deepseek")
    assert model["apiVersion"] == "inference.sagemaker.aws.amazon.com/v1"
    assert model["spec"]["model"]["modelId"] == "deepseek-llm-r1-distill-qwen-1-5b"
    assert model["spec"]["server"]["instanceType"] == "ml.g5.xlarge"
    assert model["spec"]["metrics"]["enabled"] is True


def test_deploy_custom_creates_an_s3_endpoint_config(custom_objects_api, kubeconfig, capsys):
    code, out, _ = run(capsys, kubeconfig, "deploy-custom", "--name", "qwen", *CUSTOM_ARGS, "--replicas", "2")
    assert code == 0 and "created InferenceEndpointConfig default/qwen" in out
    spec = posted(custom_objects_api, "inferenceendpointconfigs", "qwen")["spec"]
    assert spec["modelSourceConfig"]["s3Storage"] == {"bucketName": "weights", "region": "us-west-2"}
    assert spec["modelSourceConfig"]["modelLocation"] == "qwen/"
    assert (spec["instanceType"], spec["replicas"]) == ("ml.g5.xlarge", 2)
    assert spec["invocationEndpoint"] == "v1/chat/completions"
    assert spec["worker"]["resources"]["requests"] == spec["worker"]["resources"]["limits"] == {"nvidia.com/gpu": 1}


def test_deploying_a_taken_name_fails_with_exit_1(custom_objects_api, kubeconfig, capsys):
    assert run(capsys, kubeconfig, "deploy-jumpstart", "--name", "deepseek")[0] == 0
    code, _, err = run(capsys, kubeconfig, "deploy-jumpstart", "--name", "deepseek")
    assert code == 1 and "already exists" in err and "choose another name" in err


def test_deploy_checks_the_platform_rules_first(custom_objects_api, kubeconfig, capsys):
    code, _, err = run(capsys, kubeconfig, "deploy-jumpstart", "--name", "big", "--instance-type", "ml.p5.48xlarge")
    assert code == 1 and "ml.p5.48xlarge is not the type of any HyperPod instance group" in err
    assert not any(request.startswith("POST") for request in custom_objects_api.requests)
    code, _, _ = run(capsys, kubeconfig, "deploy-jumpstart", "--name", "big", "--instance-type", "ml.p5.48xlarge",
                     "--skip-validation")
    assert code == 0 and ("jumpstartmodels", "default", "big") in custom_objects_api.objects


def test_a_refused_custom_deploy_names_the_rule(custom_objects_api, kubeconfig, capsys):
    code, _, err = run(capsys, kubeconfig, "deploy-custom", "--name", "qwen", *CUSTOM_ARGS, "--instance-type", "ml.g6.xlarge")
    assert code == 1 and "InferenceEndpointConfig/qwen" in err and "ml.g6.xlarge" in err


# --- list, watch, delete ------------------------------------------------------------------------


def test_list_shows_both_kinds_with_their_state(custom_objects_api, kubeconfig, capsys):
    run(capsys, kubeconfig, "deploy-jumpstart", "--name", "deepseek")
    run(capsys, kubeconfig, "deploy-custom", "--name", "qwen", *CUSTOM_ARGS)
    custom_objects_api.set_status("jumpstartmodels", "default", "deepseek", {"state": "DeploymentComplete"})
    code, out, _ = run(capsys, kubeconfig, "list")
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.split() == ["KIND", "NAME", "INSTANCE", "TYPE", "REPLICAS", "STATE"]
    assert [row.split() for row in rows] == [
        ["JumpStartModel", "deepseek", "ml.g5.xlarge", "1", "DeploymentComplete"],
        ["InferenceEndpointConfig", "qwen", "ml.g5.xlarge", "1", "-"],
    ]
    code, out, _ = run(capsys, kubeconfig, "list", "--kind", "custom")
    assert "qwen" in out and "deepseek" not in out


def test_watch_streams_added_modified_deleted(custom_objects_api, kubeconfig, capsys):
    run(capsys, kubeconfig, "deploy-jumpstart", "--name", "deepseek")
    custom_objects_api.set_status("jumpstartmodels", "default", "deepseek", {"state": "DeploymentInProgress"})
    run(capsys, kubeconfig, "delete", "jumpstart", "deepseek")
    started = time.monotonic()
    code, out, _ = run(capsys, kubeconfig, "watch", "jumpstart", "--timeout", "3")
    assert code == 0 and time.monotonic() - started < 3
    assert [line.split() for line in out.strip().splitlines()] == [
        ["ADDED", "JumpStartModel/deepseek", "-"],
        ["MODIFIED", "JumpStartModel/deepseek", "DeploymentInProgress"],
        ["DELETED", "JumpStartModel/deepseek", "DeploymentInProgress"],
    ]
    [watch] = [r for r in custom_objects_api.requests if "watch=True" in r]
    assert watch.startswith(f"GET {JUMPSTART_PATH}?") and "timeoutSeconds=3" in watch


def test_watch_ends_by_its_timeout_while_the_stream_stays_open(custom_objects_api, kubeconfig, capsys):
    custom_objects_api.hold_watch_open = True
    run(capsys, kubeconfig, "deploy-custom", "--name", "qwen", *CUSTOM_ARGS)
    started = time.monotonic()
    code, out, _ = run(capsys, kubeconfig, "watch", "custom", "--timeout", "1")
    elapsed = time.monotonic() - started
    assert code == 0 and 1 <= elapsed < 4, elapsed
    assert out.split()[:2] == ["ADDED", "InferenceEndpointConfig/qwen"]


def test_delete_removes_the_model_and_a_missing_one_fails(custom_objects_api, kubeconfig, capsys):
    run(capsys, kubeconfig, "deploy-custom", "--name", "qwen", *CUSTOM_ARGS)
    code, out, _ = run(capsys, kubeconfig, "delete", "custom", "qwen")
    assert code == 0 and "deleted InferenceEndpointConfig default/qwen" in out
    assert f"DELETE {CUSTOM_PATH}/qwen" in custom_objects_api.requests and not custom_objects_api.objects
    code, _, err = run(capsys, kubeconfig, "delete", "custom", "qwen")
    assert code == 1 and '"qwen" not found' in err


# --- cannot run ------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("list",), ("watch", "jumpstart", "--timeout", "1"), ("delete", "jumpstart", "x"),
    ("deploy-jumpstart", "--name", "x"), ("deploy-custom", "--name", "x", *CUSTOM_ARGS),
])
def test_missing_crds_exit_2_naming_the_switch(args, custom_objects_api, kubeconfig, capsys):
    custom_objects_api.installed.clear()
    code, _, err = run(capsys, kubeconfig, *args)
    assert code == 2 and "inference.sagemaker.aws.amazon.com/v1" in err
    assert "inference operator is not installed" in err and "hyperpod.enable_inference_operator" in err


@pytest.mark.parametrize("args", [("list",), ("watch", "custom", "--timeout", "1"), ("delete", "custom", "x")])
def test_unreachable_cluster_exits_2(args, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{closed_loopback_port()}")
    started = time.monotonic()
    code, _, err = run(capsys, kubeconfig, *args)
    assert code == 2 and err.startswith("cannot run: Kubernetes API unreachable")
    assert time.monotonic() - started < 10


def test_no_kubeconfig_or_unknown_context_exits_2(tmp_path, capsys, custom_objects_api, kubeconfig):
    code, _, err = run(capsys, tmp_path / "missing", "list")
    assert code == 2 and "no kubeconfig at" in err
    code, _, err = run(capsys, kubeconfig, "list", "--context", "elsewhere")
    assert code == 2 and "unusable" in err


# --- the importable class ------------------------------------------------------------------------


def test_manager_class_round_trip(custom_objects_api, kubeconfig):
    manager = InferenceManager.from_kubeconfig(kubeconfig, namespace="team-a")
    created = manager.deploy_jumpstart(JumpStartRequest("deepseek", endpoint_name="deepseek-sme"))
    assert created["metadata"]["namespace"] == "team-a"
    assert created["spec"]["sageMakerEndpoint"] == {"name": "deepseek-sme"}
    [summary] = manager.list([JUMPSTART])
    assert (summary.kind, summary.name, summary.instance_type) == ("JumpStartModel", "deepseek", "ml.g5.xlarge")
    assert manager.list([CUSTOM]) == []
    manager.delete(JUMPSTART, "deepseek")
    with pytest.raises(OperationFailed, match="not found"):
        manager.delete(JUMPSTART, "deepseek")
    custom_objects_api.installed.discard("inferenceendpointconfigs")
    with pytest.raises(CannotRun, match="inferenceendpointconfigs"):
        manager.list([CUSTOM])


def test_deploy_refuses_a_manifest_of_another_kind(kubeconfig):
    manager = InferenceManager.from_kubeconfig(kubeconfig)
    with pytest.raises(OperationFailed, match="not a JumpStartModel or InferenceEndpointConfig"):
        manager.deploy({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}})


def test_the_example_manifests_deploy_as_they_are(custom_objects_api, kubeconfig):
    import yaml

    manager = InferenceManager.from_kubeconfig(kubeconfig)
    sent = {}
    for example in sorted(Path(__file__).resolve().parent.parent.glob("examples/inference/*.yaml")):
        manifest = yaml.safe_load(example.read_text())
        manager.deploy(manifest)
        sent[manifest["metadata"]["name"]] = manifest["spec"]
    received = {name: obj["spec"] for (_, _, name), obj in custom_objects_api.objects.items()}
    assert received == sent
    assert {plural for plural, _, _ in custom_objects_api.objects} == {"jumpstartmodels", "inferenceendpointconfigs"}


def test_deploy_with_an_invalid_configuration_exits_2(custom_objects_api, kubeconfig, tmp_path, monkeypatch, capsys):
    config = tmp_path / "platform.yaml"
    config.write_text("hyperpod:\n  enable_inference_operator: maybe\n")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(config))
    code, _, err = run(capsys, kubeconfig, "deploy-jumpstart", "--name", "deepseek")
    assert code == 2 and "invalid configuration" in err and "hyperpod.enable_inference_operator" in err
    assert not custom_objects_api.objects
