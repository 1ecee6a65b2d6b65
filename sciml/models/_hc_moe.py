"""Physics-informed neural PDE solvers with hard constraints and a mixture of experts.

Chalapathi, Du, Krishnapriyan, "Scaling physics-informed hard constraints with
mixture-of-experts" (PI-HC-MoE), ICLR 2024. A backbone (MgNO by default) maps the initial state
and the space–time coordinates to N basis functions on the space–time grid; the
:class:`~sciml.physics.HardConstraintLayer` solves per-expert weights so that the PDE holds at
sampled points (hard constraint), and the model is trained on the PDE residual alone
(physics-informed, no solution data). ``"hc_moe"`` is that model (one expert = the paper's
PI-HC); ``"pi_sc"`` is the soft-constraint baseline (PI-SC): the same backbone predicting u
directly, trained on the same residual loss.

Grids: diffusion–sorption ``(n_x, n_t)`` on cell centres of [0, 1] and times
linspace(0, T, n_t); Navier–Stokes ``(s, s, n_t)`` on the periodic points i/s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from sciml.errors import ConfigError
from sciml.models._base import AbstractModel
from sciml.models._mgno import MgNO, MgNOConfig
from sciml.physics import (
    TIME_SCHEMES,
    WARM_STARTS,
    DiffusionSorption,
    HardConstraintLayer,
    HCInfo,
    LMSettings,
    NavierStokesVorticity,
    SpaceTimeGrid,
    grid_physics_loss,
)
from sciml.registry import MODELS, config_from_dict

__all__ = ["HardConstrainedOperator", "HCMoEConfig", "SoftConstrainedOperator", "PISCConfig",
           "PROBLEMS", "problem_setup"]

PROBLEMS = ("diffusion_sorption", "navier_stokes")
# Paper: NS tolerance 1e-7; for diffusion–sorption the reference code's default 1e-4 is used
# (the paper text was not available to check).
_DEFAULT_TOL = {"diffusion_sorption": 1e-4, "navier_stokes": 1e-7}
_DEFAULT_EXPERTS = {"diffusion_sorption": (4, 1), "navier_stokes": (2, 2, 1)}
_DEFAULT_BACKBONE = {"width": 16, "n_layers": 2, "levels": 3}
# Time differences of the residual: central unless asked (the reference code). "bdf2" is the
# implicit scheme (see SpaceTimeGrid.residual_mask). On the 64 x 51 diffusion–sorption grid the
# minimisers of the central loss that Gauss–Newton found lay 0.28-0.52 (rel L2) from the
# reference solution (loss 0.05-0.08 against its 2.1); the zero set of the BDF2 residual
# (marched) is 0.008 from it. But with BDF2 all three models failed the boundary rows within
# 600 steps (benchmarks/RESULTS.md), so it is not the default.


def problem_setup(problem: str, grid_shape: Sequence[int], t_final: float, nu: float = 1e-4,
                  time_scheme: str | None = None) -> tuple[Any, SpaceTimeGrid, float]:
    """The PDE, its :class:`SpaceTimeGrid` and the PDE-row weight (T for diffusion–sorption,
    which makes the residual that of nondimensional time t/T; 1 for Navier–Stokes).

    ``time_scheme`` (None: central) sets the time differences of the residual: ``"central"``
    (the reference code) or ``"bdf2"`` (the implicit scheme, see
    :meth:`~sciml.physics.SpaceTimeGrid.residual_mask`)."""
    shape = tuple(int(n) for n in grid_shape)
    time_scheme = time_scheme or "central"
    if problem == "diffusion_sorption":
        if len(shape) != 2:
            raise ConfigError(f"diffusion_sorption needs grid_shape (n_x, n_t), got {shape}")
        nx, nt = shape
        grid = SpaceTimeGrid(shape, (1.0 / nx,), t_final / (nt - 1), (0.5 / nx,), (False,),
                             time_scheme)
        return DiffusionSorption(t_final=t_final), grid, float(t_final)
    if problem == "navier_stokes":
        if len(shape) != 3 or shape[0] != shape[1]:
            raise ConfigError(f"navier_stokes needs grid_shape (s, s, n_t), got {shape}")
        s, nt = shape[0], shape[2]
        grid = SpaceTimeGrid(shape, (1.0 / s, 1.0 / s), t_final / (nt - 1), (0.0, 0.0),
                             (True, True), time_scheme)
        return NavierStokesVorticity(nu=nu), grid, 1.0
    raise ConfigError(f"problem must be one of {list(PROBLEMS)}, got {problem!r}")


@dataclasses.dataclass(frozen=True)
class PISCConfig:
    """Configuration of :class:`SoftConstrainedOperator`.

    Args: problem: ``"diffusion_sorption"`` or ``"navier_stokes"``; nu: NS viscosity;
    backbone: MgNO config values (default width 16, 2 layers, 3 levels); row_scale: weight of
    the initial/boundary rows against the PDE residual (squared in the loss; also in the solve);
    time_scheme: time differences of the residual, ``"central"`` (the reference code) or
    ``"bdf2"`` (the implicit scheme; None: central).
    """

    problem: str = "diffusion_sorption"
    nu: float = 1e-4
    backbone: dict = dataclasses.field(default_factory=dict)
    row_scale: float = 1.0
    time_scheme: str | None = None

    def __post_init__(self) -> None:
        if self.problem not in PROBLEMS:
            raise ValueError(f"problem must be one of {list(PROBLEMS)}, got {self.problem!r}")
        if self.time_scheme is not None and self.time_scheme not in TIME_SCHEMES:
            raise ValueError(f"time_scheme must be one of {list(TIME_SCHEMES)} or None, got "
                             f"{self.time_scheme!r}")


@dataclasses.dataclass(frozen=True)
class HCMoEConfig(PISCConfig):
    """Configuration of :class:`HardConstrainedOperator`.

    Args (besides :class:`PISCConfig`'s): n_basis: basis functions N; experts: blocks per axis
    ``(*space, t)`` (None: 4 spatial for diffusion–sorption, 2×2 for NS; all ones = single hard
    constraint); n_points: PDE points sampled per sample in total; max_iter, tol, ridge,
    on_fail: Levenberg–Marquardt settings (tol None: 1e-7 for NS as the paper, 1e-4 for
    diffusion–sorption; on_fail ``"raise"`` unless training should continue past experts that
    did not converge, ``"warn"``); partition_initial: route initial rows to their expert
    (None: NS yes, diffusion–sorption no, as the reference); expert_loss: train on the
    residual of the assembled field, jumps between blocks included (False, the reference code
    and the default), or on each expert's residual from its own field on its block (True; it
    leaves the experts' fields uncoupled at the block interfaces); warm_start: where each
    expert's LM starts, ``"rows"`` (the fit of the initial/boundary rows) or ``"global"`` (one
    domain-wide solve of an expert's size first; see
    :class:`~sciml.physics.HardConstraintLayer`).

    Measured on diffusion–sorption (64 × 51, BDF2, row scale 500, 600 steps, gradient norm
    clipped at 1, 3 seeds; benchmarks/RESULTS.md): the assembled loss gave the MoE median rel
    L2 0.056 against 0.20-0.28 with the experts' own losses, and the rows start 0.056 against
    0.065 from the global start at 1.7x the step time, hence the defaults. (Without gradient
    clipping, training was unstable: the assembled loss reached 1.63 after 2000 steps, and the
    own losses with the global start were best, 0.57 after 600.)
    """

    n_basis: int = 16
    experts: tuple[int, ...] | None = None
    n_points: int = 2000
    max_iter: int = 50
    tol: float | None = None
    ridge: float = 1e-8
    on_fail: str = "raise"
    partition_initial: bool | None = None
    expert_loss: bool = False
    warm_start: str = "rows"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.warm_start not in WARM_STARTS:
            raise ValueError(f"warm_start must be one of {list(WARM_STARTS)}, got "
                             f"{self.warm_start!r}")
        if isinstance(self.n_basis, bool) or not isinstance(self.n_basis, int) \
                or self.n_basis < 1:
            raise ValueError(f"n_basis must be an integer >= 1, got {self.n_basis!r}")
        if self.experts is not None:
            object.__setattr__(self, "experts", tuple(self.experts))
        LMSettings(self.max_iter, self.tol or 1e-7, self.ridge, on_fail=self.on_fail)


class SoftConstrainedOperator(AbstractModel):
    """PI-SC baseline: the backbone predicts u on the space–time grid; trained on the residual.

    Args:
        config: :class:`PISCConfig`.
        grid_shape: ``(*space, n_t)``.
        t_final: Final time T.

    Shapes:
        - initial: (b, *space) -> u: (b, *space, n_t)
    """

    out_channels_per_model = 1

    def __init__(self, config: PISCConfig, *, grid_shape: Sequence[int], t_final: float) -> None:
        grid_shape = [int(n) for n in grid_shape]
        super().__init__(config, grid_shape=grid_shape, t_final=float(t_final))
        self.pde, self.grid, self.pde_weight = problem_setup(config.problem, grid_shape,
                                                             float(t_final), config.nu,
                                                             config.time_scheme)
        values = {**_DEFAULT_BACKBONE, **dict(config.backbone)}
        ndim = len(grid_shape)
        self.backbone = MgNO(config_from_dict(MgNOConfig, values, "model.backbone"),
                             in_channels=ndim + 1, out_channels=self._out_channels(),
                             ndim=ndim, resolution=grid_shape)
        coords = self.grid.coordinates().permute(-1, *range(ndim))       # (ndim, *grid)
        lo = coords.flatten(1).amin(1).view(-1, *[1] * ndim)
        hi = coords.flatten(1).amax(1).view(-1, *[1] * ndim)
        self.register_buffer("coord_channels", ((coords - lo) / (hi - lo)).float(),
                             persistent=False)

    def _out_channels(self) -> int:
        return 1

    def features(self, initial: Tensor) -> Tensor:
        """Backbone input ``(b, 1 + ndim, *space, n_t)``: u₀ repeated in time, coordinates."""
        shape = tuple(self.grid.shape)
        if initial.shape[1:] != shape[:-1]:
            raise ValueError(f"initial must have shape (batch, {', '.join(map(str, shape[:-1]))}),"
                             f" got {tuple(initial.shape)}")
        u0 = initial[:, None, ..., None].expand(-1, 1, *shape).to(self.coord_channels.dtype)
        xy = self.coord_channels[None].expand(initial.shape[0], -1, *shape)
        return torch.cat([u0, xy], dim=1)

    def forward(self, initial: Tensor) -> Tensor:
        return self.backbone(self.features(initial))[:, 0]

    def physics_loss(self, u: Tensor, initial: Tensor) -> tuple[Tensor, Tensor]:
        """Mean squared PDE residual (whole grid) and initial/boundary rows of ``u`` (the rows
        term times ``row_scale²``)."""
        pde, rows = grid_physics_loss(self.pde, self.grid, u, initial, self.pde_weight)
        return pde, self.config.row_scale**2 * rows


MODELS.register("pi_sc", PISCConfig)(SoftConstrainedOperator)


@MODELS.register("hc_moe", HCMoEConfig)
class HardConstrainedOperator(SoftConstrainedOperator):
    """PI-HC-MoE: backbone basis functions, per-expert hard-constraint solve (see module doc).

    Args:
        config: :class:`HCMoEConfig`.
        grid_shape: ``(*space, n_t)``.
        t_final: Final time T.

    Shapes:
        - initial: (b, *space) -> u: (b, *space, n_t); the last solve's :class:`HCInfo` is
          kept in ``self.last_info``.
    """

    def __init__(self, config: HCMoEConfig, *, grid_shape: Sequence[int], t_final: float
                 ) -> None:
        super().__init__(config, grid_shape=grid_shape, t_final=t_final)
        experts = config.experts or _DEFAULT_EXPERTS[config.problem]
        if len(experts) != len(grid_shape):
            raise ConfigError(f"model.experts must give one count per grid axis (space then "
                              f"time: {len(grid_shape)}), got {list(experts)}")
        partition = config.partition_initial
        if partition is None:
            partition = config.problem == "navier_stokes"
        tol = config.tol if config.tol is not None else _DEFAULT_TOL[config.problem]
        lm = LMSettings(config.max_iter, tol, config.ridge, on_fail=config.on_fail)
        self.constraint = HardConstraintLayer(self.pde, self.grid, config.n_points, experts, lm,
                                              self.pde_weight, partition,
                                              row_scale=config.row_scale,
                                              warm_start=config.warm_start)
        self.last_info: HCInfo | None = None

    def _out_channels(self) -> int:
        return self.config.n_basis

    def forward(self, initial: Tensor, generator: torch.Generator | None = None) -> Tensor:
        basis = self.backbone(self.features(initial))
        # Unit RMS per basis function and sample: the solve is invariant to the scale of b up
        # to the ridge term, so this only removes the degenerate direction b → 0 (the PDE
        # residual vanishes with the basis while the ridge keeps w from compensating), which
        # otherwise lets training collapse to u ≈ 0. Not in the reference code.
        dims = tuple(range(2, basis.ndim))
        basis = basis / basis.square().mean(dims, keepdim=True).add(1e-12).sqrt()
        u, self.last_info = self.constraint(basis, initial, generator)
        self._last = (u, basis)
        return u

    def physics_loss(self, u: Tensor, initial: Tensor) -> tuple[Tensor, Tensor]:
        """The physics loss of ``u``; for the output of the last forward (and ``expert_loss``),
        each expert's residual from its own field on its block (see
        :meth:`~sciml.physics.HardConstraintLayer.expert_physics_loss`)."""
        last = getattr(self, "_last", None)
        if self.config.expert_loss and last is not None and last[0] is u:
            return self.constraint.expert_physics_loss(last[1], self.last_info.weights, initial)
        return super().physics_loss(u, initial)
