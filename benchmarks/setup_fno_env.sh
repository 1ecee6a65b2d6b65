#!/usr/bin/env bash
# Builds .venv-fno: sciml plus neuraloperator (FNO) for benchmarks/mgno_vs_fno.py.
# neuraloperator is installed with --no-deps so that it cannot replace the pinned torch; its light
# requirements are listed here by hand (wandb is left out: neuralop imports without it).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-fno
test -x $VENV/bin/python || python3 -m venv $VENV
$VENV/bin/pip install --quiet torch==2.13.0
$VENV/bin/pip install --quiet -e .
$VENV/bin/pip install --quiet --no-deps "neuraloperator==2.0.0"
# neuraloperator's own requirements, less torch (pinned above) and wandb (optional at import).
$VENV/bin/pip install --quiet tensorly tensorly-torch opt-einsum ruamel.yaml configmypy zencfg
$VENV/bin/python -c "import neuralop, torch; from neuralop.models import FNO; print('neuralop', neuralop.__version__, 'torch', torch.__version__)"
