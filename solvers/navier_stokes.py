"""2-D incompressible Navier–Stokes in vorticity form on the periodic unit torus.

    ∂_t w + u·∇w = ν Δw + f,    u = (∂_y ψ, −∂_x ψ),    −Δψ = w,    (x, y) ∈ [0,1)²

the setting of FNO's Navier–Stokes benchmark (Li et al., ICLR 2021), with their forcing
f = 0.1 (sin 2π(x+y) + cos 2π(x+y)) and initial vorticity w0 ~ GRF(α = 2.5, τ = 7).

Grid: s × s points x_i = i/s (endpoint excluded); array index [..., i, j] is (x_i, y_j).

Discretisation: Fourier pseudo-spectral in space (spectral accuracy for smooth solutions), the
nonlinear term u·∇w evaluated on the grid and de-aliased by the 2/3 rule (modes with
|k_x| or |k_y| > (2/3)⌊s/2⌋ dropped). In time, mode by mode,

- ``scheme="cn-ab2"`` (default): Crank–Nicolson for ν Δw, second-order Adams–Bashforth for the
  advection and the forcing, started by one ``cn-euler`` step; second order in Δt.
- ``scheme="cn-euler"``: Crank–Nicolson for ν Δw, forward Euler for advection and forcing —
  exactly FNO's ``navier_stokes_2d`` step; first order in Δt (the Euler part dominates).

tests/solvers/test_navier_stokes.py fits both temporal slopes against a fine-Δt reference, checks
the exact Taylor–Green decay w = w0 e^(−8π²νt), the forcing-balanced steady state
w = f/(8π²ν), and the spectral spatial convergence.

Backends: numpy (scipy.fft) or torch (``torch.fft``, CPU or GPU), both in float64.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from jaxtyping import Float
from sciml.solvers.grf import gaussian_random_field

from sciml.errors import NonFiniteError

__all__ = ["ns2d_initial_vorticity", "ns2d_forcing", "solve_navier_stokes_2d"]

_BACKENDS = ("numpy", "torch")
_SCHEMES = ("cn-ab2", "cn-euler")


def ns2d_initial_vorticity(n: int, s: int, alpha: float = 2.5, tau: float = 7.0,
                           seed: int | np.random.Generator | None = 0,
                           sigma: float | None = None) -> Float[np.ndarray, "n s s"]:
    """Random initial vorticity: a periodic GRF with covariance σ²(−Δ + τ²)^(−α), zero mean.

    ``sigma=None`` uses σ = √2 τ^(α−1), which reproduces the amplitude of FNO's Python
    ``GaussianRF(2, s, alpha, tau)`` (its σ = τ^(α−1) with independent complex k and −k
    coefficients doubles the variance; see :mod:`sciml.solvers.grf`).

    Args:
        n: Number of samples.
        s: Grid points per side (>= 4), points i/s.
        alpha, tau: GRF parameters (FNO: 2.5, 7).
        seed: Seed or numpy Generator.
        sigma: Amplitude override.

    Returns:
        (n, s, s) float64 vorticity fields.
    """
    _check_resolution(s)
    if sigma is None:
        sigma = math.sqrt(2.0) * tau ** (alpha - 1.0)
    return gaussian_random_field(n, (s, s), alpha, tau, sigma=sigma, boundary="periodic", rng=seed)


def ns2d_forcing(s: int) -> Float[np.ndarray, "s s"]:
    """FNO's forcing 0.1 (sin 2π(x+y) + cos 2π(x+y)) on the s × s periodic grid."""
    _check_resolution(s)
    t = np.arange(s) / s
    xy = t[:, None] + t[None, :]
    return 0.1 * (np.sin(2 * np.pi * xy) + np.cos(2 * np.pi * xy))


def _check_resolution(s: object) -> None:
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 4:
        raise ValueError(f"resolution s must be an integer >= 4 (the 2/3 de-aliasing keeps no "
                         f"non-constant mode below 4), got {s!r}")


