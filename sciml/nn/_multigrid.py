"""Multigrid convolution: one learnable multichannel V-cycle on a regular grid (MgNO's linear map).

He, Liu, Xu, "MgNO: Efficient Parameterization of Linear Operators via Multigrid", ICLR 2024.
Boundary conditions enter through the padding of every convolution (``"dirichlet"`` -> zeros,
``"periodic"`` -> circular, ``"neumann"`` -> reflect), so one set of weights serves every
boundary type and every grid size, odd sizes included. Zero padding is done by the convolution
itself; circular padding by :func:`circular_pad` (PyTorch's pad with a faster backward); reflect
by :func:`torch.nn.functional.pad`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

__all__ = [
    "BOUNDARY_PADDING",
    "padding_mode",
    "auto_levels",
    "grid_hierarchy",
    "MultigridConv",
]

#: Padding mode of the grid convolutions for each boundary condition.
BOUNDARY_PADDING = {"dirichlet": "zeros", "periodic": "circular", "neumann": "reflect"}

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_CONV_FN = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
_CONV_T_FN = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def padding_mode(boundary: str) -> str:
    """The padding mode (``"zeros"``, ``"circular"``, ``"reflect"``) of a boundary condition."""
    if boundary not in BOUNDARY_PADDING:
        raise ValueError(f"unknown boundary {boundary!r}; valid: {', '.join(BOUNDARY_PADDING)}")
    return BOUNDARY_PADDING[boundary]


def _sizes(size: int | Sequence[int]) -> tuple[int, ...]:
    sizes = (size,) if isinstance(size, int) else tuple(size)
    if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"grid size must be a positive integer or a sequence of them, "
                         f"got {size!r}")
    return sizes


def grid_hierarchy(size: int | Sequence[int], levels: int) -> list[tuple[int, ...]]:
    """Grid sizes of the ``levels`` levels, finest first: each level halves, ``n -> ceil(n / 2)``.

    A stride-2 convolution keeps the fine points ``0, 2, 4, ...``: a vertex grid of ``2^k + 1``
    points coarsens to ``2^(k-1) + 1`` points with the same end points, a periodic grid of ``2m``
    points to ``m`` points.
    """
    sizes = _sizes(size)
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise ValueError(f"levels must be an integer >= 1, got {levels!r}")
    out = [sizes]
    for _ in range(levels - 1):
        out.append(tuple((s + 1) // 2 for s in out[-1]))
    return out


def auto_levels(size: int | Sequence[int], min_coarse: int = 4) -> int:
    """The largest number of levels whose coarsest grid keeps at least ``min_coarse`` points per
    dimension (at least 1 level): 64 -> 5 (64, 32, 16, 8, 4), 33 -> 4 (33, 17, 9, 5)."""
    sizes = _sizes(size)
    if isinstance(min_coarse, bool) or not isinstance(min_coarse, int) or min_coarse < 1:
        raise ValueError(f"min_coarse must be an integer >= 1, got {min_coarse!r}")
    levels = 1
    while all((s + 1) // 2 >= min_coarse for s in sizes):
        sizes = tuple((s + 1) // 2 for s in sizes)
        levels += 1
    return levels


def _fold_circular(g: Tensor, pads: tuple[tuple[int, int], ...]) -> Tensor:
    """Adjoint of circular padding: each padded entry is added back onto the point it copies.

    One copy of the interior, then one in-place add per edge and corner region (3^ndim - 1).
    """
    sizes = [g.shape[2 + d] - left - right for d, (left, right) in enumerate(pads)]
    interior = tuple(slice(left, left + n) for (left, _), n in zip(pads, sizes, strict=True))
    out = g[(Ellipsis, *interior)].clone(memory_format=torch.contiguous_format)
    # per dimension: (source in the padded field, target in the field); padded index i < left
    # copies point n - left + i, padded index left + n + i copies point i
    choices = [[(slice(left, left + n), slice(0, n)), (slice(0, left), slice(n - left, n)),
                (slice(left + n, left + n + right), slice(0, right))]
               for (left, right), n in zip(pads, sizes, strict=True)]
    for combo in itertools.product(range(3), repeat=len(pads)):
        regions = [choices[d][c] for d, c in enumerate(combo)]
        if not any(combo) or any(src.stop <= src.start for src, _ in regions):
            continue  # the interior itself, or a side without padding
        out[(Ellipsis, *(dst for _, dst in regions))] += g[(Ellipsis,
                                                            *(src for src, _ in regions))]
    return out


def _flat_pads(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    # F.pad takes (left, right) pairs from the last dimension backwards
    return tuple(p for pair in reversed(pads) for p in pair)


class _CircularPad(torch.autograd.Function):
    """``F.pad(mode="circular")`` with a fast backward. Measured here (2 threads, a
    (8, 40, 64, 64) float32 field, pad by 1): PyTorch's circular pad, forward and backward, 7-8 ms,
    about a third of the 3×3 convolution it feeds; with this fold 1.5 ms (zero padding: 0.8 ms).
    Twice differentiable (the adjoint of the fold is the pad)."""

    @staticmethod
    def forward(ctx, x: Tensor, pads: tuple[tuple[int, int], ...]) -> Tensor:  # type: ignore[override]
        ctx.pads = pads
        return F.pad(x, _flat_pads(pads), mode="circular")

    @staticmethod
    def backward(ctx, g: Tensor):  # type: ignore[override]
        return _CircularFold.apply(g, ctx.pads), None


class _CircularFold(torch.autograd.Function):
    @staticmethod
    def forward(ctx, g: Tensor, pads: tuple[tuple[int, int], ...]) -> Tensor:  # type: ignore[override]
        ctx.pads = pads
        return _fold_circular(g, pads)

    @staticmethod
    def backward(ctx, gg: Tensor):  # type: ignore[override]
        return _CircularPad.apply(gg, ctx.pads), None


def circular_pad(x: Tensor, pads: Sequence[tuple[int, int]]) -> Tensor:
    """Periodic padding of the spatial dimensions of ``x`` ``(B, C, *spatial)``.

    Args:
        x: Field, channel first.
        pads: One ``(left, right)`` pair per spatial dimension, each at most that dimension's size.

    Returns:
        The padded field; equal to ``F.pad(x, ..., mode="circular")``, with a faster backward.
    """
    pads = tuple((int(left), int(right)) for left, right in pads)
    if len(pads) != x.ndim - 2:
        raise ValueError(f"pads must give one (left, right) pair per spatial dimension "
                         f"({x.ndim - 2}), got {pads}")
    for n, (left, right) in zip(x.shape[2:], pads, strict=True):
        if min(left, right) < 0 or max(left, right) > n:
            raise ValueError(f"circular padding ({left}, {right}) needs 0 <= pad <= size "
                             f"({n}) in every dimension")
    return _CircularPad.apply(x, pads)


def _pad(x: Tensor, pads: tuple[tuple[int, int], ...], mode: str) -> Tensor:
    """Pad the spatial dimensions by ``(left, right)`` per dimension in a boundary's mode."""
    if mode == "circular":  # sizes were checked against the levels already
        return _CircularPad.apply(x, pads)
    return F.pad(x, _flat_pads(pads), mode="constant" if mode == "zeros" else mode)


