"""Charged N-body system of EGNN / SEGNN / PONITA (Kipf et al., ICML 2018; Satorras, Hoogeboom,
Welling, ICML 2021): point charges ±1 with Coulomb interaction, symplectic Euler (leapfrog
velocities half a step apart), no box.

Force on particle i (unit masses, strength ``c``):

    F_i = c Σ_{j≠i} q_i q_j (x_i − x_j) / |x_i − x_j|³,

each component clipped to ``±max_force`` (the reference: ``0.1 / dt``). Following the reference
generator (``n_body_system/dataset/synthetic_sim.py`` of EGNN): charges drawn ±1 with equal
probability, positions ``N(0, loc_std²)``, velocities of norm ``vel_norm`` in random directions;
one force kick ``v += dt F``, then for steps ``i = 1 .. n_steps−1``: ``x += dt v``; every
``sample_every`` steps ``(x, v)`` is stored; ``v += dt F(x)``. So frame ``k`` holds the state
after ``(k+1)·sample_every`` position updates and ``n_steps/sample_every − 1`` frames are stored.
The draws per simulation follow the reference's order on a ``numpy.random.RandomState`` (charges,
positions, velocities), so ``seed`` fixes the data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["NBodySimulation", "simulate_charged_nbody", "charged_nbody_energy",
           "integrate_charged_nbody"]


@numba.njit(cache=True)
def _forces(loc: np.ndarray, charges: np.ndarray, strength: float, max_force: float,
            out: np.ndarray) -> None:
    n, d = loc.shape
    out[:] = 0.0
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            r2 = 0.0
            for k in range(d):
                diff = loc[i, k] - loc[j, k]
                r2 += diff * diff
            scale = strength * charges[i] * charges[j] / (r2 * np.sqrt(r2))
            for k in range(d):
                out[i, k] += scale * (loc[i, k] - loc[j, k])
    for i in range(n):
        for k in range(d):
            if out[i, k] > max_force:
                out[i, k] = max_force
            elif out[i, k] < -max_force:
                out[i, k] = -max_force


@numba.njit(cache=True)
def _integrate_many(loc0: np.ndarray, vel0: np.ndarray, charges: np.ndarray, n_steps: int,
                    sample_every: int, dt: float, strength: float, max_force: float,
                    loc_out: np.ndarray, vel_out: np.ndarray) -> None:
    n_sims = loc0.shape[0]
    for s in range(n_sims):
        loc = loc0[s].copy()
        vel = vel0[s].copy()
        force = np.zeros_like(loc)
        _forces(loc, charges[s], strength, max_force, force)
        vel += dt * force
        frame = 0
        for i in range(1, n_steps):
            loc += dt * vel
            if i % sample_every == 0:
                loc_out[s, frame] = loc
                vel_out[s, frame] = vel
                frame += 1
            _forces(loc, charges[s], strength, max_force, force)
            vel += dt * force


def _check(name: str, value: object, low: float, integer: bool = False) -> None:
    ok = isinstance(value, (int, np.integer)) if integer else isinstance(
        value, (int, float, np.floating, np.integer))
    if isinstance(value, bool) or not ok or not value >= low or not np.isfinite(value):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind} >= {low}, got {value!r}")


def integrate_charged_nbody(
    loc0: np.ndarray, vel0: np.ndarray, charges: np.ndarray, n_steps: int = 5000,
    sample_every: int = 100, dt: float = 1e-3, interaction_strength: float = 1.0,
    max_force: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate given initial states (numba, serial over simulations).

    Args:
        loc0: ``(S, N, d)`` initial positions.
        vel0: ``(S, N, d)`` initial velocities.
        charges: ``(S, N)`` charges.
        n_steps: Time steps (a multiple of ``sample_every``).
        sample_every: Steps between stored frames.
        dt: Time step.
        interaction_strength: Coulomb constant ``c``.
        max_force: Clip of each force component (default ``0.1 / dt``, the reference's).

    Returns:
        ``loc, vel`` of shape ``(S, n_steps/sample_every − 1, N, d)``.
    """
    _check("n_steps", n_steps, 2, integer=True)
    _check("sample_every", sample_every, 1, integer=True)
    _check("dt", dt, 1e-300)
    if n_steps % sample_every:
        raise ValueError(f"n_steps={n_steps} must be a multiple of sample_every={sample_every}")
    loc0 = np.ascontiguousarray(loc0, dtype=np.float64)
    vel0 = np.ascontiguousarray(vel0, dtype=np.float64)
    charges = np.ascontiguousarray(charges, dtype=np.float64).reshape(loc0.shape[:2])
    if loc0.ndim != 3 or vel0.shape != loc0.shape:
        raise ValueError(f"loc0 and vel0 must both have shape (S, N, d), got {loc0.shape} and "
                         f"{vel0.shape}")
    if not (np.isfinite(loc0).all() and np.isfinite(vel0).all()):
        raise ValueError("initial positions or velocities contain NaN or inf")
    max_force = 0.1 / dt if max_force is None else float(max_force)
    frames = n_steps // sample_every - 1
    loc = np.zeros((loc0.shape[0], frames, *loc0.shape[1:]))
    vel = np.zeros_like(loc)
    _integrate_many(loc0, vel0, charges, int(n_steps), int(sample_every), float(dt),
                    float(interaction_strength), max_force, loc, vel)
    return loc, vel


