"""The hard-constraint layer with a mixture of experts over space–time blocks (PI-HC-MoE).

Chalapathi, Du, Krishnapriyan, "Scaling physics-informed hard constraints with
mixture-of-experts", ICLR 2024. Given N basis functions b on a space–time grid, the domain is
split into K blocks Ω_k (``experts`` per axis; all ones is the single hard constraint). Expert k
solves

    w_k = argmin_w ‖F(b·w) at M/K points sampled in Ω_k‖² + ‖initial/boundary rows of b·w‖²
          + λ‖w‖²

(F the PDE residual by finite differences, the initial/boundary rows global and shared by all
experts, or routed to the expert that owns them with ``partition_initial``), and the output is
u = b·w_k on Ω_k. All experts of all samples are one batched Levenberg–Marquardt solve
(:mod:`sciml.physics._hard_constraint`) whose iterations work on the unconverged experts only,
so K experts cost at most one solve of the same number of sampled points per iteration, and
less where experts converge early and the solve is compute-bound. The Jacobian and the Hessian
come from the PDE's pointwise derivatives (the residual at a point sees only u = b·w and its
derivatives there); gradients reach the backbone by implicit differentiation.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from sciml.physics._expert_parallel import ExpertRanks, expert_ranks, gather_info
from sciml.physics._finite_difference import TIME_SCHEMES, GridDerivatives
from sciml.physics._hard_constraint import (
    LMSettings,
    implicit_least_squares,
    levenberg_marquardt,
)
from sciml.physics._pdes import AbstractDerivatives, AbstractPDE

__all__ = ["HardConstraintLayer", "HCInfo", "SpaceTimeGrid", "expert_partition",
           "grid_physics_loss", "WARM_STARTS", "AbstractConstraints", "PDEConstraintRows"]

WARM_STARTS = ("rows", "global")


@dataclasses.dataclass(frozen=True)
class SpaceTimeGrid:
    """A uniform space–time grid ``(*space, n_t)``: spacing, time step, origin, periodicity.

    Args:
        shape: ``(*space, n_t)``.
        spacing: Spatial step per axis.
        dt: Time step (time starts at 0).
        origin: Coordinate of index 0 per spatial axis (cell centres: h/2).
        periodic: Per spatial axis.
        time_scheme: Time differences of the residual, ``"central"`` or ``"bdf2"`` (see
            :class:`~sciml.physics.GridDerivatives`).
    """

    shape: tuple[int, ...]
    spacing: tuple[float, ...]
    dt: float
    origin: tuple[float, ...]
    periodic: tuple[bool, ...]
    time_scheme: str = "central"

    def __post_init__(self) -> None:
        nd = len(self.shape) - 1
        if nd < 1 or any(isinstance(n, bool) or not isinstance(n, int) or n < 4
                         for n in self.shape):
            raise ValueError(f"shape must be (*space, n_t) with >= 4 points per axis, got "
                             f"{self.shape!r}")
        for name in ("spacing", "origin", "periodic"):
            if len(getattr(self, name)) != nd:
                raise ValueError(f"{name} must have one entry per spatial axis ({nd}), got "
                                 f"{getattr(self, name)!r}")
        if self.time_scheme not in TIME_SCHEMES:
            raise ValueError(f"time_scheme must be one of {list(TIME_SCHEMES)}, got "
                             f"{self.time_scheme!r}")

    @property
    def spatial_dims(self) -> int:
        return len(self.shape) - 1

    def derivatives(self) -> GridDerivatives:
        """Finite differences on this grid, layout ``(..., *space, t)``."""
        return GridDerivatives(self.spacing, dt=self.dt, periodic=self.periodic,
                               time_scheme=self.time_scheme)

    def residual_mask(self, pde: AbstractPDE) -> Tensor:
        """Where the PDE residual is imposed, ``(*shape)`` bool.

        Central time differences (the reference code): everywhere. BDF2: the implicit scheme,
        every time after the first (the initial rows fix t = 0), at the points the boundary rows
        do not determine: all but the first and last point of each non-periodic axis (and
        where ``pde.residual_mask``, if the PDE has one, allows), so that residual and
        initial/boundary rows form a square system whose solution is the BDF2 solution of the
        PDE (for diffusion–sorption: the inner cells).
        """
        mask = torch.ones(self.shape, dtype=torch.bool)
        if self.time_scheme == "central":
            return mask
        mask[..., 0] = False
        for axis, periodic in enumerate(self.periodic):
            if not periodic:
                mask.select(axis, 0).fill_(False)
                mask.select(axis, self.shape[axis] - 1).fill_(False)
        own = getattr(pde, "residual_mask", None)
        return mask & own(self.shape) if own is not None else mask

    def coordinates(self, flat_index: Tensor | None = None) -> Tensor:
        """Coordinates ``(..., spatial_dims + 1)`` (float64, last column t) of flattened grid
        indices; None: of the whole grid, shaped ``(*shape, spatial_dims + 1)``."""
        whole = flat_index is None
        if whole:
            flat_index = torch.arange(math.prod(self.shape))
        cols, rest = [], flat_index
        for axis in reversed(range(len(self.shape))):
            cols.append(rest % self.shape[axis])
            rest = rest // self.shape[axis]
        idx = torch.stack(cols[::-1], dim=-1).to(torch.float64)
        step = torch.tensor([*self.spacing, self.dt], dtype=torch.float64,
                            device=flat_index.device)
        start = torch.tensor([*self.origin, 0.0], dtype=torch.float64, device=flat_index.device)
        out = start + idx * step
        return out.reshape(*self.shape, -1) if whole else out


def grid_physics_loss(pde: AbstractPDE, grid: SpaceTimeGrid, u: Tensor, initial: Tensor,
                      pde_weight: float = 1.0, constraints: AbstractConstraints | None = None
                      ) -> tuple[Tensor, Tensor]:
    """Mean squared PDE residual of ``u`` (b, *space, n_t) over the grid's
    :meth:`~SpaceTimeGrid.residual_mask` (finite differences, scaled by ``pde_weight``), and
    mean squared initial/boundary rows (``constraints``; None: the PDE's ``constraint_rows``).

    The physics-informed training loss of the paper (no solution data).
    """
    d = grid.derivatives()
    coords = grid.coordinates().to(device=u.device, dtype=u.dtype)
    r = pde.residual(u, d, coords) * pde_weight
    mask = grid.residual_mask(pde).to(u.device)
    if constraints is None:
        constraints = PDEConstraintRows(pde, grid)
    a, c, _ = constraints.rows(u[:, None], initial.to(u.dtype))
    return r[:, mask].square().mean(), (a[..., 0] - c).square().mean()


class AbstractConstraints(abc.ABC):
    """Initial/boundary conditions of a field on a grid as linear rows ``A w − c`` of its
    weights (e.g. :class:`~sciml.physics.GridConstraints`)."""

    @abc.abstractmethod
    def rows(self, basis: Tensor, initial: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``A`` (b, R, N), ``c`` (b, R) and the rows' grid indices (R, spatial_dims + 1) for
        u = basis · w, basis (b, N, *space, n_t), initial (b, *space)."""


class PDEConstraintRows(AbstractConstraints):
    """The rows a PDE builds itself (its ``constraint_rows(basis, d, initial)``)."""

    def __init__(self, pde: AbstractPDE, grid: SpaceTimeGrid) -> None:
        if not hasattr(pde, "constraint_rows"):
            raise TypeError(f"PDE {pde.name!r} has no constraint_rows(): pass the constraints "
                            f"(sciml.physics.GridConstraints, e.g. GridProblem.constraints)")
        self.pde, self.d = pde, grid.derivatives()

    def __repr__(self) -> str:
        return f"PDEConstraintRows({self.pde.name})"

    def rows(self, basis: Tensor, initial: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return self.pde.constraint_rows(basis, self.d, initial)


class _Recorder(AbstractDerivatives):
    """Notes which derivatives a PDE residual asks for (to precompute them for the basis)."""

    def __init__(self, spatial_dims: int) -> None:
        self.spatial_dims, self.names = spatial_dims, {"u"}

    def dt(self, u: Tensor) -> Tensor:
        self.names.add("dt")
        return torch.zeros_like(u)

    def dx(self, u: Tensor, axis: int = 0) -> Tensor:
        self.names.add(f"dx{axis}")
        return torch.zeros_like(u)

    def dxx(self, u: Tensor, axis: int = 0) -> Tensor:
        self.names.add(f"dxx{axis}")
        return torch.zeros_like(u)

    def velocity(self, u: Tensor, axis: int = 0) -> Tensor:
        self.names.add(f"vel{axis}")
        return torch.zeros_like(u)


class _Combined(AbstractDerivatives):
    """Derivatives of u = b·w at the sampled points: the precomputed b-derivatives times w."""

    def __init__(self, values: dict[str, Tensor], spatial_dims: int) -> None:
        self.values, self.spatial_dims, self.u = values, spatial_dims, values["u"]

    def _get(self, u: Tensor, name: str) -> Tensor:
        if u is not self.u:
            raise ValueError("the hard-constraint layer differentiates only the constrained field")
        return self.values[name]

    def dt(self, u: Tensor) -> Tensor:
        return self._get(u, "dt")

    def dx(self, u: Tensor, axis: int = 0) -> Tensor:
        return self._get(u, f"dx{axis}")

    def dxx(self, u: Tensor, axis: int = 0) -> Tensor:
        return self._get(u, f"dxx{axis}")

    def velocity(self, u: Tensor, axis: int = 0) -> Tensor:
        return self._get(u, f"vel{axis}")


def _detached(xs: list[Tensor | None]) -> list[Tensor | None]:
    return [x if x is None else x.detach() for x in xs]


def expert_partition(shape: Sequence[int], experts: Sequence[int]) -> Tensor:
    """Expert id of every grid point (flattened, C order): ``experts[a]`` equal blocks per axis.

    Returns:
        ``(prod(shape),)`` long tensor with ids in ``[0, prod(experts))``.
    """
    if len(shape) != len(experts):
        raise ValueError(f"experts must give one count per grid axis ({len(shape)}: space then "
                         f"time), got {tuple(experts)}")
    ids = torch.zeros((), dtype=torch.long)
    for n, k in zip(shape, experts, strict=True):
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
            raise ValueError(f"expert count per axis must be an integer in [1, {n}], got {k!r}")
        block = torch.arange(n) * k // n
        ids = ids[..., None] * k + block
    return ids.flatten()


@dataclasses.dataclass
class HCInfo:
    """Solver outcome per sample and expert: LM ``iterations``, ``rms`` residual, ``converged``,
    each ``(b, K)``, and the solved ``weights`` ``(b, K, N)`` (differentiable)."""

    iterations: Tensor
    rms: Tensor
    converged: Tensor
    weights: Tensor


class HardConstraintLayer(nn.Module):
    """Project basis functions onto the PDE: per-expert weights by LM, implicit gradients.

    Args:
        pde: A PDE (its ``residual``; its ``constraint_rows`` too where ``constraints`` is
            None).
        grid: The :class:`SpaceTimeGrid` of the basis functions.
        n_points: Total PDE points sampled per sample (split equally among the experts).
        experts: Expert blocks per grid axis, ``(*space, t)``; all ones = one hard constraint.
        lm: :class:`LMSettings` (iterations, tolerance, ridge, on_fail); None: defaults.
        pde_weight: Scale of the PDE rows (e.g. the time span, to use nondimensional time).
        partition_initial: Route initial/boundary rows to the expert owning their location
            (the paper's Navier–Stokes setup) instead of giving all rows to every expert.
        row_weight: Scale of the initial/boundary rows; None balances the means, √(M_k / R)
            for M_k PDE points and R rows per expert, so that the solver minimises the same
            mean-weighted objective as :meth:`physics_loss`.
        row_scale: Extra factor on the rows (both in the solve and, squared, in
            :meth:`physics_loss`): weight of the initial/boundary conditions against the PDE.
        skip_initial_time: Sample PDE points at t > 0 only (t = 0 is fixed by the initial
            rows; finite differences of an initial jump against the boundary value are large).
            PDE points are drawn from :meth:`SpaceTimeGrid.residual_mask` (t = 0 included
            only with False; central time differences only).
        warm_start: Where each expert's LM starts. ``"rows"``: the ridge least-squares fit of
            the (linear) initial/boundary rows. ``"global"`` (experts only): first one LM
            solve per sample over the whole domain, with as many PDE points as one expert
            (M/K, drawn from every block) and the global rows; every expert starts from its
            weights. A departure from the paper (independent expert solves; the reference code
            starts from w = 1), in the spirit of the coarse solve of two-level domain
            decomposition. On diffusion–sorption with basis functions that contain the
            discrete solution (so that it solves every expert's problem exactly), the LM of
            the expert whose block holds the front stopped in local minima from the rows
            start (its field 0.2-0.6 rel L2 from the solution), and every expert reached the
            solution from the global start. Costs one extra problem of an
            expert's size per sample; the implicit gradient is the same (it depends only on
            the solution w*, not on the path to it).
        constraints: The initial/boundary rows (:class:`~sciml.physics.GridConstraints`, from
            the problem's boundary conditions); None: the PDE's own ``constraint_rows``.
        expert_parallel: Under torch.distributed (torchrun; gloo on CPU, NCCL on GPUs), solve
            the experts across the ranks of the default process group: every rank runs the
            same backbone on the same batch, rank r solves its contiguous block of experts and
            the weights of all experts are gathered, so every rank returns the same field and
            the parameters get the same gradients (the solver's gradients are summed over the
            ranks in the backward pass; see :mod:`sciml.physics._expert_parallel`). The same
            result as one process, up to rounding. Needs at most as many ranks as experts; no
            effect in one process.

    Shapes:
        - basis: (b, N, *space, n_t); initial: (b, *space) -> u: (b, *space, n_t)
    """

    def __init__(self, pde: AbstractPDE, grid: SpaceTimeGrid, n_points: int,
                 experts: Sequence[int], lm: LMSettings | None = None, pde_weight: float = 1.0,
                 partition_initial: bool = False, skip_initial_time: bool = True,
                 row_weight: float | None = None, row_scale: float = 1.0,
                 warm_start: str = "rows", constraints: AbstractConstraints | None = None,
                 expert_parallel: bool = False) -> None:
        super().__init__()
        self.expert_parallel = bool(expert_parallel)
        if warm_start not in WARM_STARTS:
            raise ValueError(f"warm_start must be one of {list(WARM_STARTS)}, got "
                             f"{warm_start!r}")
        self.warm_start = warm_start
        self.pde, self.lm = pde, lm if lm is not None else LMSettings()
        if not isinstance(grid, SpaceTimeGrid):
            raise TypeError(f"grid must be a SpaceTimeGrid, got {type(grid).__name__}")
        self.grid = grid
        self.constraints = constraints if constraints is not None else PDEConstraintRows(pde,
                                                                                         grid)
        self.grid_shape = grid.shape
        self.spatial_dims = grid.spatial_dims
        if self.spatial_dims != pde.spatial_dims:
            raise ValueError(f"grid_shape {self.grid_shape} has {self.spatial_dims} spatial axes "
                             f"but PDE {pde.name!r} has {pde.spatial_dims}")
        self.d = grid.derivatives()
        self.experts = tuple(experts)
        self.register_buffer("expert_index", expert_partition(self.grid_shape, self.experts),
                             persistent=False)
        self.n_experts = math.prod(self.experts)
        if isinstance(n_points, bool) or not isinstance(n_points, int) \
                or n_points < self.n_experts:
            raise ValueError(f"n_points must be an integer >= the number of experts "
                             f"({self.n_experts}), got {n_points!r}")
        self.points_per_expert = n_points // self.n_experts
        self.pde_weight, self.partition_initial = float(pde_weight), bool(partition_initial)
        self.row_weight = None if row_weight is None else float(row_weight)
        self.row_scale = float(row_scale)
        rec = _Recorder(self.spatial_dims)
        probe = torch.zeros(1, 3)
        pde.residual(probe, rec, torch.zeros(1, 3, self.spatial_dims + 1))
        self.op_names = tuple(sorted(rec.names))
        self.register_buffer("pde_mask", grid.residual_mask(pde), persistent=False)
        allowed = self.pde_mask.clone()
        if skip_initial_time:
            allowed[..., 0] = False
        elif grid.time_scheme != "central":
            raise ValueError(f"skip_initial_time=False needs the central time scheme (the "
                             f"{grid.time_scheme!r} differences have no value at t = 0)")
        allowed = allowed.flatten()
        self._members = [((self.expert_index == k) & allowed).nonzero().flatten()
                         for k in range(self.n_experts)]
        self._all_members = allowed.nonzero().flatten()
        if any(len(m) == 0 for m in self._members):
            raise ValueError(f"experts {self.experts} leave a block without PDE points on grid "
                             f"{self.grid_shape}")

    def extra_repr(self) -> str:
        return (f"pde={self.pde.name}, grid={self.grid_shape}, experts={self.experts}, "
                f"points_per_expert={self.points_per_expert}, ops={self.op_names}, "
                f"warm_start={self.warm_start!r}, constraints={self.constraints!r}"
                + (", expert_parallel=True" if self.expert_parallel else ""))

    def operators(self, basis: Tensor) -> dict[str, Tensor]:
        """The derivatives the PDE needs, of every basis function on the grid."""
        out = {}
        for name in self.op_names:
            if name == "u":
                out[name] = basis
            elif name == "dt":
                out[name] = self.d.dt(basis)
            elif name.startswith("dxx"):
                out[name] = self.d.dxx(basis, int(name[3:]))
            elif name.startswith("dx"):
                out[name] = self.d.dx(basis, int(name[2:]))
            else:
                out[name] = self.d.velocity(basis, int(name[3:]))
        return out

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        """``(K, M_k)`` flat grid indices: M_k points drawn uniformly in each expert's block."""
        picks = []
        for members in self._members:
            j = torch.randint(len(members), (self.points_per_expert,), generator=generator)
            picks.append(members[j.to(members.device)])
        return torch.stack(picks)

    def _residual(self, w: Tensor, *tensors: Tensor) -> Tensor:
        ops, coords, a, c, weight = self._split(tensors)
        values = {name: (t @ w[:, :, None])[..., 0] for name, t in ops.items()}
        r_pde = self.pde.residual(values["u"], _Combined(values, self.spatial_dims), coords)
        r_rows = (a @ w[:, :, None])[..., 0] - c
        return torch.cat([self.pde_weight * r_pde, self.row_scale * weight * r_rows], dim=1)

    def _split(self, tensors: tuple[Tensor, ...]
               ) -> tuple[dict[str, Tensor], Tensor, Tensor, Tensor, float]:
        """The solver's inputs by name: operators, coordinates, rows ``a``, ``c``, row weight."""
        n_ops = len(self.op_names)
        ops, coords, a, c = tensors[:n_ops], tensors[n_ops], tensors[n_ops + 1], tensors[n_ops + 2]
        weight = self.row_weight
        if weight is None:
            weight = math.sqrt(ops[0].shape[1] / max(a.shape[1], 1))
        return dict(zip(self.op_names, ops, strict=True)), coords, a, c, weight

    def _pointwise(self, w: Tensor, ops: dict[str, Tensor], coords: Tensor, second: bool = False
                   ) -> tuple[Tensor, list[Tensor | None], list[list[Tensor | None]]]:
        """The PDE residual F at the sampled points and its derivatives in the per-point values
        v_O = O w of every operator O (u, u_t, u_xx, ...): ``∂F/∂v_i`` and, with ``second``,
        ``∂²F/∂v_i∂v_j`` (None where F does not depend on them).

        The residual at a point sees only the values there, so the gradient of the summed
        residual is, point by point, its derivative: one backward pass gives every ∂F/∂v_i, and
        one more per operator every second derivative.
        """
        names = list(ops)
        none: list[Tensor | None] = [None] * len(names)
        with torch.enable_grad():
            values = [(ops[n] @ w[:, :, None])[..., 0].detach().requires_grad_(True)
                      for n in names]
            v = dict(zip(names, values, strict=True))
            r_pde = self.pde.residual(v["u"], _Combined(v, self.spatial_dims), coords)
            slopes = list(torch.autograd.grad(r_pde.sum(), values, create_graph=second,
                                              allow_unused=True)) if r_pde.requires_grad else none
            curvature = [list(none) for _ in names]
            for i, slope in enumerate(slopes):
                if second and slope is not None and slope.requires_grad:
                    curvature[i] = list(torch.autograd.grad(slope.sum(), values,
                                                            retain_graph=True,
                                                            allow_unused=True))
        return r_pde.detach(), _detached(slopes), [_detached(row) for row in curvature]

    def _jacobian_rows(self, ops: dict[str, Tensor], slopes: list[Tensor | None], a: Tensor,
                       weight: float) -> Tensor:
        """The Jacobian of :meth:`_residual`: Σ_O ∂F/∂v_O · O for the PDE rows (scaled as
        there), the row matrix ``a`` for the linear initial/boundary rows."""
        jac_pde = torch.zeros_like(ops["u"])
        for name, slope in zip(ops, slopes, strict=True):
            if slope is not None:
                jac_pde = jac_pde + slope[..., None] * ops[name]
        return torch.cat([self.pde_weight * jac_pde, self.row_scale * weight * a], dim=1)

    def _residual_and_jacobian(self, w: Tensor, *tensors: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`_residual` and its Jacobian in ``w``, ``(P, M + R)`` and ``(P, M + R, N)``,
        from the pointwise derivatives (:meth:`_pointwise`): the same matrix up to rounding as
        one forward-mode derivative per basis function, at a fraction of the cost."""
        ops, coords, a, c, weight = self._split(tensors)
        r_pde, slopes, _ = self._pointwise(w, ops, coords)
        r_rows = (a @ w[:, :, None])[..., 0] - c
        r = torch.cat([self.pde_weight * r_pde, self.row_scale * weight * r_rows], dim=1)
        return r, self._jacobian_rows(ops, slopes, a, weight)

    def _hessian(self, w: Tensor, *tensors: Tensor) -> Tensor:
        """The exact Hessian of ½‖:meth:`_residual`‖² in ``w``, ``(P, N, N)`` (ridge excluded).

        JᵀJ plus the curvature of the PDE rows, Σ_m r_m ∇²r_m with ∇²r_m = Σ_ij ∂²F/∂v_i∂v_j
        O_i[m] O_j[m]ᵀ (:meth:`_pointwise`); the initial/boundary rows are linear and add none.
        """
        ops, coords, a, c, weight = self._split(tensors)
        r_pde, slopes, curvature = self._pointwise(w, ops, coords, second=True)
        jac = self._jacobian_rows(ops, slopes, a, weight)
        hess = jac.transpose(1, 2) @ jac
        names = list(ops)
        r_weighted = self.pde_weight**2 * r_pde
        for i, row in enumerate(curvature):
            for j, second in enumerate(row):
                if second is not None:
                    scaled = (r_weighted * second)[..., None] * ops[names[j]]
                    hess = hess + ops[names[i]].transpose(1, 2) @ scaled
        return hess

    def _rows(self, basis: Tensor, initial: Tensor) -> tuple[Tensor, Tensor]:
        """Initial/boundary rows per (sample, expert): ``(b K, R, N)`` and ``(b K, R)``."""
        a, c, where = self.constraints.rows(basis, initial)
        b, k = basis.shape[0], self.n_experts
        if not self.partition_initial or k == 1:
            return (a[:, None].expand(b, k, *a.shape[1:]).reshape(b * k, *a.shape[1:]),
                    c[:, None].expand(b, k, c.shape[1]).reshape(b * k, c.shape[1]))
        flat = torch.zeros(where.shape[0], dtype=torch.long, device=where.device)
        for axis, n in enumerate(self.grid_shape):
            flat = flat * n + where[:, axis]
        owner = self.expert_index.to(where.device)[flat]
        width = int(torch.bincount(owner, minlength=k).max())
        a_out = a.new_zeros(b, k, width, a.shape[2])
        c_out = c.new_zeros(b, k, width)
        for e in range(k):
            rows = (owner == e).nonzero().flatten()
            a_out[:, e, : len(rows)] = a[:, rows]
            c_out[:, e, : len(rows)] = c[:, rows]
        return a_out.reshape(b * k, width, -1), c_out.reshape(b * k, width)

    def forward(self, basis: Tensor, initial: Tensor, generator: torch.Generator | None = None
                ) -> tuple[Tensor, HCInfo]:
        """Solve every expert's weights and assemble u = b·w_k on each block.

        Args:
            basis: ``(b, N, *space, n_t)`` basis functions from the backbone.
            initial: ``(b, *space)`` initial state.
            generator: Random generator for the sampled points (None: torch's global one).

        Returns:
            The constrained field ``(b, *space, n_t)`` (basis dtype) and :class:`HCInfo`.
        """
        if basis.ndim != len(self.grid_shape) + 2 or tuple(basis.shape[2:]) != self.grid_shape:
            grid = ", ".join(map(str, self.grid_shape))
            raise ValueError(f"basis must have shape (batch, N, {grid}), got "
                             f"{tuple(basis.shape)}")
        b, n = basis.shape[:2]
        k = self.n_experts
        basis64 = basis.to(torch.float64)
        operators = self.operators(basis64)
        ranks = expert_ranks(k) if self.expert_parallel else None
        idx = self.sample(generator).to(basis.device)                      # (K, M)
        if ranks is not None:
            idx = ranks.agree(idx)  # every rank's draw is rank 0's
        ops, coords = self._gather(operators, idx)
        a, c = self._rows(basis64, initial.to(torch.float64))
        if self.warm_start == "global" and k > 1:
            w0 = self._global_start(operators, basis64, initial.to(torch.float64), generator,
                                    ranks)
        else:
            w0 = self._initial_weights(a, c)
        names = [f"sample {i} expert {e}" for i in range(b) for e in range(k)]
        tensors = (*ops, coords, a, c)
        if ranks is None:
            w, info = implicit_least_squares(self._residual, w0, tensors, self.lm, names,
                                             self._residual_and_jacobian, self._hessian)
            w = w.reshape(b, k, n)
            iterations, rms, converged = (info.iterations.reshape(b, k), info.rms.reshape(b, k),
                                          info.converged.reshape(b, k))
        else:
            # this rank's experts only; the gradients of all experts' inputs are summed over
            # the ranks (see sciml.physics._expert_parallel)
            grad = [i for i, t in enumerate(tensors) if t.requires_grad]
            summed = ranks.sum_gradients(*(tensors[i] for i in grad)) if grad else ()
            tensors = tuple(summed[grad.index(i)] if i in grad else t
                            for i, t in enumerate(tensors))
            mine = ranks.problems(b, basis.device)
            w_mine, info = implicit_least_squares(
                self._residual, w0[mine], tuple(t[mine] for t in tensors), self.lm,
                [names[i] for i in mine.tolist()], self._residual_and_jacobian, self._hessian)
            k_mine = ranks.stop - ranks.start
            w = ranks.gather(w_mine.reshape(b, k_mine, n))
            iterations, rms, converged = gather_info(
                ranks, info.iterations.reshape(b, k_mine), info.rms.reshape(b, k_mine),
                info.converged.reshape(b, k_mine))
        per_point = w[:, self.expert_index]                                 # (b, G, N)
        u = torch.einsum("bng,bgn->bg", basis64.flatten(2), per_point)
        u = u.reshape(b, *self.grid_shape).to(basis.dtype)
        return u, HCInfo(iterations, rms, converged, w.to(basis.dtype))

    def _gather(self, operators: dict[str, Tensor], idx: Tensor) -> tuple[list[Tensor], Tensor]:
        """The operators at grid points ``idx`` (P problems × M points) per sample: ``(b P, M,
        N)`` each, and the points' coordinates ``(b P, M, d + 1)``."""
        p, m = idx.shape
        ops = []
        for t in operators.values():
            b, n = t.shape[:2]
            g = t.flatten(2)[:, :, idx.flatten()]                           # (b, N, P M)
            ops.append(g.reshape(b, n, p, m).permute(0, 2, 3, 1).reshape(b * p, m, n))
        coords = self.grid.coordinates(idx)[None].expand(b, p, m, -1).reshape(b * p, m, -1)
        return ops, coords

    def _global_start(self, operators: dict[str, Tensor], basis: Tensor, initial: Tensor,
                      generator: torch.Generator | None, ranks: ExpertRanks | None = None
                      ) -> Tensor:
        """Starting weights ``(b K, N)`` for the experts: one LM solve per sample over the whole
        domain with M/K points and the global rows (see ``warm_start``), repeated per expert
        (on every rank alike under expert parallelism: ``ranks``)."""
        members = self._all_members
        j = torch.randint(len(members), (1, self.points_per_expert), generator=generator)
        idx = members[j.to(members.device)].to(basis.device)
        if ranks is not None:
            idx = ranks.agree(idx)
        with torch.no_grad():                       # a starting point: no gradient needed
            ops, coords = self._gather(operators, idx)
            a, c, _ = self.constraints.rows(basis, initial)
            w, _ = levenberg_marquardt(self._residual, self._initial_weights(a, c),
                                       (*ops, coords, a, c), self.lm,
                                       self._residual_and_jacobian)
        return w.repeat_interleave(self.n_experts, dim=0)

    def expert_physics_loss(self, basis: Tensor, weights: Tensor, initial: Tensor
                            ) -> tuple[Tensor, Tensor]:
        """Physics loss with each expert's own (smooth) field b·w_k on its block.

        The PDE residual at a grid point is that of the field of the expert owning it, with
        finite differences of that field (so the loss does not see the jumps between blocks);
        the initial/boundary rows are those of the assembled field. With one expert this is
        :meth:`physics_loss`.

        Args:
            basis: ``(b, N, *space, n_t)``; weights: ``(b, K, N)`` (``HCInfo.weights``);
            initial: ``(b, *space)``.
        """
        fields = torch.einsum("bn...,bkn->bk...", basis, weights)           # (b, K, *grid)
        coords = self.grid.coordinates().to(device=basis.device, dtype=basis.dtype)
        r = self.pde.residual(fields, self.d, coords) * self.pde_weight
        owner = self.expert_index.reshape(self.grid_shape)
        mask = torch.stack([owner == e for e in range(self.n_experts)])    # (K, *grid)
        r_own = (r * mask).sum(1)
        u = (fields * mask).sum(1)
        a, c, _ = self.constraints.rows(u[:, None], initial.to(u.dtype))
        return (r_own[:, self.pde_mask].square().mean(),
                self.row_scale**2 * (a[..., 0] - c).square().mean())

    def _initial_weights(self, a: Tensor, c: Tensor) -> Tensor:
        """Start LM from the ridge least-squares fit of the (linear) initial/boundary rows."""
        with torch.no_grad():
            ata = a.transpose(1, 2) @ a
            scale = ata.diagonal(dim1=1, dim2=2).mean(1).clamp_min(1e-12)
            eye = torch.eye(a.shape[2], dtype=a.dtype, device=a.device)
            rhs = a.transpose(1, 2) @ c[..., None]
            return torch.linalg.solve(ata + 1e-6 * scale[:, None, None] * eye, rhs)[..., 0]

    def physics_loss(self, u: Tensor, initial: Tensor) -> tuple[Tensor, Tensor]:
        """:func:`grid_physics_loss` of ``u`` on this layer's grid with its ``pde_weight`` (the
        rows term times ``row_scale²``)."""
        pde, rows = grid_physics_loss(self.pde, self.grid, u, initial, self.pde_weight,
                                      self.constraints)
        return pde, self.row_scale**2 * rows
