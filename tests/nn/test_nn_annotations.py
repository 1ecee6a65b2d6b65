"""The jaxtyping shape annotations of the layers and forecasters hold at run time (beartype)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import torch
    from jaxtyping import TypeCheckError, install_import_hook

    with install_import_hook(["sciml.nn", "sciml.models.stgnn"], "beartype.beartype"):
        import sciml.nn as snn
        from sciml.registry import MODELS
        import sciml.models.stgnn  # noqa: F401

    ei = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    ew = torch.rand(5)
    x = torch.randn(2, 6, 5, 3)
    assert snn.DiffusionConv(3, 4)(x, ei, ew).shape == (2, 6, 5, 4)
    assert snn.propagate(x, ei, torch.rand(5, 3)).shape == x.shape
    assert snn.DCGRUCell(3, 4)(x[:, 0], None, ei, ew).shape == (2, 5, 4)
    assert snn.TemporalConv(3, 2)(x).shape == (2, 6, 5, 2)
    for name in ["time_then_space", "dcrnn", "graph_wavenet", "agcrn", "stcn", "node_gru"]:
        cfg = {"hidden_size": 4} if name in ("dcrnn", "agcrn", "node_gru") else None
        m = MODELS.build(name, cfg, n_nodes=5, input_size=3, output_size=1, window=6, horizon=4)
        assert m(x, ei, ew).shape == (2, 4, 5, 1)
    try:
        snn.DiffusionConv(3, 4)(x, ei, torch.rand(5, 2))  # weight of rank 2: annotation says (e,)
    except TypeCheckError:
        print("OK")
    """
)


def test_annotations_hold_under_beartype():
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True,
                         text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith("OK"), res.stdout