def _check_number(name: str, value: object, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return v


def _fields(w0: object, forcing: object) -> tuple[np.ndarray, np.ndarray | None, bool]:
    w = np.asarray(w0.detach().cpu().numpy() if hasattr(w0, "detach") else w0)
    if not (np.issubdtype(w.dtype, np.floating) or np.issubdtype(w.dtype, np.integer)):
        raise TypeError(f"w0 must be a real array, got dtype {w.dtype}")
    single = w.ndim == 2
    w = w[None] if single else w
    if w.ndim != 3 or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"w0 must have shape (n, s, s) or (s, s) (square grid), got {w.shape}")
    s = w.shape[-1]
    _check_resolution(s)
    if not np.all(np.isfinite(w)):
        raise ValueError("w0 contains NaN or infinite values")
    if forcing is None:
        f = None
    elif isinstance(forcing, str):
        if forcing != "fno":
            raise ValueError(f"forcing must be 'fno', None or an array, got {forcing!r}")
        f = ns2d_forcing(s)
    else:
        f = np.asarray(forcing, dtype=np.float64)
        if f.shape not in ((s, s), (w.shape[0], s, s)):
            raise ValueError(f"forcing array must have shape ({s}, {s}) or {w.shape}, got "
                             f"{f.shape}")
        if not np.all(np.isfinite(f)):
            raise ValueError("forcing contains NaN or infinite values")
    return w.astype(np.float64), f, single


class _Ops:
    """The few array operations the stepper needs, for numpy or torch."""

    def __init__(self, backend: str, device: object, n: int, s: int):
        self.backend, self.s = backend, s
        # Threads pay off only for large transforms; on small ones the pool overhead dominates.
        self.workers = -1 if n * s * s >= 1 << 16 else None
        if backend == "torch":
            try:
                import torch
            except ImportError as exc:  # pragma: no cover - torch is a core dependency
                raise ImportError("backend='torch' needs torch installed") from exc
            self.torch = torch
            self.device = torch.device(device if device is not None else "cpu")

    def asarray(self, x: np.ndarray):
        if self.backend == "numpy":
            return x
        return self.torch.as_tensor(x, device=self.device)

    def rfft2(self, x):
        if self.backend == "numpy":
            return scipy.fft.rfft2(x, workers=self.workers)
        return self.torch.fft.rfft2(x)

    def irfft2(self, x):
        if self.backend == "numpy":
            return scipy.fft.irfft2(x, s=(self.s, self.s), workers=self.workers)
        return self.torch.fft.irfft2(x, s=(self.s, self.s))

    def to_numpy(self, x) -> np.ndarray:
        return x if self.backend == "numpy" else x.detach().cpu().numpy()


