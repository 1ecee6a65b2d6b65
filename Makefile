# The two commands of the README. Each builds .venv on first use: torch is pinned to the CPU build
# that lies on this disk *before* the package is installed, so pyproject's `torch>=2.4` is already met
# and pip does not pull a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sciml-installed

.PHONY: demo test test-slow lint clean gpu-check

# The GPU checks (benchmarks/gpu_check.py) use the machine's own Python, which already has a CUDA
# torch: they never build .venv (that would pin the CPU torch). OUT: the output folder (the device
# tool sets $OUT); GPU_CHECK_FLAGS=--dry-run checks the script on a CPU.
GPU_PYTHON ?= python3
GPU_CHECK_FLAGS ?=

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,molecular]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sciml demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check sciml solvers datasets tests benchmarks

gpu-check:
	$(GPU_PYTHON) benchmarks/gpu_check.py $(if $(OUT),--out $(OUT)) $(GPU_CHECK_FLAGS)

clean:
	rm -rf $(VENV) build *.egg-info
