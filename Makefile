# Every target sets up what it needs: a fresh clone runs `make synth` or `make test` directly.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup synth hcl modules test bench scan plan-report plan-offline snapshot-update docs clean

setup: $(STAMP)

# A line per step, and pip's own lines per package: a first set-up takes minutes.
PIP_INSTALL = pip install --disable-pip-version-check --progress-bar on
$(STAMP): requirements.txt requirements-dev.txt scripts/requirements.txt
	@echo "setup 1/3: virtual environment $(VENV) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	@echo "setup 2/3: installing requirements-dev.txt into $(VENV) (cdktf and the AWS, Helm and Kubernetes provider bindings are large: a few minutes the first time)"
	$(VENV)/bin/$(PIP_INSTALL) -r requirements-dev.txt
	@touch $@
	@echo "setup 3/3: $(VENV) ready"

## Synthesize the configuration (defaults, or the YAML file $HYPERPOD_EKS_CONFIG names).
synth: $(STAMP)
	$(PY) main.py

## Synthesize and write formatted HCL copies beside the JSON (cdktf.out/stacks/<stack>/hcl/).
hcl: $(STAMP)
	$(PY) main.py --hcl

## Synthesize and write the reusable Karpenter and HyperPod modules to dist/terraform-modules/.
modules: $(STAMP)
	$(PY) main.py --modules

## Run every test, in $(JOBS) processes. worksteal hands each worker a contiguous half of
## the suite (its files share session caches) and lets an idle worker take tests from the
## busy one: faster here than one worker holding every synth and Terraform test.
JOBS ?= 2
test: $(STAMP)
	$(PY) -m pytest -n $(JOBS) --dist worksteal

## Time and memory of a synth with the start-up mechanisms on and off, and of a refusal (docs/performance.md).
bench: $(STAMP)
	$(PY) -m scripts.bench_synth --runs $(or $(RUNS),5)

## checkov on the default and everything-on stacks and their modules (null-stripped copies), held to security/checkov-skips.yaml.
SCAN_VENV := .venv-scan
$(SCAN_VENV)/.installed: requirements-scan.txt
	@echo "scan setup 1/2: virtual environment $(SCAN_VENV) for checkov"
	$(PYTHON) -m venv $(SCAN_VENV)
	@echo "scan setup 2/2: installing requirements-scan.txt into $(SCAN_VENV)"
	$(SCAN_VENV)/bin/$(PIP_INSTALL) -r requirements-scan.txt
	@touch $@

scan: $(STAMP) $(SCAN_VENV)/.installed
	$(PY) main.py
	HYPERPOD_EKS_CONFIG=examples/configs/everything-on.yaml CDKTF_OUTDIR=cdktf.out/everything-on $(PY) main.py
	$(PY) -m scripts.security_scan --checkov $(SCAN_VENV)/bin/checkov --outdir cdktf.out --outdir cdktf.out/everything-on

## The estimated apply critical path of the synthesized stack.
plan-report: $(STAMP)
	$(PY) main.py
	$(PY) -m scripts.plan_report

## Synthesize, then terraform init, validate and plan offline against stand-in providers
## (tooling/offline; no network, no AWS account). ZONES=n sets the availability zones reported.
plan-offline: $(STAMP)
	$(PY) main.py
	$(PY) -m tooling.offline cdktf.out/stacks/ml-platform $(if $(ZONES),--zones $(ZONES))

## Regenerate the stack snapshot after an intended change; review the diff before committing.
snapshot-update: $(STAMP)
	$(PY) -m pytest tests/test_snapshot.py --snapshot-update

## Regenerate the documents generated from code (instance types, HCL teams, architecture).
docs: $(STAMP)
	$(PY) -m scripts.generate_docs

clean:
	rm -rf cdktf.out .cdktf.out.* .pytest_cache
