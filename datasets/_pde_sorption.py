"""Generated 1-D diffusion–sorption data (PDEBench's problem), cached as HDF5.

Solved by :func:`sciml.solvers.solve_diffusion_sorption` (finite volumes, RK45 or BDF) on a fine
cell grid and averaged to the requested cells (cell averages, not point samples: the solver's
unknowns are cell values).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sciml.datasets._pde_data import PDEData
from sciml.datasets._pde_generated import (
    _check_int,
    _check_positive,
    _check_resolutions,
    _generated,
    _seeds,
)

__all__ = ["DiffusionSorption1D"]

_METHODS = ("RK45", "BDF")


def _sorption_chunk(params: dict[str, Any], start: int, stop: int) -> dict[str, np.ndarray]:
    from sciml.solvers.diffusion_sorption import ds_initial_condition, solve_diffusion_sorption

    fine = params["solve_resolution"]
    u0 = np.concatenate([
        ds_initial_condition(1, fine, params["low"], params["high"], seed=sd)
        for sd in _seeds(params, start, stop)
    ])
    u = solve_diffusion_sorption(u0, t_final=params["t_final"], n_times=params["n_times"],
                                 method=params["method"])
    s = params["resolution"]
    k = fine // s
    x = u0.reshape(len(u0), s, k).mean(-1)
    y = u.reshape(len(u0), params["n_times"], s, k).mean(-1)
    return {"x": x[:, None].astype(np.float32), "y": y[:, :, None].astype(np.float32)}


class DiffusionSorption1D(PDEData):
    """Diffusion–sorption u_t = D/R(u) u_xx on [0, 1] × [0, 500] (PDEBench constants).

    Takamoto et al., PDEBench (NeurIPS 2022 datasets track); used by Chalapathi, Du,
    Krishnapriyan (ICLR 2024) for PI-HC-MoE. u(0, t) = 1, outflow u = −D u_x at x = 1 (see
    :mod:`sciml.solvers.diffusion_sorption`); initial states constant per sample, U(low, high).

    Args:
        n_train, n_test: Sample counts (independent streams).
        resolution, test_resolution: Cells of the returned grids (test default: same).
        t_final: Final time; n_times: output times linspace(0, t_final, n_times), t = 0 included.
        low, high: Range of the initial levels (PDEBench: 0, 0.2).
        solve_resolution: Cells solved on (default: 4× the finest requested; must be a multiple
            of both resolutions).
        method: ``"RK45"`` (PDEBench) or ``"BDF"`` (faster on fine grids).
        seed, root, workers, chunk_size, progress: As in :class:`~sciml.datasets.Darcy2D`.

    The result is a :class:`PDEData` with ``x = u_0 (n, 1, s)`` and ``y (n, n_times, 1, s)``
    float32 cell averages, boundary ``"dirichlet"``.
    """

    def __init__(
        self,
        n_train: int = 100,
        n_test: int = 20,
        resolution: int = 128,
        test_resolution: int | None = None,
        t_final: float = 500.0,
        n_times: int = 101,
        low: float = 0.0,
        high: float = 0.2,
        solve_resolution: int | None = None,
        method: str = "BDF",
        seed: int = 0,
        root: str | None = None,
        workers: int = 1,
        chunk_size: int = 32,
        progress: bool = True,
    ) -> None:
        _check_positive("t_final", t_final)
        if method not in _METHODS:
            raise ValueError(f"method must be one of {list(_METHODS)}, got {method!r}")
        if not (0.0 <= low <= high and math.isfinite(high)):
            raise ValueError(f"need 0 <= low <= high, got low={low!r}, high={high!r}")
        n_times = _check_int("n_times", n_times, 2)
        resolution, test_resolution = _check_resolutions(resolution, test_resolution, 4)
        fine = 4 * max(resolution, test_resolution) if solve_resolution is None else \
            _check_int("solve_resolution", solve_resolution, 4)
        if fine % resolution or fine % test_resolution:
            raise ValueError(f"solve_resolution={fine} must be a multiple of resolution "
                             f"{resolution} and test_resolution {test_resolution}")
        common = {"pde": "diffusion_sorption1d", "t_final": float(t_final), "n_times": n_times,
                  "low": float(low), "high": float(high), "solve_resolution": fine,
                  "method": method, "seed": int(seed)}
        super().__init__(*_generated(
            "diffusion_sorption1d", _sorption_chunk, common, n_train, n_test, resolution,
            test_resolution, root, workers, chunk_size, progress, "dirichlet"))
