#!/usr/bin/env bash
# Builds .venv-mace: sciml plus mace-torch (MACE) for benchmarks/ponita_vs_mace.py.
# mace-torch pins its own e3nn (0.4.4) while sciml uses e3nn 0.6, so MACE gets this virtual
# environment of its own; torch is pinned to the same 2.13.0 CPU wheel as .venv so that both sides
# of the benchmark run the same kernels. The benchmark script drives this venv by subprocess.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-mace
test -x $VENV/bin/python || python3 -m venv $VENV
$VENV/bin/pip install --quiet torch==2.13.0
$VENV/bin/pip install --quiet "mace-torch==0.3.16"
$VENV/bin/python -c "import mace, e3nn, torch; from mace.modules import ScaleShiftMACE; print('mace', mace.__version__, 'e3nn', e3nn.__version__, 'torch', torch.__version__)"
