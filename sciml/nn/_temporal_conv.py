"""Causal dilated convolutions over the time axis of (B, T, N, C) spatiotemporal tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

__all__ = ["TemporalConv", "GatedTemporalConv"]


def _check_btnc(x: Tensor, channels: int) -> None:
    if x.dim() != 4 or x.shape[-1] != channels:
        raise ValueError(f"x must have shape (B, T, N, {channels}), got {tuple(x.shape)}")


class TemporalConv(nn.Module):
    r"""Causal dilated 1-D convolution over time, shared by all nodes.

    van den Oord et al., *WaveNet*, 2016: :math:`y_t = \sum_{i=0}^{k-1} W_i x_{t - i d} + b`, with
    zeros before the first step, so the output keeps length T and step t sees only steps <= t.

    Args:
        in_channels: Input channels C_in.
        out_channels: Output channels C_out.
        kernel_size: Taps k.
        dilation: Spacing d between taps.
        bias: Add a learned bias.

    Shapes:
        - x: (B, T, N, C_in) -> (B, T, N, C_out)
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int = 2, dilation: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("kernel_size", kernel_size), ("dilation", dilation)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.dilation = kernel_size, dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, bias=bias)
        self.reset_parameters()

    @property
    def receptive_field(self) -> int:
        """Number of time steps one output sees: ``(k - 1) d + 1``."""
        return (self.kernel_size - 1) * self.dilation + 1

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()

    def forward(self, x: Float[Tensor, "b t n c_in"]) -> Float[Tensor, "b t n c_out"]:
        """Convolve every node's series causally."""
        _check_btnc(x, self.in_channels)
        b, t, n, c = x.shape
        z = x.permute(0, 2, 3, 1).reshape(b * n, c, t)
        z = self.conv(F.pad(z, (self.receptive_field - 1, 0)))
        return z.reshape(b, n, self.out_channels, t).permute(0, 3, 1, 2)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, dilation={self.dilation})"
        )


class GatedTemporalConv(nn.Module):
    r"""Gated temporal convolution (gated TCN) of WaveNet / Graph WaveNet (Wu et al., IJCAI 2019,
    Eq. 8): :math:`h = \tanh(\Theta_1 \star x + b) \odot \sigma(\Theta_2 \star x + c)`, both causal
    dilated convolutions over time (:class:`TemporalConv`, computed as one conv of 2 C_out).

    Args:
        in_channels: Input channels C_in.
        out_channels: Output channels C_out.
        kernel_size: Taps k.
        dilation: Spacing d between taps.

    Shapes:
        - x: (B, T, N, C_in) -> (B, T, N, C_out)
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int = 2, dilation: int = 1
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.dilation = kernel_size, dilation
        self.conv = TemporalConv(in_channels, 2 * out_channels, kernel_size, dilation)

    @property
    def receptive_field(self) -> int:
        return self.conv.receptive_field

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()

    def forward(self, x: Float[Tensor, "b t n c_in"]) -> Float[Tensor, "b t n c_out"]:
        """Filter times gate."""
        f, g = self.conv(x).chunk(2, dim=-1)
        return torch.tanh(f) * torch.sigmoid(g)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, dilation={self.dilation})"
        )
