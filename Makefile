# The single entry point. `make demo` and `make test` set up everything they need on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BENCH_VENV := .venv-bench
# A general-purpose drift library for bench-monitor's comparison, never in .venv: its pins clash with ours.
BENCH_MONITOR_VENV := .venv-bench-monitor
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := layers/rollouts:layers/monitor:.:cli
export PYTHONDONTWRITEBYTECODE := 1

# sam build checks that an interpreter of the deployed runtime is on PATH; pyenv exposes the ones it holds.
RUNTIME := python3.13
PYENV_ALL := $(shell pyenv versions --bare 2>/dev/null | grep -E '^3\.[0-9]+\.[0-9]+$$' | tr '\n' ':' | sed 's/:$$//')
HAVE_RUNTIME := $(shell PYENV_VERSION=$(PYENV_ALL) $(RUNTIME) --version >/dev/null 2>&1 && echo yes)

.PHONY: help demo serve openapi test lint typecheck template asl build unit pytest bench bench-judge bench-bandit bench-monitor bench-suite faults clean

help:
	@echo "make demo [SCENARIO=name|help]  rollouts on the local cloud (no AWS account, no Docker)"
	@echo "make serve [PORT=8080]          the local cloud's API over HTTP, for the rollouts CLI; Ctrl-C stops it"
	@echo "make test                       every check: lint, types, template, sam build, all tests"
	@echo "make asl                        statemachines/*.asl.json built again from statemachines/src"
	@echo "make openapi                    docs/openapi.json built again from the API's models"
	@echo "make bench                      benchmarks; results in docs/benchmarks.md"
	@echo "make bench-judge                the statistical judge's simulation; results in docs/benchmarks-judge.md"
	@echo "make bench-bandit               the bandit's regret simulation; results in docs/benchmarks.md"
	@echo "make bench-monitor              the monitor on 1M rows x 20 features, beside evidently; results in docs/benchmarks.md"
	@echo "make bench-suite                the test suite, quiet and beside a CPU-bound process; results in docs/benchmarks.md"
	@echo "make faults                     the fault matrix: every AWS call of each strategy, feedback, signals x 3 faults; docs/reliability.md"

$(VENV)/.installed: requirements/dev.txt requirements/dev.lock layers/rollouts/requirements.txt layers/monitor/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c requirements/dev.lock
	touch $@

$(SAM_VENV)/.installed: requirements/sam.txt requirements/sam.lock
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/sam.txt -c requirements/sam.lock
	touch $@

demo: $(VENV)/.installed
	$(PY) -W ignore -m sandbox.demo $(if $(SCENARIO),--scenario $(SCENARIO))

PORT ?= 8080
serve: $(VENV)/.installed
	POWERTOOLS_LOG_LEVEL=WARNING $(PY) -W ignore -m sandbox.serve --port $(PORT)

test: lint typecheck template build pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy layers/rollouts/rollouts layers/monitor/rollouts_monitor functions sandbox statemachines tests cli/rollouts_cli $(wildcard bench)

template: $(VENV)/.installed $(SAM_VENV)/.installed
	$(PY) -m statemachines.build --check
	$(PY) -m sandbox.openapi --check
	$(SAM) validate --lint
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(PY) -m statemachines.lint statemachines/*.asl.json

# docs/openapi.json, built again from the models that validate the API's requests.
openapi: $(VENV)/.installed
	$(PY) -m sandbox.openapi

# The deployed state machines are built from statemachines/src (see its README); the build needs only the standard
# library, so it runs without the venv.
asl:
	$(PYTHON) -m statemachines.build

# Lambda's file system is read-only, so Python compiles every module that ships without bytecode again at each
# cold start; sam build copies no bytecode. The build is compiled by the interpreter it targets, hash-based and
# unchecked, so that the zip's timestamps do not matter.
build: $(SAM_VENV)/.installed
ifeq ($(HAVE_RUNTIME),yes)
	PYENV_VERSION=$(PYENV_ALL) $(SAM) build
	PYENV_VERSION=$(PYENV_ALL) $(RUNTIME) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build
else
	@echo "$(RUNTIME) is not on this machine: building for the local Python instead (deploy needs $(RUNTIME))"
	$(SAM) build --parameter-overrides PythonRuntime=python$$($(PYTHON) -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
	$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build
endif
	@echo "bytecode: $$(find .aws-sam/build -name '*.pyc' | wc -l) modules compiled into .aws-sam/build"

pytest: $(VENV)/.installed
	$(PY) -m pytest -n auto

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit

# The handlers' imports are timed on the deployed runtime's Python when the machine has it.
$(BENCH_VENV)/.installed: requirements/bench-runtime.txt layers/rollouts/requirements.txt requirements/dev.lock
ifeq ($(HAVE_RUNTIME),yes)
	PYENV_VERSION=$(PYENV_ALL) $(RUNTIME) -m venv $(BENCH_VENV)
else
	@echo "$(RUNTIME) is not on this machine: import times are measured on the local Python instead"
	$(PYTHON) -m venv $(BENCH_VENV)
endif
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/bench-runtime.txt -c requirements/dev.lock
	touch $@

bench: $(VENV)/.installed $(BENCH_VENV)/.installed
	BENCH_PYTHON=$(BENCH_VENV)/bin/python $(PY) -W ignore -m bench.run

bench-judge: $(VENV)/.installed
	$(PY) -W ignore -m bench.judge
	$(PY) -W ignore -m bench.ab_judge
	$(PY) -W ignore -m bench.run --render-only

bench-bandit: $(VENV)/.installed
	$(PY) -W ignore -m bench.bandit
	$(PY) -W ignore -m bench.run --render-only

faults: $(VENV)/.installed
	$(PY) -W ignore -m bench.faults

# The comparison library is installed if it installs cleanly; without it the benchmark says so and goes on.
bench-monitor: $(VENV)/.installed
	@$(BENCH_MONITOR_VENV)/bin/python -c "import evidently" 2>/dev/null || \
	  ($(PYTHON) -m venv $(BENCH_MONITOR_VENV) && \
	   $(BENCH_MONITOR_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/bench-monitor.txt) || \
	  (echo "the comparison library did not install: the benchmark runs without it"; rm -rf $(BENCH_MONITOR_VENV))
	$(PY) -W ignore -m bench.monitor
	$(PY) -W ignore -m bench.run --render-only

bench-suite: $(VENV)/.installed
	$(PY) -W ignore -m bench.suite
	$(PY) -W ignore -m bench.run --render-only

clean:
	rm -rf .aws-sam $(VENV) $(SAM_VENV) $(BENCH_VENV) $(BENCH_MONITOR_VENV) .mypy_cache .ruff_cache .hypothesis
