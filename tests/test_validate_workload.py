"""The workload validator: every example passes; each rule rejects what it should, naming
the document, the container and the fix; the command line's exit codes."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
import yaml

from modules.config import CONFIG_ENV_VAR, parse_config
from scripts import validate_workload
from scripts.validate_workload import Capacity, validate_files, validate_text

TODAY = dt.date(2026, 11, 22)
REPO = Path(__file__).resolve().parent.parent
# Kubernetes manifests (examples/configs holds platform configurations, not manifests).
EXAMPLES = sorted(p for p in (REPO / "examples").glob("*/*.yaml") if p.parent.name != "configs")


@pytest.fixture(scope="module")
def capacity() -> Capacity:
    return Capacity.from_config(parse_config({}, today=TODAY))


def pod(resources: str = "", node_selector: str = "", affinity: str = "", kind: str = "Pod") -> str:
    """A Pod (or a Deployment around the same pod spec) with one container `main`."""
    spec = textwrap.indent(
        f"nodeSelector: {node_selector or '{}'}\n{affinity}"
        f"containers:\n  - name: main\n    image: example\n    resources: {resources or '{}'}\n",
        "  ",
    )
    if kind == "Pod":
        return f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}"
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
        + textwrap.indent(spec, "    ")
    )


def messages(text: str, capacity: Capacity) -> list[str]:
    return [str(problem) for problem in validate_text(text, capacity, source="job.yaml")]


# --- the examples ------------------------------------------------------------------------


def test_examples_exist_for_training_and_inference():
    kinds = {doc["kind"] for path in EXAMPLES for doc in yaml.safe_load_all(path.read_text()) if doc}
    assert {"HyperPodPyTorchJob", "PyTorchJob", "JumpStartModel", "InferenceEndpointConfig"} <= kinds


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_passes(path, capacity):
    assert validate_files([path], capacity) == []


def test_training_examples_target_the_default_hyperpod_group_with_auto_restart():
    hyperpod = yaml.safe_load((REPO / "examples/training/hyperpod-pytorch-job.yaml").read_text())
    assert hyperpod["apiVersion"] == "sagemaker.amazonaws.com/v1"
    assert hyperpod["spec"]["runPolicy"]["jobMaxRetryCount"] > 0
    [workers] = hyperpod["spec"]["replicaSpecs"]
    assert workers["template"]["spec"]["nodeSelector"]["node.kubernetes.io/instance-type"] == "ml.g5.xlarge"
    assert workers["template"]["spec"]["containers"][0]["command"][0] == "hyperpodrun"
    kubeflow = yaml.safe_load((REPO / "examples/training/pytorch-job.yaml").read_text())
    assert kubeflow["apiVersion"] == "kubeflow.org/v1"
    assert kubeflow["metadata"]["annotations"]["sagemaker.amazonaws.com/enable-job-auto-resume"] == "true"
    for replica in kubeflow["spec"]["pytorchReplicaSpecs"].values():
        assert replica["restartPolicy"] == "OnFailure"


def test_inference_examples_carry_the_requested_settings():
    jumpstart = yaml.safe_load((REPO / "examples/inference/jumpstart-model.yaml").read_text())
    assert jumpstart["apiVersion"] == "inference.sagemaker.aws.amazon.com/v1"
    assert jumpstart["spec"]["model"]["modelId"] == "deepseek-llm-r1-distill-qwen-1-5b"
    assert jumpstart["spec"]["server"]["instanceType"] == "ml.g5.xlarge"
    assert jumpstart["spec"]["metrics"]["enabled"] is True
    custom = yaml.safe_load((REPO / "examples/inference/inference-endpoint-config.yaml").read_text())["spec"]
    assert custom["invocationEndpoint"] == "v1/chat/completions"
    assert custom["modelSourceConfig"]["modelSourceType"] == "s3"
    assert {"bucketName", "region"} <= set(custom["modelSourceConfig"]["s3Storage"])
    assert custom["modelSourceConfig"]["modelLocation"] and custom["replicas"] >= 1


# --- accelerators: requests equal limits ------------------------------------------------------


@pytest.mark.parametrize("resource", ["nvidia.com/gpu", "aws.amazon.com/neuron", "aws.amazon.com/neuroncore",
                                      "vpc.amazonaws.com/efa"])
def test_accelerator_requests_must_equal_limits(resource, capacity):
    text = pod(f"{{requests: {{'{resource}': 1}}, limits: {{'{resource}': 2}}}}")
    [message] = messages(text, capacity)
    assert message.startswith("job.yaml document 1 (Pod/p): container main:")
    assert f"{resource} requests (1) differ from limits (2)" in message and "set both to 2" in message


def test_a_request_without_a_limit_is_rejected(capacity):
    [message] = messages(pod("{requests: {nvidia.com/gpu: 1}}"), capacity)
    assert "without a limit" in message and "set limits nvidia.com/gpu: 1" in message


def test_equal_quantities_in_any_spelling_pass(capacity):
    assert messages(pod("{requests: {nvidia.com/gpu: '8'}, limits: {nvidia.com/gpu: 8}}"), capacity) == []
    assert messages(pod("{limits: {nvidia.com/gpu: 8}}"), capacity) == [], "a limit alone is requested as is"
    assert messages(pod("{requests: {cpu: '1'}, limits: {cpu: '2'}}"), capacity) == [], "cpu may burst"


def test_init_containers_are_checked_too(capacity):
    text = pod("{}").replace(
        "  containers:", "  initContainers:\n    - name: warmup\n      resources: "
        "{requests: {nvidia.com/gpu: 1}, limits: {nvidia.com/gpu: 2}}\n  containers:"
    )
    [message] = messages(text, capacity)
    assert "container warmup:" in message


# --- instance types and pools -------------------------------------------------------------------


@pytest.mark.parametrize("selector", [
    "{node.kubernetes.io/instance-type: ml.g5.xlarge}",        # the HyperPod group
    "{node.kubernetes.io/instance-type: p5.48xlarge}",         # the GPU pool
    "{karpenter.sh/nodepool: p5-gpu-h100, node.kubernetes.io/instance-type: p5.48xlarge}",
    "{karpenter.sh/nodepool: default, node.kubernetes.io/instance-type: m5.2xlarge}",
    "{node.kubernetes.io/instance-type: c6i.8xlarge}",         # 32 vCPU: the default pool's top
    "{karpenter.sh/nodepool: default}",
])
def test_provided_placements_pass(selector, capacity):
    assert messages(pod(node_selector=selector), capacity) == []


@pytest.mark.parametrize("selector, named", [
    ("{node.kubernetes.io/instance-type: ml.p5.48xlarge}", "ml.p5.48xlarge"),   # no such group
    ("{node.kubernetes.io/instance-type: g5.xlarge}", "g5.xlarge"),             # EC2 g5 is in no pool
    ("{node.kubernetes.io/instance-type: m5.12xlarge}", "m5.12xlarge"),         # 48 vCPU, above the range
    ("{node.kubernetes.io/instance-type: m5.large}", "m5.large"),               # 2 vCPU, below it
    ("{node.kubernetes.io/instance-type: m7g.xlarge}", "m7g.xlarge"),           # arm64
    ("{karpenter.sh/nodepool: default, node.kubernetes.io/instance-type: p5.48xlarge}", "in pool default"),
    ("{karpenter.sh/nodepool: p5-gpu-h100, node.kubernetes.io/instance-type: ml.g5.xlarge}", "p5-gpu-h100"),
])
def test_unprovided_instance_types_are_rejected_with_the_fix(selector, named, capacity):
    [message] = messages(pod(node_selector=selector), capacity)
    assert named in message and "no HyperPod instance group or Karpenter pool provides" in message
    assert "ml.g5.xlarge" in message and "p5.48xlarge" in message, "lists what is available"
    assert "hyperpod.instance_groups" in message


def test_unknown_pool_is_rejected(capacity):
    [message] = messages(pod(node_selector="{karpenter.sh/nodepool: gpu}"), capacity)
    assert "pool 'gpu'" in message and "use default or p5-gpu-h100" in message


def test_required_affinity_is_read(capacity):
    affinity = textwrap.dedent("""\
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
                - matchExpressions:
                    - {key: node.kubernetes.io/instance-type, operator: In, values: [%s]}
        """)
    [message] = messages(pod(affinity=affinity % "p4d.24xlarge, trn1.32xlarge"), capacity)
    assert "p4d.24xlarge, trn1.32xlarge" in message
    assert messages(pod(affinity=affinity % "p4d.24xlarge, p5.48xlarge"), capacity) == [], "one provided is enough"
    conflicting = pod(node_selector="{node.kubernetes.io/instance-type: ml.g5.xlarge}", affinity=affinity % "p5.48xlarge")
    [message] = messages(conflicting, capacity)
    assert "allow no instance type in common" in message


def test_the_configuration_decides(capacity):
    wider = Capacity.from_config(parse_config(
        {"karpenter": {"pools": [{"kind": "gpu", "instance_types": ["p4d.24xlarge"], "limits": {"cpu": 96, "memory_gi": 1152, "gpus": 8}}]},
         "hyperpod": {"instance_groups": [{"name": "h100", "instance_type": "ml.p5.48xlarge", "instance_count": 1}]}},
        today=TODAY,
    ))
    text = pod(node_selector="{node.kubernetes.io/instance-type: ml.p5.48xlarge}")
    assert messages(text, capacity) and not messages(text, wider)
    no_hyperpod = Capacity.from_config(parse_config({"hyperpod": {"enabled": False}}, today=TODAY))
    [message] = messages(pod(node_selector="{node.kubernetes.io/instance-type: ml.g5.xlarge}"), no_hyperpod)
    assert "hyperpod.enabled is false" in message


# --- where pod templates live ----------------------------------------------------------------------


def test_multi_document_files_name_each_document(capacity):
    good = pod(node_selector="{karpenter.sh/nodepool: default}")
    bad = pod("{requests: {nvidia.com/gpu: 1}, limits: {nvidia.com/gpu: 4}}", kind="Deployment")
    [message] = messages(f"{good}---\n{bad}---\n", capacity)
    assert message.startswith("job.yaml document 2 (Deployment/d): template container main:")


@pytest.mark.parametrize("example, edit, where", [
    ("training/hyperpod-pytorch-job.yaml", ("nvidia.com/gpu: 1\n                limits:", "nvidia.com/gpu: 2\n                limits:"),
     "replicaSpecs[0] (workers) container pytorch"),
    ("training/pytorch-job.yaml", ("ml.g5.xlarge", "ml.g5.48xlarge"), "pytorchReplicaSpecs.Master"),
    ("inference/jumpstart-model.yaml", ("instanceType: ml.g5.xlarge", "instanceType: ml.g6.xlarge"), "spec: instance type ml.g6.xlarge"),
    ("inference/inference-endpoint-config.yaml", ("nvidia.com/gpu: 1\n      limits:", "nvidia.com/gpu: 4\n      limits:"),
     "worker: nvidia.com/gpu requests (4) differ"),
])
def test_broken_examples_are_caught_where_they_break(example, edit, where, capacity):
    text = (REPO / "examples" / example).read_text()
    assert edit[0] in text
    problems = messages(text.replace(edit[0], edit[1], 1), capacity)
    assert problems and where in problems[0], problems


def test_jobs_and_cron_jobs(capacity):
    job = ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  jobTemplate:\n    spec:\n"
           "      template:\n        spec:\n          nodeSelector: {node.kubernetes.io/instance-type: x1.huge}\n"
           "          containers: [{name: main, image: example}]\n")
    [message] = messages(job, capacity)
    assert "(CronJob/nightly): pod template jobTemplate:" in message


# --- command line --------------------------------------------------------------------------------


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = validate_workload.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def defaults(monkeypatch):
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)


def test_cli_accepts_the_examples(defaults, capsys):
    code, out, _ = run_cli(capsys, *map(str, EXAMPLES))
    assert code == 0 and f"ok: {len(EXAMPLES)} file(s)" in out


def test_cli_exits_1_listing_each_problem(defaults, tmp_path, capsys):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(pod("{requests: {nvidia.com/gpu: 1}, limits: {nvidia.com/gpu: 2}}",
                            node_selector="{node.kubernetes.io/instance-type: ml.p5.48xlarge}"))
    code, out, err = run_cli(capsys, str(manifest))
    assert code == 1
    assert len(out.strip().splitlines()) == 2 and f"{manifest} document 1 (Pod/p)" in out
    assert "2 problem(s)" in err


@pytest.mark.parametrize("content, reason", [
    (None, "cannot read"),
    ("kind: Pod\n  bad: [indent\n", "invalid YAML at line"),
    ("- just\n- a list\n", "not a Kubernetes object"),
])
def test_cli_exits_2_when_it_cannot_check(content, reason, defaults, tmp_path, capsys):
    manifest = tmp_path / "job.yaml"
    if content is not None:
        manifest.write_text(content)
    code, out, err = run_cli(capsys, str(manifest))
    assert code == 2 and reason in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_exits_2_on_an_invalid_configuration(tmp_path, monkeypatch, capsys):
    config = tmp_path / "platform.yaml"
    config.write_text("hyperpod:\n  enabled: 'yes'\n")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(config))
    code, _, err = run_cli(capsys, str(EXAMPLES[0]))
    assert code == 2 and "invalid configuration" in err and "hyperpod.enabled" in err
