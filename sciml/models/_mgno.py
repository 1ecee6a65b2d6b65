"""MgNO: the multigrid neural operator (He, Liu, Xu, ICLR 2024), registered as ``"mgno"``."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import torch
from jaxtyping import Float
from torch import Tensor, nn

from sciml.errors import ConfigError
from sciml.models._base import AbstractModel
from sciml.nn import (
    ACTIVATIONS,
    BOUNDARY_PADDING,
    MultigridConv,
    auto_levels,
    make_activation,
    resample_grid,
)
from sciml.registry import MODELS

__all__ = ["MgNO", "MgNOConfig", "MgNOLayer"]

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
# a V-cycle weight: layer prefix, operator, level (A, S) or level pair (transfers), the rest
_LEVEL_KEY = re.compile(r"^(layers\.\d+\.mg\.)(A|S|restrict_u|restrict_f|prolong)\.(\d+)(\..+)$")


def _positive_int(value: object, name: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class MgNOConfig:
    """Configuration of :class:`MgNO`.

    Args: width: channels of the hidden fields; n_layers: number of MgNO layers; levels: grids per
    V-cycle, the finest included (None = as many as keep the coarsest grid of the training
    ``resolution`` at >= 4 points, or the length of ``num_smooth`` when that is a list);
    num_smooth: pre-smoothing steps, one int for all levels or one per level; num_post_smooth:
    post-smoothing steps (int or per level); kernel_size: odd kernel size of the smoothers;
    boundary: ``"dirichlet"`` (zero padding), ``"periodic"`` (circular) or ``"neumann"``
    (reflect); activation: nonlinearity name (see :data:`sciml.nn.ACTIVATIONS`);
    residual_output: add the input state to the output (time stepping, ``u + Δu``);
    restrict_residual: restrict ``f - A u`` (paper) instead of ``f`` (reference code);
    projection_hidden: hidden channels of a two-layer 1×1 projection (0 = one linear 1×1 map);
    zero_init_output: start the projection's last layer at zero, so that the model's output is
    0 at initialisation: a residual time stepper (``u_{k+1} = u_k + G(u_k)``) then starts at
    persistence instead of adding random increments that compound over the rollout (2-D
    Navier–Stokes, 10-step rollouts, 20 epochs, the mgno_vs_fno setting: test rel L2 0.078 at
    128² with it against 0.244 without, one seed); the other weights are drawn as without it;
    resolution_transfer: on another grid than the training ``resolution``, run the network on
    the training grid (input resampled there, output interpolated back; see :class:`MgNO`);
    False: run it on the input's own grid with stencils in grid points (the behaviour before
    this option, whose answer scales with the grid spacing). Identical outputs at the training
    resolution either way.
    """

    width: int = 32
    n_layers: int = 4
    levels: int | None = None
    num_smooth: int | tuple[int, ...] = 1
    num_post_smooth: int | tuple[int, ...] = 0
    kernel_size: int = 3
    boundary: str = "dirichlet"
    activation: str = "gelu"
    residual_output: bool = False
    restrict_residual: bool = True
    projection_hidden: int = 0
    zero_init_output: bool = False
    resolution_transfer: bool = True

    def __post_init__(self) -> None:
        _positive_int(self.width, "width")
        _positive_int(self.n_layers, "n_layers")
        _positive_int(self.projection_hidden, "projection_hidden", 0)
        if self.levels is not None:
            _positive_int(self.levels, "levels")
        if isinstance(self.kernel_size, bool) or not isinstance(self.kernel_size, int) or (
                self.kernel_size < 1 or self.kernel_size % 2 == 0):
            raise ValueError(f"kernel_size must be an odd integer >= 1, got {self.kernel_size!r}")
        for name, minimum in (("num_smooth", 1), ("num_post_smooth", 0)):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                value = tuple(value)
                object.__setattr__(self, name, value)
                if not value:
                    raise ValueError(f"{name} must not be an empty list")
                for v in value:
                    _positive_int(v, name, minimum)
                if self.levels is not None and len(value) != self.levels:
                    raise ValueError(f"{name} has {len(value)} entries but levels={self.levels}; "
                                     f"give one per level or a single integer")
            else:
                _positive_int(value, name, minimum)
        lists = [len(v) for v in (self.num_smooth, self.num_post_smooth) if isinstance(v, tuple)]
        if len(lists) == 2 and lists[0] != lists[1]:
            raise ValueError(f"num_smooth and num_post_smooth have different lengths {lists}")
        if self.boundary not in BOUNDARY_PADDING:
            raise ValueError(f"boundary must be one of {list(BOUNDARY_PADDING)}, "
                             f"got {self.boundary!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, "
                             f"got {self.activation!r}")
        for name in ("residual_output", "restrict_residual", "resolution_transfer",
                     "zero_init_output"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")


class MgNOLayer(nn.Module):
    r"""One MgNO layer, :math:`u \leftarrow \sigma(\mathcal W^{Mg} u + W u + b)`.

    He, Liu, Xu, ICLR 2024, Eq. (3): the V-cycle :class:`~sciml.nn.MultigridConv` is the nonlocal
    linear operator, :math:`W` a pointwise (1×1) linear map and :math:`b` a constant bias per
    channel (so that the layer is resolution independent).

    Shapes:
        - u: (B, C_in, *spatial) -> (B, C_out, *spatial)
    """

    def __init__(self, in_channels: int, out_channels: int, ndim: int, levels: int,
                 num_smooth: int | Sequence[int] = 1, num_post_smooth: int | Sequence[int] = 0,
                 kernel_size: int = 3, boundary: str = "dirichlet", activation: str = "gelu",
                 restrict_residual: bool = True) -> None:
        super().__init__()
        self.mg = MultigridConv(in_channels, out_channels, ndim, levels, num_smooth,
                                num_post_smooth, kernel_size, boundary, restrict_residual)
        self.linear = _CONV[ndim](in_channels, out_channels, 1)
        self.act = make_activation(activation)

    def reset_parameters(self) -> None:
        self.mg.reset_parameters()
        self.linear.reset_parameters()

    def forward(self, u: Float[Tensor, "b c_in *spatial"],
                boundary: str | None = None) -> Float[Tensor, "b c_out *spatial"]:
        """Apply the layer; ``boundary`` overrides the layer's default boundary condition."""
        return self.act(self.mg(u, boundary) + self.linear(u))


