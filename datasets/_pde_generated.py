"""Generated PDE data sets: Darcy flow, 2-D Navier–Stokes (vorticity), 1-D viscous Burgers and
the variable-wave-speed Helmholtz problem of MgNO's benchmark.

Each sample is solved once at a fine resolution and subsampled (FNO's way) to the training
resolution and, for the test split, to ``test_resolution``, so a model can be evaluated zero-shot
on finer grids of the same fields. Generation is cached (see ``_pde_cache``): parallel over
chunks, resumable, sharded by torchrun rank; train and test are separate sample streams (test
samples do not change when ``n_train`` does).

Grid conventions. Darcy: an s × s vertex grid on [0, 1]² including the boundary nodes
(h = 1/(s−1)); a fine grid s_f = k(s−1)+1 gives the coarse one by taking every k-th node.
Periodic problems: s points on [0, 1) (endpoint excluded); subsampling by stride k = s_f / s.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import torch
from sciml.datasets._pde_cache import generate_cached, sample_seed
from sciml.datasets._pde_data import PDEData

__all__ = ["Darcy2D", "NavierStokes2D", "Burgers1D", "Helmholtz2D", "fine_resolution"]

_TRAIN, _TEST = 0, 1
_MAX_REFINEMENT = 16  # refuse fine grids more than this many times the finest requested grid


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_positive(name: str, value: Any) -> float:
    """``value`` as a float, if it is a finite number > 0 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return float(value)


def _check_resolutions(resolution: Any, test_resolution: Any, low: int) -> tuple[int, int]:
    """``(resolution, test_resolution)`` checked as integers >= ``low``; test default: same."""
    resolution = _check_int("resolution", resolution, low)
    if test_resolution is None:
        return resolution, resolution
    return resolution, _check_int("test_resolution", test_resolution, low)


def fine_resolution(
    resolutions: list[int], periodic: bool, solve_resolution: int | None = None
) -> int:
    """The grid to solve on so that every requested resolution is a subsampling of it.

    Vertex grids (``periodic=False``): ``s_f − 1`` must be a multiple of each ``s − 1``; the
    default is ``lcm(s − 1) + 1``. Periodic grids: ``s_f`` a multiple of each ``s``; default
    ``lcm(s)``.

    Raises:
        ValueError: ``solve_resolution`` is incompatible, or the least common grid is more than
            16 times finer than the finest request (e.g. 64 and 128 on vertex grids: use 127).
    """
    if periodic:
        base = math.lcm(*resolutions)
        ok = lambda f: all(f % s == 0 for s in resolutions)  # noqa: E731
        hint = "multiples of each other (e.g. 64 and 128)"
    else:
        base = math.lcm(*(s - 1 for s in resolutions)) + 1
        ok = lambda f: all((f - 1) % (s - 1) == 0 for s in resolutions)  # noqa: E731
        hint = "of the form k(s−1)+1 (e.g. 64 and 127 = 2·63+1, or 85 and 421)"
    if solve_resolution is not None:
        f = _check_int("solve_resolution", solve_resolution, max(resolutions))
        if not ok(f):
            kind = "s_f" if periodic else "s_f − 1"
            raise ValueError(
                f"solve_resolution={f} cannot be subsampled to {resolutions}: {kind} must be a "
                f"multiple of each {'s' if periodic else 's − 1'}; e.g. {base}"
            )
        return f
    if base > _MAX_REFINEMENT * max(resolutions):
        raise ValueError(
            f"resolutions {resolutions} share no fine grid smaller than {base}; choose "
            f"resolutions {hint}"
        )
    return base


def _stride(fine: int, s: int, periodic: bool) -> int:
    return fine // s if periodic else (fine - 1) // (s - 1)


def _seeds(params: dict[str, Any], start: int, stop: int) -> list[int]:
    return [sample_seed(params["seed"], params["stream"], i) for i in range(start, stop)]


