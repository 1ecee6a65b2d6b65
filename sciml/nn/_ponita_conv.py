"""Layers of PONITA (Bekkers et al., ICLR 2024): kernel bases, the separable group convolution
over position-orientation space, its position-only variant and the ConvNeXt block."""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.kernels import gather_scatter

__all__ = ["PolynomialFeatures", "PolynomialCutoff", "KernelBasis", "FibreBundleConv",
           "PointConv", "ConvNeXtBlock"]


class PolynomialFeatures(nn.Module):
    r"""All products of the inputs up to ``degree``: :math:`[a, a\otimes a, \dots]` on the last
    axis, the polynomial embedding of invariants in PONITA.

    Shapes:
        - a: (..., k) -> (..., k + k^2 + ... + k^degree)
    """

    def __init__(self, degree: int) -> None:
        super().__init__()
        if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
            raise ValueError(f"degree must be an integer >= 1, got {degree!r}")
        self.degree = degree

    @staticmethod
    def out_features(in_features: int, degree: int) -> int:
        return sum(in_features ** d for d in range(1, degree + 1))

    def forward(self, a: Float[Tensor, "... k"]) -> Float[Tensor, "... m"]:
        terms = [a]
        for _ in range(1, self.degree):
            terms.append((terms[-1].unsqueeze(-1) * a.unsqueeze(-2)).flatten(-2))
        return terms[0] if len(terms) == 1 else torch.cat(terms, dim=-1)

    def extra_repr(self) -> str:
        return f"degree={self.degree}"


class PolynomialCutoff(nn.Module):
    r"""Smooth envelope that goes to zero with two vanishing derivatives at ``r_max``
    (Gasteiger, Groß, Günnemann, ICLR 2020, eq. 8):
    :math:`1 - \frac{(p+1)(p+2)}{2} u^p + p(p+2) u^{p+1} - \frac{p(p+1)}{2} u^{p+2}`,
    :math:`u = d / r_{max}`, and 0 beyond ``r_max``.

    Shapes:
        - d: (...) -> (...)
    """

    def __init__(self, r_max: float, p: int = 6) -> None:
        super().__init__()
        if not (isinstance(r_max, (int, float)) and r_max > 0):
            raise ValueError(f"r_max must be a positive number, got {r_max!r}")
        self.r_max, self.p = float(r_max), int(p)

    def forward(self, d: Tensor) -> Tensor:
        p = self.p
        u = d / self.r_max
        env = (1.0 - 0.5 * (p + 1) * (p + 2) * u ** p + p * (p + 2) * u ** (p + 1)
               - 0.5 * p * (p + 1) * u ** (p + 2))
        return env * (u < 1.0).to(d.dtype)

    def extra_repr(self) -> str:
        return f"r_max={self.r_max}, p={self.p}"


class KernelBasis(nn.Module):
    """Basis functions of invariants: polynomial features, then Linear -> GELU -> Linear -> GELU.

    Args:
        in_features: Number of invariants k.
        hidden_channels: Width of the hidden layer.
        basis_dim: Number of basis functions.
        degree: Degree of the polynomial embedding.

    Shapes:
        - attr: (..., k) -> (..., basis_dim)
    """

    def __init__(self, in_features: int, hidden_channels: int, basis_dim: int, degree: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            PolynomialFeatures(degree),
            nn.Linear(PolynomialFeatures.out_features(in_features, degree), hidden_channels),
            nn.GELU(), nn.Linear(hidden_channels, basis_dim), nn.GELU(),
        )

    def forward(self, attr: Tensor) -> Tensor:
        return self.net(attr)


