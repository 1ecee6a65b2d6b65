#!/usr/bin/env bash
# Builds .venv-deepxde: DeepXDE 1.x (PyTorch backend) for benchmarks/pinn_vs_deepxde.py.
# The venv reuses the main .venv's packages (torch, numpy, scipy, matplotlib, sciml) through a
# .pth file, so no second torch is downloaded; deepxde is installed with --no-deps and its one
# import-time requirements (scikit-optimize, scikit-learn) by hand. DDE_BACKEND=pytorch selects the backend.
set -euo pipefail
cd "$(dirname "$0")/.."
MAIN=.venv
VENV=.venv-deepxde
test -x $MAIN/bin/python || { echo "run this after creating $MAIN (pip install -e .)" >&2; exit 1; }
test -x $VENV/bin/python || python3 -m venv $VENV
MAIN_SITE=$($MAIN/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
VENV_SITE=$($VENV/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$MAIN_SITE" > "$VENV_SITE/_sciml_main_venv.pth"
$VENV/bin/pip install --quiet --no-deps "deepxde>=1.10,<2"
# deepxde imports scikit-optimize (samplers) and scikit-learn at import time; numpy/scipy come
# from the main venv through the .pth file, so pip keeps them.
$VENV/bin/python -c "import skopt, sklearn" 2>/dev/null || $VENV/bin/pip install --quiet scikit-optimize scikit-learn
DDE_BACKEND=pytorch $VENV/bin/python -c "import deepxde, torch; print('deepxde', deepxde.__version__, 'backend', deepxde.backend.backend_name, 'torch', torch.__version__)"