@dataclass(frozen=True)
class NBodySimulation:
    """Stored trajectories: ``loc``, ``vel`` ``(S, F, N, d)`` and ``charges`` ``(S, N)``."""

    loc: np.ndarray
    vel: np.ndarray
    charges: np.ndarray


def simulate_charged_nbody(
    n_sims: int, n_particles: int = 5, n_steps: int = 5000, sample_every: int = 100,
    dt: float = 1e-3, loc_std: float = 1.0, vel_norm: float = 0.5,
    interaction_strength: float = 1.0, dim: int = 3, seed: int = 0,
    rng: np.random.RandomState | None = None,
) -> NBodySimulation:
    """Draw and integrate ``n_sims`` charged N-body systems (the EGNN "nbody_small" setting by
    default: 5 particles, speed 0.5, dt 0.001, 5000 steps sampled every 100).

    Args:
        n_sims: Number of simulations.
        n_particles: Particles per simulation.
        n_steps, sample_every, dt, interaction_strength: See :func:`integrate_charged_nbody`.
        loc_std: Std of initial positions (scaled by ``(n_particles/5)^(1/3)`` as the reference).
        vel_norm: Initial speed of every particle.
        dim: Spatial dimension.
        seed: Seed of a ``RandomState`` (ignored when ``rng`` is given).
        rng: Continue drawing from this generator (consecutive splits of one data set).
    """
    _check("n_sims", n_sims, 1, integer=True)
    _check("n_particles", n_particles, 2, integer=True)
    _check("dim", dim, 1, integer=True)
    _check("loc_std", loc_std, 1e-300)
    _check("vel_norm", vel_norm, 0.0)
    rng = np.random.RandomState(seed) if rng is None else rng
    std = loc_std * (n_particles / 5.0) ** (1.0 / 3.0)
    charges = np.zeros((n_sims, n_particles))
    loc0 = np.zeros((n_sims, n_particles, dim))
    vel0 = np.zeros((n_sims, n_particles, dim))
    for s in range(n_sims):
        charges[s] = rng.choice(np.array([-1.0, 0.0, 1.0]), size=(n_particles, 1),
                                p=[0.5, 0.0, 0.5])[:, 0]
        loc0[s] = (rng.randn(dim, n_particles) * std).T
        v = rng.randn(dim, n_particles)
        vel0[s] = (v * vel_norm / np.sqrt((v ** 2).sum(axis=0, keepdims=True))).T
    loc, vel = integrate_charged_nbody(loc0, vel0, charges, n_steps, sample_every, dt,
                                       interaction_strength)
    return NBodySimulation(loc=loc, vel=vel, charges=charges)


def charged_nbody_energy(loc: np.ndarray, vel: np.ndarray, charges: np.ndarray,
                         interaction_strength: float = 1.0) -> np.ndarray:
    """Total energy ``½ Σ|v|² + c Σ_{i<j} q_i q_j / |x_i − x_j|`` of states ``(..., N, d)``;
    ``charges`` must broadcast to ``(..., N)`` (e.g. ``(S, 1, N)`` for ``(S, F, N, d)`` states)."""
    loc, vel = np.asarray(loc, dtype=np.float64), np.asarray(vel, dtype=np.float64)
    q = np.broadcast_to(np.asarray(charges, dtype=np.float64), loc.shape[:-1])
    diff = loc[..., :, None, :] - loc[..., None, :, :]
    r = np.sqrt((diff ** 2).sum(-1))
    n = loc.shape[-2]
    iu = np.triu_indices(n, 1)
    qq = q[..., :, None] * q[..., None, :]
    potential = interaction_strength * (qq[..., iu[0], iu[1]] / r[..., iu[0], iu[1]]).sum(-1)
    return 0.5 * (vel ** 2).sum((-1, -2)) + potential