def _per_level(value: int | Sequence[int], levels: int, name: str, minimum: int) -> tuple[int, ...]:
    counts = (value,) * levels if isinstance(value, int) else tuple(value)
    if len(counts) != levels:
        raise ValueError(f"{name} must be an integer or a list of {levels} integers (one per "
                         f"level), got {value!r}")
    if any(isinstance(c, bool) or not isinstance(c, int) or c < minimum for c in counts):
        raise ValueError(f"{name} entries must be integers >= {minimum}, got {value!r}")
    return counts


class MultigridConv(nn.Module):
    r"""One multichannel V-cycle as a learnable linear operator :math:`f \mapsto u`.

    He, Liu, Xu, *MgNO: Efficient Parameterization of Linear Operators via Multigrid*, ICLR 2024
    (Algorithm 1). On level :math:`\ell` (0 = finest), starting from :math:`u^0 = 0`:

    .. math::
        u^\ell &\leftarrow u^\ell + S^{\ell,i} * (f^\ell - A^\ell * u^\ell),
                \quad i = 1..\nu_\ell \quad\text{(pre-smoothing)}\\
        f^{\ell+1} &= R^{\ell} *_2 (f^\ell - A^\ell * u^\ell), \qquad
        u^{\ell+1} = \Pi^{\ell} *_2 u^\ell \quad\text{(restriction, stride 2)}\\
        u^\ell &\leftarrow u^\ell + P^{\ell} *_2^{T} u^{\ell+1}
                \quad\text{(prolongation, transposed stride 2, coarse to fine)}

    followed by ``num_post_smooth`` post-smoothing steps after the coarse correction (on the
    coarsest level they follow the pre-smoothing steps directly). As in the
    paper, :math:`A^\ell` is one convolution per level shared by its smoothing steps and the
    residual, and each step has its own :math:`S^{\ell,i}`. The reference code
    (github.com/xlliu2017/MgNO) restricts :math:`f` itself by default (``use_res=False``) and has
    one :math:`A` per step; ``restrict_residual=False`` gives the former.

    Odd sizes: restriction maps ``n`` points to ``ceil(n/2)`` (coarse point ``i`` sits on fine point
    ``2i``); prolongation is a transposed convolution whose output size is the fine size known at
    run time (fine point ``2i`` takes coarse point ``i``, fine point ``2i + 1`` coarse points ``i``
    and ``i + 1``, the one beyond the last coarse point given by the boundary's padding). With
    circular padding and every level of even size the layer commutes with circular shifts by
    multiples of ``2^(levels-1)`` points.

    Args:
        in_channels: Channels of the input ``f``.
        out_channels: Channels of the output ``u``.
        ndim: Spatial dimensions (1, 2 or 3).
        levels: Number of grids, the finest included (1 = no coarsening).
        num_smooth: Pre-smoothing steps per level: an int for all levels or one per level
            (each >= 1).
        num_post_smooth: Post-smoothing steps per level (int or one per level, >= 0).
        kernel_size: Odd kernel size of the smoothers ``A`` and ``S``.
        boundary: Default boundary condition: ``"dirichlet"``, ``"periodic"`` or ``"neumann"``.
        restrict_residual: Restrict the residual ``f - A u`` (paper) rather than ``f`` (reference).

    Shapes:
        - f: (B, C_in, *spatial) -> (B, C_out, *spatial), each coarsest size >= max(2, k // 2 + 1).
    """

    def __init__(
        self, in_channels: int, out_channels: int, ndim: int, levels: int,
        num_smooth: int | Sequence[int] = 1, num_post_smooth: int | Sequence[int] = 0,
        kernel_size: int = 3, boundary: str = "dirichlet", restrict_residual: bool = True,
    ) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if ndim not in _CONV:
            raise ValueError(f"ndim must be 1, 2 or 3, got {ndim!r}")
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ValueError(f"levels must be an integer >= 1, got {levels!r}")
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or (
                kernel_size < 1 or kernel_size % 2 == 0):
            raise ValueError(f"kernel_size must be an odd integer >= 1, got {kernel_size!r}")
        padding_mode(boundary)
        self.in_channels, self.out_channels, self.ndim = in_channels, out_channels, ndim
        self.levels, self.kernel_size, self.boundary = levels, kernel_size, boundary
        self.restrict_residual = bool(restrict_residual)
        self.num_smooth = _per_level(num_smooth, levels, "num_smooth", 1)
        self.num_post_smooth = _per_level(num_post_smooth, levels, "num_post_smooth", 0)
        conv, conv_t, k = _CONV[ndim], _CONV_T[ndim], kernel_size

        def smoother(cin: int, cout: int) -> nn.Module:
            return conv(cin, cout, k, padding=0, bias=False)

        # A^l: u -> f space; S^{l,i}: f -> u space (pre steps, then post steps). The finest level
        # starts from u = 0, so its A is used only by a second smoothing step or by the
        # restriction of the residual; without either it is left out (no dead parameters).
        uses_a0 = self.num_smooth[0] + self.num_post_smooth[0] > 1 or (
            self.restrict_residual and levels > 1)
        self.A = nn.ModuleList([smoother(out_channels, in_channels) if lv > 0 or uses_a0
                                else nn.Identity() for lv in range(levels)])
        self._register_load_state_dict_pre_hook(self._drop_unused_a0)
        self.S = nn.ModuleList([
            nn.ModuleList([smoother(in_channels, out_channels)
                           for _ in range(self.num_smooth[lv] + self.num_post_smooth[lv])])
            for lv in range(levels)
        ])
        self.restrict_u = nn.ModuleList([conv(out_channels, out_channels, 3, stride=2, bias=False)
                                         for _ in range(levels - 1)])
        self.restrict_f = nn.ModuleList([conv(in_channels, in_channels, 3, stride=2, bias=False)
                                         for _ in range(levels - 1)])
        self.prolong = nn.ModuleList([conv_t(out_channels, out_channels, 3, stride=2, bias=False)
                                      for _ in range(levels - 1)])

    def _drop_unused_a0(self, state_dict: dict, prefix: str, *args) -> None:
        # checkpoints written before the unused finest-level A was left out still carry it
        if isinstance(self.A[0], nn.Identity):
            state_dict.pop(prefix + "A.0.weight", None)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                              nn.ConvTranspose2d, nn.ConvTranspose3d)):
                m.reset_parameters()

    @property
    def min_size(self) -> int:
        """Fewest points per dimension the coarsest level may have."""
        return max(2, self.kernel_size // 2 + 1)

    def check_size(self, spatial: Sequence[int]) -> None:
        """Raise ValueError when a grid of size ``spatial`` is too small for the levels."""
        coarsest = grid_hierarchy(tuple(spatial), self.levels)[-1]
        if min(coarsest) < self.min_size:
            raise ValueError(
                f"grid of size {tuple(spatial)} is too small for levels={self.levels}: the "
                f"coarsest level would have {coarsest} points, need >= {self.min_size} per "
                f"dimension; use fewer levels (at most "
                f"{auto_levels(tuple(spatial), self.min_size)})"
            )

    def _padded_conv(self, conv: nn.Module, x: Tensor, width: int, mode: str) -> Tensor:
        if mode == "zeros":  # the convolution pads with zeros itself, without a padded copy
            return _CONV_FN[self.ndim](x, conv.weight, conv.bias, stride=conv.stride,
                                       padding=width)
        return conv(_pad(x, ((width, width),) * self.ndim, mode) if width else x)

    def _smooth(self, conv: nn.Module, x: Tensor, mode: str) -> Tensor:
        return self._padded_conv(conv, x, self.kernel_size // 2, mode)

    def _restrict(self, conv: nn.Module, x: Tensor, mode: str) -> Tensor:
        return self._padded_conv(conv, x, 1, mode)

    def _prolong(self, conv: nn.Module, coarse: Tensor, fine_size: Sequence[int],
                 mode: str) -> Tensor:
        # y[j] = sum_m x[m] w[j + 1 - 2m] (a transposed convolution with padding 1): fine point 2n
        # takes coarse point n, fine point 2n + 1 coarse points n and n + 1. Only the last coarse
        # point's right neighbour lies outside the grid: with zero padding it drops out, so the
        # output size is set exactly (no padded copy, no crop); other modes pad one coarse point
        # on the right in their own mode and crop the surplus fine point.
        if mode == "zeros":
            extra = tuple(f - (2 * c - 1)
                          for f, c in zip(fine_size, coarse.shape[2:], strict=True))
            return _CONV_T_FN[self.ndim](coarse, conv.weight, None, stride=2, padding=1,
                                         output_padding=extra)
        padded = _pad(coarse, ((0, 1),) * self.ndim, mode)
        full = _CONV_T_FN[self.ndim](padded, conv.weight, None, stride=2, padding=1)
        return full[(Ellipsis,) + tuple(slice(0, n) for n in fine_size)]

    def forward(
        self, f: Float[Tensor, "b c_in *spatial"], boundary: str | None = None
    ) -> Float[Tensor, "b c_out *spatial"]:
        """Apply one V-cycle to ``f``.

        Args:
            f: Input field, channel first.
            boundary: Boundary condition overriding the layer's default (None = default).

        Returns:
            The output field ``u`` on the same grid.
        """
        if f.ndim != self.ndim + 2 or f.shape[1] != self.in_channels:
            raise ValueError(f"f must have shape (batch, {self.in_channels}, "
                             f"{', '.join(['n'] * self.ndim)}), got {tuple(f.shape)}")
        mode = padding_mode(self.boundary if boundary is None else boundary)
        self.check_size(f.shape[2:])
        us: list[Tensor] = []
        fs: list[Tensor] = []
        u: Tensor | None = None
        for lv in range(self.levels):
            if lv > 0:
                prev_u, prev_f = us[-1], fs[-1]
                r = prev_f - self._smooth(self.A[lv - 1], prev_u, mode) if self.restrict_residual \
                    else prev_f
                f = self._restrict(self.restrict_f[lv - 1], r, mode)
                u = self._restrict(self.restrict_u[lv - 1], prev_u, mode)
            # on the coarsest level pre- and post-smoothing follow each other directly
            last = lv == self.levels - 1
            for i in range(self.num_smooth[lv] + (self.num_post_smooth[lv] if last else 0)):
                u = self._step(lv, i, u, f, mode)
            us.append(u)
            fs.append(f)
        u = us[-1]
        for lv in range(self.levels - 2, -1, -1):
            u = us[lv] + self._prolong(self.prolong[lv], u, us[lv].shape[2:], mode)
            for i in range(self.num_post_smooth[lv]):
                u = self._step(lv, self.num_smooth[lv] + i, u, fs[lv], mode)
        return u

    def _step(self, lv: int, i: int, u: Tensor | None, f: Tensor, mode: str) -> Tensor:
        """One smoothing step ``u + S(f - A u)``; with ``u = 0`` (finest level, first step) it is
        ``S(f)``."""
        if u is None:
            return self._smooth(self.S[lv][i], f, mode)
        return u + self._smooth(self.S[lv][i], f - self._smooth(self.A[lv], u, mode), mode)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, ndim={self.ndim}, levels={self.levels}, "
                f"num_smooth={list(self.num_smooth)}, num_post_smooth={list(self.num_post_smooth)}"
                f", kernel_size={self.kernel_size}, boundary={self.boundary!r}, "
                f"restrict_residual={self.restrict_residual}")

