"""A standard (soft-constraint) physics-informed network: an MLP u(x, t), registered as ``"pinn"``.

Raissi, Perdikaris, Karniadakis, "Physics-informed neural networks", J. Comput. Phys. 2019:
u_θ(x, t) is trained on the mean squared PDE residual at collocation points plus initial and
boundary misfits. Each input column is first mapped affinely from its bounds to [−1, 1], as in
Raissi et al.'s code (H = 2(X − lb)/(ub − lb) − 1; DeepXDE feeds raw coordinates instead, the
same up to this affine map of the first layer's weights). Weights are Glorot normal, biases
zero (both as DeepXDE's ``"Glorot normal"``). Optionally the spatial coordinate enters through
the periodic embedding
(cos 2πx/L, sin 2πx/L), which makes u exactly L-periodic (the embedding of the Lagrangian PINN
paper, used for its PINN baseline too).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch
from jaxtyping import Float
from torch import Tensor, nn

from sciml.models._base import AbstractModel
from sciml.nn import make_activation
from sciml.registry import MODELS

__all__ = ["PINN", "PINNConfig", "tanh_mlp", "CoordinateScaler"]


def _positive_int(value: object, name: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class PINNConfig:
    """Configuration of :class:`PINN`.

    Args: width: neurons per hidden layer; depth: hidden layers; activation: nonlinearity name
    (``tanh`` as in the paper); periodic: embed x as (cos 2πx/L, sin 2πx/L) with L = ``period``
    (1-D only), so u is exactly periodic and no boundary loss is needed.
    """

    width: int = 50
    depth: int = 4
    activation: str = "tanh"
    periodic: bool = False
    period: float = 2 * math.pi

    def __post_init__(self) -> None:
        _positive_int(self.width, "width")
        _positive_int(self.depth, "depth")
        make_activation(self.activation)
        if not (math.isfinite(self.period) and self.period > 0):
            raise ValueError(f"period must be a finite number > 0, got {self.period!r}")


def tanh_mlp(in_features: int, width: int, depth: int, out_features: int,
             activation: str = "tanh") -> nn.Sequential:
    """``depth`` hidden layers of ``width`` with Glorot-normal weights and zero biases (the usual
    PINN initialisation), then a linear read-out."""
    layers: list[nn.Module] = []
    n_in = in_features
    for _ in range(depth):
        layers += [nn.Linear(n_in, width), make_activation(activation)]
        n_in = width
    layers.append(nn.Linear(n_in, out_features))
    for m in layers:
        if isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)
    return nn.Sequential(*layers)


class CoordinateScaler(nn.Module):
    """Affine map of each coordinate column from [low, high] to [−1, 1] (buffers, no training)."""

    def __init__(self, lows: Sequence[float], highs: Sequence[float]) -> None:
        super().__init__()
        lo = torch.as_tensor(list(lows), dtype=torch.float64)
        hi = torch.as_tensor(list(highs), dtype=torch.float64)
        if lo.shape != hi.shape or not bool((hi > lo).all()):
            raise ValueError(f"coordinate bounds must satisfy low < high per column, got "
                             f"lows={list(lows)}, highs={list(highs)}")
        self.register_buffer("center", ((lo + hi) / 2).float())
        self.register_buffer("halfwidth", ((hi - lo) / 2).float())

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.center.to(x.dtype)) / self.halfwidth.to(x.dtype)


@MODELS.register("pinn", PINNConfig, help="Physics-informed MLP u(x, t) (Raissi et al. 2019)")
class PINN(AbstractModel):
    """MLP u_θ(x, t) for physics-informed training (soft constraints).

    Raissi, Perdikaris, Karniadakis, J. Comput. Phys. 2019.

    Args:
        config: :class:`PINNConfig`.
        spatial_dims: Number of spatial coordinates (time is one more input column).
        n_fields: Output fields.
        lows, highs: Bounds of each input column (spatial then time), for scaling to [−1, 1].

    Shapes:
        - coords: (n, spatial_dims + 1), last column t -> (n, n_fields)
    """

    def __init__(self, config: PINNConfig, spatial_dims: int = 1, n_fields: int = 1,
                 lows: Sequence[float] = (0.0, 0.0),
                 highs: Sequence[float] = (2 * math.pi, 1.0)) -> None:
        super().__init__(config, spatial_dims=spatial_dims, n_fields=n_fields,
                         lows=[float(v) for v in lows], highs=[float(v) for v in highs])
        _positive_int(spatial_dims, "spatial_dims")
        _positive_int(n_fields, "n_fields")
        if len(lows) != spatial_dims + 1 or len(highs) != spatial_dims + 1:
            raise ValueError(f"lows and highs need spatial_dims + 1 = {spatial_dims + 1} values "
                             f"(space then time), got {list(lows)} and {list(highs)}")
        if config.periodic and spatial_dims != 1:
            raise ValueError("periodic=True embeds one spatial coordinate; spatial_dims must be 1")
        self.spatial_dims, self.n_fields = spatial_dims, n_fields
        self.scaler = CoordinateScaler(lows, highs)
        n_in = spatial_dims + 1 + (1 if config.periodic else 0)
        self.net = tanh_mlp(n_in, config.width, config.depth, n_fields, config.activation)

    def embed(self, coords: Float[Tensor, "n d"]) -> Float[Tensor, "n e"]:
        """Network input: scaled coordinates, or (cos, sin, scaled t) when periodic."""
        if coords.dim() != 2 or coords.shape[1] != self.spatial_dims + 1:
            raise ValueError(f"coords must have shape (n, {self.spatial_dims + 1}) (space, then "
                             f"t), got {tuple(coords.shape)}")
        scaled = self.scaler(coords)
        if not self.config.periodic:
            return scaled
        phase = coords[:, :1] * (2 * math.pi / self.config.period)
        return torch.cat([torch.cos(phase), torch.sin(phase), scaled[:, 1:]], dim=1)

    def forward(self, coords: Float[Tensor, "n d"]) -> Float[Tensor, "n f"]:
        """u at the points ``coords`` (space columns, then t)."""
        return self.net(self.embed(coords))

    @property
    def supports_jet(self) -> bool:
        """Whether :meth:`forward_jet` can carry derivatives forward through this network
        (smooth activations: tanh, sigmoid, SiLU, exact GELU)."""
        from sciml.physics import supports_jet

        return supports_jet(self.net)

    def forward_jet(self, coords: Float[Tensor, "n d"], axes: Sequence[int]):
        """u at ``coords`` with ∂u/∂c_i for every column and ∂²u/∂c_a² for a in ``axes``, carried
        forward through the embedding and the MLP (:class:`sciml.physics.Jet`, streams
        ``(n, n_fields)``); equal to autograd's derivatives of :meth:`forward`."""
        from sciml.physics import Jet, mlp_jet

        if coords.dim() != 2 or coords.shape[1] != self.spatial_dims + 1:
            raise ValueError(f"coords must have shape (n, {self.spatial_dims + 1}) (space, then "
                             f"t), got {tuple(coords.shape)}")
        c = Jet.coordinates(coords, axes)
        scaled = (c - self.scaler.center.to(coords.dtype)) * (
            1 / self.scaler.halfwidth.to(coords.dtype))
        if self.config.periodic:
            phase = c[:, :1] * (2 * math.pi / self.config.period)
            scaled = Jet.cat([phase.cos(), phase.sin(), scaled[:, 1:]], dim=1)
        return mlp_jet(self.net, scaled)