def _darcy_chunk(params: dict[str, Any], start: int, stop: int) -> dict[str, np.ndarray]:
    from sciml.solvers.darcy import darcy_coefficients, solve_darcy

    fine = params["solve_resolution"]
    a = np.concatenate([
        darcy_coefficients(1, fine, kind=params["coefficient"], alpha=params["alpha"],
                           tau=params["tau"], seed=sd)
        for sd in _seeds(params, start, stop)
    ])
    u = solve_darcy(a, f=params["f"], method=params["method"], tol=params["tol"])
    k = _stride(fine, params["resolution"], periodic=False)
    return {"x": a[:, None, ::k, ::k].astype(np.float32),
            "y": u[:, None, ::k, ::k].astype(np.float32)}


def _ns_chunk(params: dict[str, Any], start: int, stop: int) -> dict[str, np.ndarray]:
    from sciml.solvers.navier_stokes import ns2d_initial_vorticity, solve_navier_stokes_2d

    fine = params["solve_resolution"]
    w0 = np.concatenate([
        ns2d_initial_vorticity(1, fine, alpha=params["alpha"], tau=params["tau"], seed=sd)
        for sd in _seeds(params, start, stop)
    ])
    w = solve_navier_stokes_2d(w0, visc=params["visc"], t_final=params["t_final"],
                               n_records=params["n_records"], dt=params["dt"], forcing="fno")
    k = _stride(fine, params["resolution"], periodic=True)
    return {"x": w0[:, None, ::k, ::k].astype(np.float32),
            "y": np.asarray(w)[:, :, None, ::k, ::k].astype(np.float32)}


def _burgers_chunk(params: dict[str, Any], start: int, stop: int) -> dict[str, np.ndarray]:
    from sciml.solvers.burgers import burgers_initial, solve_burgers

    fine = params["solve_resolution"]
    u0 = np.concatenate([
        burgers_initial(1, fine, alpha=params["alpha"], tau=params["tau"],
                        sigma=params["sigma"], seed=sd)
        for sd in _seeds(params, start, stop)
    ])
    u = solve_burgers(u0, visc=params["visc"], t_final=params["t_final"],
                      n_records=params["n_records"])
    k = _stride(fine, params["resolution"], periodic=True)
    return {"x": u0[:, None, ::k].astype(np.float32),
            "y": np.asarray(u)[:, :, None, ::k].astype(np.float32)}


def _helmholtz_chunk(params: dict[str, Any], start: int, stop: int) -> dict[str, np.ndarray]:
    from sciml.solvers.helmholtz import helmholtz_wave_speed, solve_helmholtz

    fine = params["solve_resolution"]
    c = np.concatenate([
        helmholtz_wave_speed(1, fine, alpha=params["alpha"], tau=params["tau"], seed=sd)
        for sd in _seeds(params, start, stop)
    ])
    u = solve_helmholtz(c, omega=params["omega"])
    k = _stride(fine, params["resolution"], periodic=False)
    return {"x": c[:, None, ::k, ::k].astype(np.float32),
            "y": u[:, None, ::k, ::k].astype(np.float32)}