class FibreBundleConv(nn.Module):
    r"""Separable depthwise group convolution on the fibre bundle R^d × S^{d-1}.

    Spatial part, per channel and orientation, over the edges (one fused ``gather_scatter``):
    :math:`y_c(x, o) = \sum_{x' \in N(x)} k_c(\mathrm{inv}(x' - x, o))\, f_c(x', o)`; then the
    fibre part :math:`z_c(x, o) = \frac1O \sum_{o'} k^{S}_c(\langle o, o'\rangle)\, y_c(x, o')`
    plus a bias. Kernels are linear maps of shared basis functions of the invariants. Channel
    mixing follows in :class:`ConvNeXtBlock`.

    Args:
        channels: Channels C (in = out, depthwise).
        basis_dim: Number of kernel basis functions.

    Shapes:
        - x: (N, O, C); edge_index: (2, E); spatial_basis: (E, O, B); fibre_basis: (O, O, B)
        - output: (N, O, C)
    """

    def __init__(self, channels: int, basis_dim: int) -> None:
        super().__init__()
        self.kernel = nn.Linear(basis_dim, channels, bias=False)
        self.fibre_kernel = nn.Linear(basis_dim, channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Float[Tensor, "n o c"], edge_index: Int[Tensor, "2 e"],
                spatial_basis: Float[Tensor, "e o b"], fibre_basis: Float[Tensor, "o o b"]
                ) -> Float[Tensor, "n o c"]:
        y = gather_scatter(x, edge_index, self.kernel(spatial_basis), dim_size=x.size(0))
        k = self.fibre_kernel(fibre_basis)  # (O_out, O_in, C)
        z = (y.permute(2, 0, 1) @ k.permute(2, 1, 0)).permute(1, 2, 0) / k.size(1)
        return z + self.bias


class PointConv(nn.Module):
    r"""Depthwise convolution on positions only (PONITA's "PNITA"):
    :math:`y_c(x) = \sum_{x' \in N(x)} k_c(\mathrm{inv}(x, x'))\, f_c(x') + b_c`.

    Shapes:
        - x: (N, C); edge_index: (2, E); spatial_basis: (E, B) -> (N, C)
    """

    def __init__(self, channels: int, basis_dim: int) -> None:
        super().__init__()
        self.kernel = nn.Linear(basis_dim, channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Float[Tensor, "n c"], edge_index: Int[Tensor, "2 e"],
                spatial_basis: Float[Tensor, "e b"], fibre_basis: Tensor | None = None
                ) -> Float[Tensor, "n c"]:
        return gather_scatter(x, edge_index, self.kernel(spatial_basis),
                              dim_size=x.size(0)) + self.bias


class ConvNeXtBlock(nn.Module):
    r"""ConvNeXt block (Liu et al., CVPR 2022) around a convolution, as in PONITA:
    :math:`x + \gamma \odot W_2\, \mathrm{GELU}(W_1\, \mathrm{LN}(\mathrm{conv}(x)))`.

    Args:
        conv: :class:`FibreBundleConv` or :class:`PointConv`.
        channels: Channels C.
        widening_factor: Hidden width of the channel MLP is ``widening_factor * C``.
        layer_scale: Initial value of the per-channel scale ``gamma`` (None: no scale).

    Shapes:
        - x: (N, [O,] C) -> same
    """

    def __init__(self, conv: nn.Module, channels: int, widening_factor: int = 4,
                 layer_scale: float | None = 1e-6) -> None:
        super().__init__()
        self.conv = conv
        self.norm = nn.LayerNorm(channels)
        self.linear_1 = nn.Linear(channels, widening_factor * channels)
        self.act = nn.GELU()
        self.linear_2 = nn.Linear(widening_factor * channels, channels)
        if layer_scale is None:
            self.layer_scale = None
        else:
            self.layer_scale = nn.Parameter(torch.zeros(channels) + float(layer_scale))

    def forward(self, x: Tensor, edge_index: Tensor, spatial_basis: Tensor,
                fibre_basis: Tensor | None = None) -> Tensor:
        h = self.conv(x, edge_index, spatial_basis, fibre_basis)
        h = self.linear_2(self.act(self.linear_1(self.norm(h))))
        if self.layer_scale is not None:
            h = self.layer_scale * h
        return x + h

