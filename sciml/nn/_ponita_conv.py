"""Layers of PONITA (Bekkers et al., ICLR 2024): kernel bases, the separable group convolution
over position-orientation space, its position-only variant and the ConvNeXt block."""

from __future__ import annotations

import math

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.kernels import gather_scatter

__all__ = ["PolynomialFeatures", "PolynomialCutoff", "KernelBasis", "FibreBundleConv",
           "PointConv", "ConvNeXtBlock", "edge_conv",
           "shared_basis_kernels"]


def edge_conv(x: Float[Tensor, "n ..."], edge_index: Int[Tensor, "2 e"],
              weight: Float[Tensor, "e ..."], dim_size: int) -> Float[Tensor, "m ..."]:
    r"""Depthwise convolution over edges, :math:`y[d] = \sum_{e=(s \to d)} w_e \odot x[s]`.

    :func:`sciml.kernels.gather_scatter` with a per-edge-per-channel weight, whose backward (and
    double backward, for force training) runs on fused gather-scatters and edge products
    instead of gathering ``E x C`` copies of the node features.

    Shapes:
        - x: (N, *C); edge_index: (2, E); weight: (E, *C) -> (dim_size, *C)
    """
    if weight.shape[1:] != x.shape[1:] or weight.size(0) != edge_index.size(1):
        raise ValueError(f"weight must have shape (E={edge_index.size(1)}, "
                         f"{', '.join(map(str, x.shape[1:]))}), got {tuple(weight.shape)}")
    return gather_scatter(x, edge_index, weight, dim_size=dim_size)


_PDF_SCALE = 0.5 * math.sqrt(2.0 / math.pi)  # 1/sqrt(2 pi)


class _GeluGrad(torch.autograd.Function):
    r"""``g * GELU'(x)``, the backward of :class:`Gelu`, with a lean derivative
    ``d/dx = g * GELU''(x) = g\, \varphi(x) (2 - x^2)`` (``\varphi`` the normal density) and
    ``d/dg = GELU'(x)``: fewer passes over ``E x O x B`` tensors than PyTorch's generic GELU
    double backward when training on forces."""

    @staticmethod
    def forward(ctx, x, g):  # noqa: D102
        ctx.save_for_backward(x, g)
        return torch.ops.aten.gelu_backward(g, x)

    @staticmethod
    def backward(ctx, gg):  # noqa: D102
        x, g = ctx.saved_tensors
        grad_x = grad_g = None
        if ctx.needs_input_grad[0]:
            if torch.is_grad_enabled():  # a third derivative is wanted: differentiable ops
                grad_x = gg * g * (_PDF_SCALE * torch.exp(-0.5 * x * x) * (2.0 - x * x))
            else:  # in place on fresh temporaries
                sq = x.square()
                pdf = sq.mul(-0.5).exp_()
                grad_x = sq.neg_().add_(2.0).mul_(pdf).mul_(gg).mul_(g).mul_(_PDF_SCALE)
        if ctx.needs_input_grad[1]:
            grad_g = _GeluGrad.apply(x, gg)
        return grad_x, grad_g


class _Gelu(torch.autograd.Function):
    """Exact (erf) GELU whose backward is :class:`_GeluGrad`."""

    @staticmethod
    def forward(ctx, x):  # noqa: D102
        ctx.save_for_backward(x)
        return torch.nn.functional.gelu(x)

    @staticmethod
    def backward(ctx, g):  # noqa: D102
        (x,) = ctx.saved_tensors
        return _GeluGrad.apply(x, g)


class Gelu(nn.Module):
    r"""GELU (Hendrycks & Gimpel, 2016), :math:`x\,\Phi(x)` with the exact normal CDF, as
    ``nn.GELU()``; same values and gradients, cheaper second derivative (force training).

    Shapes:
        - x: (...) -> (...)
    """

    def forward(self, x: Tensor) -> Tensor:
        return _Gelu.apply(x)


class _SharedBasisKernels(torch.autograd.Function):
    """``basis @ W_l^T`` for every layer ``l``; the basis gradient accumulates in place
    (``addmm_``) instead of autograd's sum of one ``E x O x B`` tensor per layer."""

    @staticmethod
    def forward(ctx, basis, *weights):  # noqa: D102
        ctx.save_for_backward(basis, *weights)
        flat = basis.reshape(-1, basis.size(-1))
        return tuple((flat @ w.T).reshape(*basis.shape[:-1], w.size(0)) for w in weights)

    @staticmethod
    def backward(ctx, *grads):  # noqa: D102
        basis, *weights = ctx.saved_tensors
        flat = basis.reshape(-1, basis.size(-1))
        grad_basis, grad_ws = None, []
        for g, w, need in zip(grads, weights, ctx.needs_input_grad[1:], strict=True):
            g2 = None if g is None else g.reshape(-1, w.size(0))
            grad_ws.append(g2.T @ flat if need and g2 is not None else None)
            if ctx.needs_input_grad[0] and g2 is not None:
                grad_basis = g2 @ w if grad_basis is None else grad_basis.addmm_(g2, w)
        if grad_basis is not None:
            grad_basis = grad_basis.reshape(basis.shape)
        return (grad_basis, *grad_ws)


