"""Multi-layer perceptron."""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor, nn

__all__ = ["MLP", "ACTIVATIONS", "make_activation"]

ACTIVATIONS = {
    "relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU, "sigmoid": nn.Sigmoid,
}


def make_activation(name: str) -> nn.Module:
    """A new activation module by name (one of :data:`ACTIVATIONS`)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[name]()


class MLP(nn.Module):
    r"""Feed-forward network on the last axis: ``n_layers`` hidden layers
    :math:`h \leftarrow \mathrm{dropout}(\phi(W h + b))`, then a linear read-out.

    Args:
        in_channels: Input channels C_in.
        hidden_channels: Width of each hidden layer.
        out_channels: Output channels C_out.
        n_layers: Number of hidden layers (0: a single linear map).
        activation: Name of the nonlinearity (see :data:`ACTIVATIONS`).
        dropout: Dropout probability after each hidden activation.

    Shapes:
        - x: (..., C_in) -> (..., C_out)
    """

    def __init__(
        self, in_channels: int, hidden_channels: int, out_channels: int, n_layers: int = 1,
        activation: str = "relu", dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not isinstance(n_layers, int) or n_layers < 0:
            raise ValueError(f"n_layers must be a non-negative integer, got {n_layers!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.in_channels, self.hidden_channels, self.out_channels = (
            in_channels, hidden_channels, out_channels)
        self.n_layers, self.activation_name = n_layers, activation
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden_channels), make_activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden_channels
        layers.append(nn.Linear(width, out_channels))
        self.net = nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        for m in self.net:
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, x: Float[Tensor, "*batch c_in"]) -> Float[Tensor, "*batch c_out"]:
        """Apply the layers to the last axis."""
        if x.shape[-1] != self.in_channels:
            raise ValueError(f"x must have {self.in_channels} channels in its last axis, "
                             f"got shape {tuple(x.shape)}")
        return self.net(x)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, "
            f"{self.out_channels}, n_layers={self.n_layers}, activation={self.activation_name!r})"
        )
