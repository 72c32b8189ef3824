# Every target sets up what it needs: a fresh clone runs `make synth` or `make test` directly.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup synth test bench scan plan-report snapshot-update docs clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt scripts/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Synthesize the configuration (defaults, or the YAML file $HYPERPOD_EKS_CONFIG names).
synth: $(STAMP)
	$(PY) main.py

## Run every test.
test: $(STAMP)
	$(PY) -m pytest

## Time and memory of a synth, lean provider imports against eager (docs/performance.md).
bench: $(STAMP)
	$(PY) -m scripts.bench_synth --runs $(or $(RUNS),5)

## checkov on every synthesized stack (null-stripped copies), held to security/checkov-skips.yaml.
SCAN_VENV := .venv-scan
$(SCAN_VENV)/.installed: requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

scan: $(STAMP) $(SCAN_VENV)/.installed
	$(PY) main.py
	$(PY) -m scripts.security_scan --checkov $(SCAN_VENV)/bin/checkov

## The estimated apply critical path of the synthesized stack.
plan-report: $(STAMP)
	$(PY) main.py
	$(PY) -m scripts.plan_report

## Regenerate the stack snapshot after an intended change; review the diff before committing.
snapshot-update: $(STAMP)
	$(PY) -m pytest tests/test_snapshot.py --snapshot-update

## Regenerate the documents generated from code (the HyperPod instance type table).
docs: $(STAMP)
	$(PY) -c "from modules.config.hyperpod_instance_types import render_markdown as r; print(r(), end='')" \
		> docs/hyperpod-instance-types.md

clean:
	rm -rf cdktf.out .cdktf.out.* .pytest_cache
