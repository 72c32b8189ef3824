# Every target sets up what it needs: a fresh clone runs `make synth` or `make test` directly.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

.PHONY: setup synth test snapshot-update docs clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Synthesize the configuration (defaults, or the YAML file $HYPERPOD_EKS_CONFIG names).
synth: $(STAMP)
	$(PY) main.py

## Run every test.
test: $(STAMP)
	$(PY) -m pytest

## Regenerate the stack snapshot after an intended change; review the diff before committing.
snapshot-update: $(STAMP)
	$(PY) -m pytest tests/test_snapshot.py --snapshot-update

## Regenerate the documents generated from code (the HyperPod instance type table).
docs: $(STAMP)
	$(PY) -c "from modules.config.hyperpod_instance_types import render_markdown as r; print(r(), end='')" \
		> docs/hyperpod-instance-types.md

clean:
	rm -rf cdktf.out .cdktf.out.* .pytest_cache
