# The two set-up commands of the README: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
# This machine only; HOST=0.0.0.0 to listen on every interface (docs/security.md).
HOST ?= 127.0.0.1
PORT ?= 8000
# Where the MNIST IDX files are; empty means data/mnist/, then the public download.
MNIST_DIR ?=
export MNIST_DIR

BIN := $(VENV)/bin

.PHONY: install browser prometheus perf-analyzer serve train test lint docs lint-deploy docker-smoke bench ray-install ray-smoke

# Reinstall only when pyproject.toml changes. First what serving and the scikit-learn models
# need (what make serve waits for), then TensorFlow, the tests' and the docs' tools.
$(VENV)/.installed-first: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train-sklearn]'
	touch $@

$(VENV)/.installed: $(VENV)/.installed-first
	$(BIN)/python -m pip install --quiet -e '.[train,test,docs]'
	touch $@

install: $(VENV)/.installed

# The documentation site, served while you edit it (http://localhost:8001).
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve -a localhost:8001

# Exit 3: versions published but kept from production by the gate (the table says why); the
# server still starts, serving the production versions (or, without labels, the newest).
# Then the comparisons (models/_comparisons/), measured again only when a serving version changed.
train: install
	$(BIN)/python -m training --missing || [ $$? -eq 3 ]
	$(BIN)/python -m training compare --dataset iris --dataset mnist --if-stale

# The Iris models that are missing (seconds), then the server, then (TensorFlow installed when it
# is missing) the missing MNIST models and the comparisons while it serves; Ctrl-C stops them all
# (modelserve_cli/serve.py).
serve: $(VENV)/.installed-first
	SERVING_HOST=$(HOST) SERVING_PORT=$(PORT) $(BIN)/modelserve serve --train-missing

# Chromium and ChromeDriver for the web page's tests (tests/web/), from apt when missing.
browser:
	scripts/install-browser.sh

# Prometheus and promtool for the monitoring tests (tests/test_prometheus.py), from apt when
# missing.
prometheus:
	scripts/install-prometheus.sh

# Triton's perf_analyzer for its test against a real server (build/perf-analyzer/); the test is
# skipped, saying why, where it cannot be installed.
perf-analyzer: install
	PYTHON=$(BIN)/python scripts/install-perf-analyzer.sh

test: install browser prometheus perf-analyzer
	$(BIN)/python -m pytest

# Style and types (../shared/STYLE.md): ruff, then mypy --strict.
lint: install
	$(BIN)/ruff check app training modelserve_cli tests bench scripts
	$(BIN)/ruff format --check app training modelserve_cli tests bench scripts
	$(BIN)/mypy app training modelserve_cli
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The Dockerfiles (hadolint), the Kubernetes manifests (their schemas, offline) and the KServe
# ones (KServe's CRD schemas, vendored in deploy/kserve/schemas/).
lint-deploy: install
	$(BIN)/hadolint Dockerfile Dockerfile.models
	$(BIN)/kubernetes-validate --strict --quiet deploy/k8s/*.yaml
	$(BIN)/python scripts/validate_kserve.py deploy/kserve/*.yaml

$(VENV)/.ray-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[ray]'
	touch $@

ray-install: $(VENV)/.ray-installed

# Ray Serve on a real two-node cluster on this machine (README, Scaling out), about 90 s; the
# cluster is stopped (ray stop) whatever happens.
ray-smoke: $(VENV)/.ray-installed
	$(BIN)/python scripts/ray_smoke.py

# Build the image and run it with a tiny registry mounted, baked and empty (needs Docker).
docker-smoke: install
	scripts/docker-smoke.sh

$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

# The benchmark (README, Benchmark): trains the missing models, installs wrk when missing.
bench: $(VENV)/.bench-installed
	$(BIN)/python -m training --missing || [ $$? -eq 3 ]
	$(BIN)/python -m bench
