#!/usr/bin/env bash
# Builds .venv-tsl: sciml plus torch-spatiotemporal (tsl) for benchmarks/forecast_vs_tsl.py.
# tsl imports torch_scatter and torch_sparse at load time; they are installed here from the prebuilt
# wheels in ../shared/wheels (compiled against torch 2.13.0+cpu, CPython 3.11), never into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=${SCIML_WHEELS:-../shared/wheels}
VENV=.venv-tsl
test -x $VENV/bin/python || python3 -m venv $VENV
$VENV/bin/pip install --quiet torch==2.13.0
$VENV/bin/pip install --quiet -e .
$VENV/bin/pip install --quiet --no-deps torch-spatiotemporal==0.9.5 \
    "$WHEELS"/torch_scatter-*.whl "$WHEELS"/torch_sparse-*.whl
# tsl's own requirements, less torch (already pinned above).
$VENV/bin/pip install --quiet einops "pytorch-lightning>=1.8" "torchmetrics>=0.7" scikit-learn tables
$VENV/bin/python -c "import tsl, torch_scatter, torch_sparse; print('tsl', tsl.__version__)"