@MODELS.register("mgno", MgNOConfig)
class MgNO(AbstractModel):
    r"""Multigrid neural operator: lifting, ``n_layers`` MgNO layers, projection.

    He, Liu, Xu, *MgNO: Efficient Parameterization of Linear Operators via Multigrid*, ICLR 2024.

    .. math::
        v_0 = Q u,\quad v_{l+1} = \sigma(\mathcal W^{Mg}_l v_l + W_l v_l + b_l),\quad
        \hat y = P v_L \;(+\, u_{[:C_{out}]} \text{ if residual\_output})

    with 1×1 convolutions :math:`Q` (lifting) and :math:`P` (projection). The paper's model has
    no lifting (its first V-cycle reads the input channels directly); here a 1×1 lifting makes
    all layers the same width, and the paper's form is a special case of the parameterisation.
    The reference code's LayerNorm over a fixed 64×64 grid is left out so that one model runs at
    every resolution. With ``residual_output`` the first ``out_channels`` input channels are
    the state being stepped (extra input channels such as coordinates come after them).

    Other resolutions (``resolution_transfer``, on by default). The V-cycle's stencils are in grid
    points: on a grid of spacing :math:`h' \ne h` the same weights approximate another operator (an
    MgNO of width 16, two layers, trained on :math:`(-\Delta)^{-1}` at 32², measured here: 1.9× too
    large a field at 64², 2.8× at 128²). With the training grid ``resolution`` known, the hierarchy
    of levels is fixed in physical terms, counted from the training grid down: an input on another
    grid is resampled onto the training grid (:func:`sciml.nn.resample_grid`: linear interpolation,
    injection where the nodes coincide, as 127² -> 64² or 128² -> 64², the way the data sets
    subsample), lifted, passed through the trained layers and projected there, and the output is
    interpolated back to the input's grid (the state added by ``residual_output`` is the input's
    own, at full resolution). Fine-tuning on another grid starts from the trained weights with the
    levels matched by grid (:meth:`adapt_state`). The paper's V-cycle at the training resolution is
    unchanged, operation for operation. Why this and not the alternatives (He, Liu, Xu leave the
    question to the stencils): kernels rescaled with the grid spacing need the order of the operator
    each learned stencil approximates, which one training resolution does not determine; levels
    added on top of each layer's V-cycle (transfer to the training grid and back inside every layer,
    with the lifting, pointwise maps and activations on the fine grid) were measured worse, since
    trained V-cycles put grid-scale components into the hidden fields that interpolation between
    layers does not carry (the model above: rel L2 0.097 at 64² against 0.029 this way, 0.035 at
    32²); multi-resolution training needs data at several resolutions and does not change what a
    one-resolution checkpoint means. What no zero-shot rule adds is detail finer than the training
    grid resolved: at finer grids the error stays near the training-resolution error plus the
    interpolation error of the training grid, rather than shrinking with the spacing.
    ``resolution_transfer=False``, or a model built without ``resolution``, runs on the input's grid
    as it is.

    Args:
        config: :class:`MgNOConfig`.
        in_channels: Channels of the input field.
        out_channels: Channels of the output field.
        ndim: Spatial dimensions (1, 2 or 3).
        resolution: Training grid size (int or one per dimension): chooses the number of levels
            when ``config.levels`` is None and ``num_smooth`` is an int, and is the grid the
            network runs on with ``resolution_transfer``.

    Shapes:
        - u: (B, C_in, *spatial) -> (B, C_out, *spatial)
    """

    def __init__(self, config: MgNOConfig, *, in_channels: int, out_channels: int, ndim: int,
                 resolution: int | Sequence[int] | None = None) -> None:
        if not isinstance(config, MgNOConfig):
            raise TypeError(f"config must be an MgNOConfig, got {type(config).__name__}")
        _positive_int(in_channels, "in_channels")
        _positive_int(out_channels, "out_channels")
        if ndim not in _CONV:
            raise ValueError(f"ndim must be 1, 2 or 3, got {ndim!r}")
        if resolution is not None and not isinstance(resolution, int):
            resolution = [int(r) for r in resolution]
        if config.residual_output and in_channels < out_channels:
            raise ConfigError(f"residual_output needs in_channels >= out_channels (the input "
                              f"holds the state), got {in_channels} < {out_channels}")
        super().__init__(config, in_channels=in_channels, out_channels=out_channels, ndim=ndim,
                         resolution=resolution)
        self.in_channels, self.out_channels, self.ndim = in_channels, out_channels, ndim
        self.levels = self._resolve_levels(config, resolution)
        self.grid: tuple[int, ...] | None = None  # the training grid the network runs on
        if config.resolution_transfer and resolution is not None:
            grid = (resolution,) * ndim if isinstance(resolution, int) else tuple(resolution)
            if len(grid) == 1:
                grid = grid * ndim
            if len(grid) != ndim or min(grid) < 1:
                raise ValueError(f"resolution must be one positive size or {ndim} of them, "
                                 f"got {resolution!r}")
            self.grid = grid
        conv = _CONV[ndim]
        w = config.width
        self.lifting = conv(in_channels, w, 1)
        self.layers = nn.ModuleList([
            MgNOLayer(w, w, ndim, self.levels, config.num_smooth, config.num_post_smooth,
                      config.kernel_size, config.boundary, config.activation,
                      config.restrict_residual)
            for _ in range(config.n_layers)
        ])
        if config.projection_hidden:
            self.projection: nn.Module = nn.Sequential(
                conv(w, config.projection_hidden, 1), make_activation(config.activation),
                conv(config.projection_hidden, out_channels, 1))
        else:
            self.projection = conv(w, out_channels, 1)
        if config.zero_init_output:
            self._zero_output()

    def _zero_output(self) -> None:
        last = self.projection[-1] if isinstance(self.projection, nn.Sequential) \
            else self.projection
        with torch.no_grad():
            last.weight.zero_()
            if last.bias is not None:
                last.bias.zero_()

    @staticmethod
    def _resolve_levels(config: MgNOConfig, resolution: int | Sequence[int] | None) -> int:
        if config.levels is not None:
            return config.levels
        for v in (config.num_smooth, config.num_post_smooth):
            if isinstance(v, tuple):
                return len(v)
        if resolution is None:
            raise ConfigError("MgNO with levels=None needs the training resolution to choose the "
                              "number of levels: pass resolution=... or set levels in the config")
        return auto_levels(resolution)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        if self.config.zero_init_output:
            self._zero_output()

    def adapt_state(self, state: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict]:
        """A trained MgNO's weights on this model's levels (fine-tuning at another resolution).

        Levels are matched by grid, not by index: when this model has ``k`` more levels (a finer
        training grid with ``levels`` chosen from it), the trained levels become levels ``k``,
        ``k + 1``, ... and the ``k`` new finest levels start as pure transfers (no smoothing,
        restriction by injection, prolongation by linear interpolation), so that the model starts
        from the trained V-cycles run one grid coarser; with fewer levels the trained finest
        ones are left out. Same levels: the weights as they are.
        """
        transfers = [int(m.group(3)) for k in state if (m := _LEVEL_KEY.match(k))
                     and m.group(2) == "restrict_f"]
        source_levels = max(transfers) + 2 if transfers else 1
        shift = self.levels - source_levels
        if shift == 0:
            return dict(state), {}
        out: dict[str, Tensor] = {}
        for key, value in state.items():
            m = _LEVEL_KEY.match(key)
            if m is None:
                out[key] = value
            elif int(m.group(3)) + shift >= 0:
                out[f"{m.group(1)}{m.group(2)}.{int(m.group(3)) + shift}{m.group(4)}"] = value
        if shift < 0:
            return out, {"note": f"levels {source_levels} -> {self.levels}: the trained "
                                 f"{-shift} finest level(s) left out, the others matched by grid",
                         "constructed": []}
        constructed = []
        target = self.state_dict()
        for key, value in target.items():
            m = _LEVEL_KEY.match(key)
            if m is None or int(m.group(3)) >= shift or m.group(2) == "A":
                continue  # trained weights, or A (unused while S = 0: u stays 0 there)
            new = torch.zeros_like(value)
            centre = (slice(None), slice(None)) + (1,) * self.ndim
            if m.group(2) in ("restrict_u", "restrict_f"):
                for c in range(value.shape[0]):  # injection: coarse i takes fine 2i
                    new[(c, c) + centre[2:]] = 1.0
            elif m.group(2) == "prolong":  # linear interpolation (weights 1/2, 1, 1/2 per axis)
                hat = torch.tensor([0.5, 1.0, 0.5], dtype=value.dtype)
                stencil = hat
                for _ in range(self.ndim - 1):
                    stencil = stencil[..., None] * hat
                for c in range(value.shape[0]):
                    new[c, c] = stencil
            out[key] = new
            constructed.append(key)
        return out, {"note": f"levels {source_levels} -> {self.levels}: trained levels matched "
                             f"by grid; the {shift} new finest level(s) start as transfers (no "
                             f"smoothing, injection, linear interpolation)",
                     "constructed": constructed}

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def forward(self, u: Float[Tensor, "b c_in *spatial"],
                boundary: str | None = None) -> Float[Tensor, "b c_out *spatial"]:
        """Map the input field to the output field.

        Args:
            u: Input field, channel first: on any grid with resolution transfer, otherwise on
                any grid large enough for the levels.
            boundary: ``"dirichlet"``, ``"periodic"`` or ``"neumann"``, overriding the config's.

        Returns:
            The predicted field on the same grid.
        """
        if u.ndim != self.ndim + 2 or u.shape[1] != self.in_channels:
            raise ValueError(f"u must have shape (batch, {self.in_channels}, "
                             f"{', '.join(['n'] * self.ndim)}) for this {self.ndim}-D MgNO, "
                             f"got {tuple(u.shape)}")
        if boundary is not None and boundary not in BOUNDARY_PADDING:
            raise ValueError(f"boundary must be one of {list(BOUNDARY_PADDING)} or None, "
                             f"got {boundary!r}")
        bc = self.config.boundary if boundary is None else boundary
        size = tuple(u.shape[2:])
        if self.grid is not None and size != self.grid:
            out = resample_grid(self._network(resample_grid(u, self.grid, bc), boundary), size, bc)
        else:
            out = self._network(u, boundary)
        if self.config.residual_output:
            out = out + u[:, : self.out_channels]
        return out

    def _network(self, u: Tensor, boundary: str | None) -> Tensor:
        """Lifting, layers and projection on the grid of ``u``."""
        v = u
        if self.ndim == 2 and u.device.type == "cpu":
            # oneDNN's CPU convolutions run ~20% faster on channels-last tensors (measured:
            # 390 -> 329 ms per 64² training step, width 32, batch 8, 2 threads).
            v = u.contiguous(memory_format=torch.channels_last)
        v = self.lifting(v)
        for layer in self.layers:
            v = layer(v, boundary)
        return self.projection(v).contiguous()

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
                f"ndim={self.ndim}, levels={self.levels}"
                + (f", grid={list(self.grid)}" if self.grid is not None else ""))