def solve_navier_stokes_2d(w0: Float[np.ndarray, "n s s"], visc: float, t_final: float,
                           n_records: int, dt: float = 1e-4,
                           forcing: str | np.ndarray | None = "fno",
                           backend: str = "numpy", device: object = None, scheme: str = "cn-ab2"
                           ) -> Float[np.ndarray, "n r s s"]:
    """Integrate the periodic 2-D vorticity equation and record n_records equally spaced snapshots.

    Pseudo-spectral with 2/3 de-aliasing; Crank–Nicolson / Adams–Bashforth 2 in time (second order)
    or FNO's Crank–Nicolson / forward Euler (``scheme="cn-euler"``, first order); see the module
    docstring.

    Args:
        w0: (n, s, s) or (s, s) initial vorticity on the grid i/s, s >= 4.
        visc: Viscosity ν >= 0.
        t_final: Final time T > 0.
        n_records: Snapshots at t_k = T k / n_records, k = 1..n_records.
        dt: Largest allowed time step; the step used is T / (n_records · ⌈T / (n_records dt)⌉) so
            that every record time is hit exactly.
        forcing: "fno" (0.1 (sin 2π(x+y) + cos 2π(x+y))), None (unforced) or an (s, s) /
            (n, s, s) array, constant in time.
        backend: "numpy" or "torch".
        device: torch device for ``backend="torch"`` (default CPU).
        scheme: "cn-ab2" or "cn-euler".

    Returns:
        (n, n_records, s, s) float64 numpy array of vorticity (without the leading n for 2-D w0).
    """
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    if scheme not in _SCHEMES:
        raise ValueError(f"scheme must be one of {_SCHEMES}, got {scheme!r}")
    if device is not None and backend != "torch":
        raise ValueError(f"device={device!r} needs backend='torch', got backend={backend!r}")
    visc = _check_number("visc", visc, allow_zero=True)
    t_final = _check_number("t_final", t_final)
    dt = _check_number("dt", dt)
    if isinstance(n_records, bool) or not isinstance(n_records, (int, np.integer)) \
            or n_records < 1:
        raise ValueError(f"n_records must be an integer >= 1, got {n_records!r}")
    w, f, single = _fields(w0, forcing)
    n, s = w.shape[0], w.shape[-1]
    steps_per_record = max(1, math.ceil(t_final / (n_records * dt) - 1e-9))
    dt = t_final / (n_records * steps_per_record)

    ops = _Ops(backend, device, n, s)
    kx = np.fft.fftfreq(s, d=1.0 / s)[:, None]           # axis −2: x
    ky = np.fft.rfftfreq(s, d=1.0 / s)[None, :]          # axis −1: y (half spectrum)
    lap = 4.0 * np.pi**2 * (kx**2 + ky**2)               # symbol of −Δ
    inv_lap = np.where(lap > 0, 1.0 / np.where(lap > 0, lap, 1.0), 0.0)
    k_cut = (2.0 / 3.0) * (s // 2)
    dealias = ((np.abs(kx) <= k_cut) & (np.abs(ky) <= k_cut)).astype(np.float64)
    dx, dy = ops.asarray(2j * np.pi * kx), ops.asarray(2j * np.pi * ky)
    inv_lap, dealias = ops.asarray(inv_lap), ops.asarray(dealias)
    implicit = ops.asarray(1.0 / (1.0 + 0.5 * dt * visc * lap))
    explicit = ops.asarray((1.0 - 0.5 * dt * visc * lap) / (1.0 + 0.5 * dt * visc * lap))
    w_h = ops.rfft2(ops.asarray(w))
    f_h = None if f is None else ops.rfft2(ops.asarray(f))

    def tendency(w_hat):
        """Fourier coefficients of f − u·∇w, de-aliased."""
        psi_h = w_hat * inv_lap
        u = ops.irfft2(dy * psi_h)
        v = ops.irfft2(-dx * psi_h)
        adv = ops.rfft2(u * ops.irfft2(dx * w_hat) + v * ops.irfft2(dy * w_hat)) * dealias
        return -adv if f_h is None else f_h - adv

    out = np.empty((n, n_records, s, s))
    prev = None
    with np.errstate(over="ignore", invalid="ignore"):   # a blow-up is reported below
        for r in range(n_records):
            for _ in range(steps_per_record):
                g = tendency(w_h)
                if scheme == "cn-ab2" and prev is not None:
                    w_h = explicit * w_h + (dt * implicit) * (1.5 * g - 0.5 * prev)
                else:
                    w_h = explicit * w_h + (dt * implicit) * g
                prev = g
            out[:, r] = ops.to_numpy(ops.irfft2(w_h))
            if not np.all(np.isfinite(out[:, r])):
                raise NonFiniteError(
                    f"Navier–Stokes solve became non-finite by t = "
                    f"{t_final * (r + 1) / n_records:.4g} (dt = {dt:.3g}, visc = {visc:.3g}); "
                    "reduce dt")
    return out[0] if single else out