def shared_basis_kernels(basis: Float[Tensor, "... b"], linears: list[nn.Linear]
                         ) -> tuple[Tensor, ...]:
    """The kernels ``linear(basis)`` of several bias-free layers sharing one basis (PONITA's
    spatial basis is shared by all blocks); same values as calling each linear.

    Shapes:
        - basis: (..., B); each linear: B -> C_l; returns (..., C_l) per linear
    """
    if any(lin.bias is not None or lin.in_features != basis.size(-1) for lin in linears):
        raise ValueError(f"linears must be bias-free with in_features={basis.size(-1)}")
    return _SharedBasisKernels.apply(basis, *(lin.weight for lin in linears))


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
            Gelu(), nn.Linear(hidden_channels, basis_dim), Gelu(),
        )

    def forward(self, attr: Tensor) -> Tensor:
        return self.net(attr)


class FibreBundleConv(nn.Module):
    r"""Separable depthwise group convolution on the fibre bundle R^d × S^{d-1}.

    Spatial part, per channel and orientation, over the edges (one fused :func:`edge_conv`):
    :math:`y_c(x, o) = \sum_{x' \in N(x)} k_c(\mathrm{inv}(x' - x, o))\, f_c(x', o)`; then the
    fibre part :math:`z_c(x, o) = \frac1O \sum_{o'} k^{S}_c(\langle o, o'\rangle)\, y_c(x, o')`
    plus a bias. Kernels are linear maps of shared basis functions of the invariants. Channel
    mixing follows in :class:`ConvNeXtBlock`.

    Args:
        channels: Channels C (in = out, depthwise).
        basis_dim: Number of kernel basis functions.

    Shapes:
        - x: (N, O, C); edge_index: (2, E); spatial_basis: (E, O, B); fibre_basis: (O, O, B);
          kernel: optional precomputed ``self.kernel(spatial_basis)`` (E, O, C)
        - output: (N, O, C)
    """

    def __init__(self, channels: int, basis_dim: int) -> None:
        super().__init__()
        self.kernel = nn.Linear(basis_dim, channels, bias=False)
        self.fibre_kernel = nn.Linear(basis_dim, channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Float[Tensor, "n o c"], edge_index: Int[Tensor, "2 e"],
                spatial_basis: Float[Tensor, "e o b"], fibre_basis: Float[Tensor, "o o b"],
                kernel: Float[Tensor, "e o c"] | None = None) -> Float[Tensor, "n o c"]:
        if kernel is None:  # else precomputed by ``shared_basis_kernels``
            kernel = self.kernel(spatial_basis)
        y = edge_conv(x, edge_index, kernel, x.size(0))
        k = self.fibre_kernel(fibre_basis)  # (O_out, O_in, C)
        # One (N, O_in) @ (O_in, O_out) product per channel, on contiguous copies: strided
        # operands make bmm's backward copy slice by slice.
        z = torch.bmm(y.permute(2, 0, 1).contiguous(), k.permute(2, 1, 0).contiguous())
        return z.permute(1, 2, 0) / k.size(1) + self.bias


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
                spatial_basis: Float[Tensor, "e b"], fibre_basis: Tensor | None = None,
                kernel: Float[Tensor, "e c"] | None = None) -> Float[Tensor, "n c"]:
        if kernel is None:  # else precomputed by ``shared_basis_kernels``
            kernel = self.kernel(spatial_basis)
        return edge_conv(x, edge_index, kernel, x.size(0)) + self.bias


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
        self.act = Gelu()
        self.linear_2 = nn.Linear(widening_factor * channels, channels)
        if layer_scale is None:
            self.layer_scale = None
        else:
            self.layer_scale = nn.Parameter(torch.zeros(channels) + float(layer_scale))

    def forward(self, x: Tensor, edge_index: Tensor, spatial_basis: Tensor,
                fibre_basis: Tensor | None = None, kernel: Tensor | None = None) -> Tensor:
        h = self.conv(x, edge_index, spatial_basis, fibre_basis, kernel=kernel)
        h = self.linear_2(self.act(self.linear_1(self.norm(h))))
        if self.layer_scale is not None:
            h = self.layer_scale * h
        return x + h