def _generate_splits(
    name: str,
    chunk_fn: Any,
    common: dict[str, Any],
    n_train: int,
    n_test: int,
    resolution: int,
    test_resolution: int,
    root: str | os.PathLike | None,
    workers: int,
    chunk_size: int,
    progress: bool,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Generate (or read) the train and test splits; returns their arrays."""
    n_train = _check_int("n_train", n_train, 1)
    n_test = _check_int("n_test", n_test, 1)
    out = []
    for split, n, stream, res in (("train", n_train, _TRAIN, resolution),
                                  ("test", n_test, _TEST, test_resolution)):
        params = {**common, "stream": stream, "resolution": res}
        out.append(generate_cached(f"{name}-{split}", params, n, chunk_fn, chunk_size=chunk_size,
                                   root=root, workers=workers, progress=progress))
    return out[0], out[1]


def _generated(name: str, chunk_fn: Any, common: dict[str, Any], n_train: int, n_test: int,
               resolution: int, test_resolution: int, root: str | None, workers: int,
               chunk_size: int, progress: bool, boundary: str) -> tuple[Any, ...]:
    """Generate (or read from the cache) both splits: the arguments of ``PDEData.__init__``."""
    train, test = _generate_splits(name, chunk_fn, common, n_train, n_test, resolution,
                                   test_resolution, root, workers, chunk_size, progress)
    params = {**common, "n_train": n_train, "n_test": n_test, "resolution": resolution,
              "test_resolution": test_resolution}
    return (*_as_tensors(train), *_as_tensors(test), boundary, name, params)


def _as_tensors(arrays: dict[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"])


class Darcy2D(PDEData):
    """Darcy flow −∇·(a∇u) = f on [0, 1]², u = 0 on the boundary, as in FNO's data.

    Li et al., "Fourier Neural Operator for Parametric PDEs", ICLR 2021. The coefficient a is a
    Gaussian random field (covariance τ^(2α−2)(−Δ+τ²)^(−α), Neumann cosine basis) thresholded to
    12 / 4 (``"piecewise"``) or exponentiated (``"lognormal"``); u solves the 5-point scheme with
    harmonic-mean face coefficients (:func:`sciml.solvers.solve_darcy`).

    Args:
        n_train, n_test: Sample counts (the test samples are an independent stream).
        resolution: Training grid points per side (vertex grid incl. boundary, ≥ 3).
        test_resolution: Test grid (default ``resolution``); e.g. ``2(s−1)+1`` for 2× finer.
        coefficient: ``"piecewise"`` or ``"lognormal"``.
        alpha, tau: GRF parameters (FNO: 2, 3).
        f: Constant source (FNO: 1).
        solve_resolution: The grid actually solved on (default: the coarsest that subsamples to
            both resolutions, see :func:`fine_resolution`).
        method: ``"direct"`` (sparse LU) or ``"amg"`` (pyamg); tol: AMG tolerance. Direct is
            the default: measured here it is faster than the AMG path at every size tried
            (0.04 s vs 0.08 s per sample at 64², 0.7 s vs 10 s at 256²).
        seed: Seed of both sample streams.
        root: Cache folder (default ``cache_dir()/"pde"``).
        workers: Processes generating in parallel (result independent of it).
        chunk_size: Samples per cached chunk file.
        progress: Show a progress bar.

    The result is a :class:`PDEData` with ``x = a`` and ``y = u``, each ``(n, 1, s, s)`` float32,
    boundary ``"dirichlet"``.
    """

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 100,
        resolution: int = 64,
        test_resolution: int | None = None,
        coefficient: str = "piecewise",
        alpha: float = 2.0,
        tau: float = 3.0,
        f: float = 1.0,
        solve_resolution: int | None = None,
        method: str = "direct",
        tol: float = 1e-10,
        seed: int = 0,
        root: str | None = None,
        workers: int = 1,
        chunk_size: int = 16,
        progress: bool = True,
    ) -> None:
        if coefficient not in ("piecewise", "lognormal"):
            raise ValueError(
                f"coefficient must be 'piecewise' or 'lognormal', got {coefficient!r}"
            )
        if method not in ("amg", "direct"):
            raise ValueError(f"method must be 'amg' or 'direct', got {method!r}")
        resolution, test_resolution = _check_resolutions(resolution, test_resolution, 3)
        fine = fine_resolution([resolution, test_resolution], False, solve_resolution)
        common = {"pde": "darcy2d", "coefficient": coefficient, "alpha": float(alpha),
                  "tau": float(tau), "f": float(f), "solve_resolution": fine, "method": method,
                  "tol": float(tol), "seed": int(seed)}
        super().__init__(*_generated(
            "darcy2d", _darcy_chunk, common, n_train, n_test, resolution, test_resolution,
            root, workers, chunk_size, progress, "dirichlet"))


class NavierStokes2D(PDEData):
    """2-D incompressible Navier–Stokes in vorticity form on the unit torus, as in FNO's data.

    ∂_t w + u·∇w = ν Δw + f, ∇·u = 0, w = ∇×u, with f = 0.1(sin 2π(x+y) + cos 2π(x+y)) and
    w_0 ~ GRF(α = 2.5, τ = 7) (Li et al., ICLR 2021); pseudo-spectral with Crank–Nicolson and
    2/3 dealiasing (:func:`sciml.solvers.solve_navier_stokes_2d`).

    Args:
        n_train, n_test: Sample counts.
        resolution, test_resolution: Periodic grid points per side (test default: same).
        visc: Viscosity ν (FNO: 1e-3, 1e-4, 1e-5).
        t_final: Final time; n_records: frames at ``t_final·k/n_records``, k = 1..n_records.
        dt: Time step of the solver (FNO: 1e-4 at 256²; 1e-3 is stable at 64² for ν = 1e-3).
        alpha, tau: Initial-vorticity GRF parameters.
        solve_resolution: Grid solved on (default: the coarsest multiple of both resolutions).
        seed, root, workers, chunk_size, progress: As in :class:`Darcy2D`.

    The result is a :class:`PDEData` with ``x = w_0 (n, 1, s, s)`` and the trajectory
    ``y (n, n_records, 1, s, s)`` float32, boundary ``"periodic"``.
    """

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 200,
        resolution: int = 64,
        test_resolution: int | None = None,
        visc: float = 1e-3,
        t_final: float = 10.0,
        n_records: int = 10,
        dt: float = 1e-3,
        alpha: float = 2.5,
        tau: float = 7.0,
        solve_resolution: int | None = None,
        seed: int = 0,
        root: str | None = None,
        workers: int = 1,
        chunk_size: int = 8,
        progress: bool = True,
    ) -> None:
        for label, value in (("visc", visc), ("t_final", t_final), ("dt", dt)):
            _check_positive(label, value)
        n_records = _check_int("n_records", n_records, 1)
        resolution, test_resolution = _check_resolutions(resolution, test_resolution, 4)
        fine = fine_resolution([resolution, test_resolution], True, solve_resolution)
        common = {"pde": "navier_stokes2d", "visc": float(visc), "t_final": float(t_final),
                  "n_records": n_records, "dt": float(dt), "alpha": float(alpha),
                  "tau": float(tau), "forcing": "fno", "solve_resolution": fine, "seed": int(seed)}
        super().__init__(*_generated(
            "navier_stokes2d", _ns_chunk, common, n_train, n_test, resolution, test_resolution,
            root, workers, chunk_size, progress, "periodic"))


class Burgers1D(PDEData):
    """1-D viscous Burgers ∂_t u + ∂_x(u²/2) = ν ∂_xx u on the periodic [0, 1), FNO's setup.

    Li et al., ICLR 2021: u_0 ~ N(0, 625(−Δ + 25 I)^(−2)) (α = 2, τ = 5, σ = 25, the paper's
    statement, used here; FNO's MATLAB generator uses α = 2.5, τ = 7, σ = 49), ν = 0.1, t = 1;
    spectral in space with an ETDRK4 integrator (:func:`sciml.solvers.solve_burgers`).

    Args:
        n_train, n_test: Sample counts.
        resolution, test_resolution: Periodic grid points (test default: same).
        visc: Viscosity ν.
        t_final: Final time; n_records: frames at ``t_final·k/n_records``, k = 1..n_records.
        alpha, tau, sigma: Initial-condition GRF parameters (covariance σ²(−Δ+τ²)^(−α)).
        solve_resolution: Grid solved on (default: the coarsest multiple of both resolutions).
        seed, root, workers, chunk_size, progress: As in :class:`Darcy2D`.

    The result is a :class:`PDEData` with ``x = u_0 (n, 1, s)`` and the trajectory
    ``y (n, n_records, 1, s)`` float32, boundary ``"periodic"``.
    """

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 200,
        resolution: int = 1024,
        test_resolution: int | None = None,
        visc: float = 0.1,
        t_final: float = 1.0,
        n_records: int = 1,
        alpha: float = 2.0,
        tau: float = 5.0,
        sigma: float = 25.0,
        solve_resolution: int | None = None,
        seed: int = 0,
        root: str | None = None,
        workers: int = 1,
        chunk_size: int = 32,
        progress: bool = True,
    ) -> None:
        for label, value in (("visc", visc), ("t_final", t_final)):
            _check_positive(label, value)
        n_records = _check_int("n_records", n_records, 1)
        resolution, test_resolution = _check_resolutions(resolution, test_resolution, 4)
        fine = fine_resolution([resolution, test_resolution], True, solve_resolution)
        common = {"pde": "burgers1d", "visc": float(visc), "t_final": float(t_final),
                  "n_records": n_records, "alpha": float(alpha), "tau": float(tau),
                  "sigma": float(sigma), "solve_resolution": fine, "seed": int(seed)}
        super().__init__(*_generated(
            "burgers1d", _burgers_chunk, common, n_train, n_test, resolution, test_resolution,
            root, workers, chunk_size, progress, "periodic"))


class Helmholtz2D(PDEData):
    """Helmholtz −Δu − (ω/c)² u = 0 on [0, 1]² with a random wave speed c: MgNO's benchmark.

    The problem of de Hoop, Huang, Qian & Stuart (2022) that MgNO (He, Liu, Xu, ICLR 2024) reuses:
    c = 20 + tanh(ξ), ξ a Neumann GRF with covariance (−Δ + τ²)^(−α); ω = 10³; ∂u/∂n = 0 except
    ∂u/∂y = 1 on 0.35 ≤ x ≤ 0.65 of the top side. Solved by our second-order finite differences
    (:func:`sciml.solvers.solve_helmholtz`; the original data came from finite elements on a
    101 × 101 grid). The operator learned is c ↦ u. At ω = 10³ and c ≈ 20 a wavelength is about
    0.126, so solve on at least ~101 points per side (the default ``solve_resolution`` is the
    coarsest common grid of the requested resolutions, raised to 101 when it is coarser).

    Args:
        n_train, n_test: Sample counts.
        resolution, test_resolution: Vertex-grid points per side including the boundary (≥ 3).
        omega: Angular frequency ω.
        alpha, tau: GRF parameters of ξ (de Hoop et al.: 2, 3).
        solve_resolution: The grid solved on; must subsample to both resolutions.
        seed, root, workers, chunk_size, progress: As in :class:`Darcy2D`.

    The result is a :class:`PDEData` with ``x = c`` and ``y = u``, each ``(n, 1, s, s)`` float32,
    boundary ``"neumann"``.
    """

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 100,
        resolution: int = 101,
        test_resolution: int | None = None,
        omega: float = 1000.0,
        alpha: float = 2.0,
        tau: float = 3.0,
        solve_resolution: int | None = None,
        seed: int = 0,
        root: str | None = None,
        workers: int = 1,
        chunk_size: int = 8,
        progress: bool = True,
    ) -> None:
        _check_positive("omega", omega)
        resolution, test_resolution = _check_resolutions(resolution, test_resolution, 3)
        fine = fine_resolution([resolution, test_resolution], False, solve_resolution)
        if solve_resolution is None:
            # Raise the solve grid to >= 101 points by an integer refinement of the common grid.
            fine = (fine - 1) * math.ceil(100 / (fine - 1)) + 1
        common = {"pde": "helmholtz2d", "omega": float(omega), "alpha": float(alpha),
                  "tau": float(tau), "solve_resolution": fine, "seed": int(seed)}
        super().__init__(*_generated(
            "helmholtz2d", _helmholtz_chunk, common, n_train, n_test, resolution,
            test_resolution, root, workers, chunk_size, progress, "neumann"))
