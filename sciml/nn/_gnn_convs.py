"""The standard GNN layers of node classification: GCN, GraphSAGE and GAT.

Built on :func:`sciml.nn.propagate` (one fused ``gather_scatter`` call per aggregation) and
:func:`sciml.kernels.scatter_softmax`; node features may carry leading batch dimensions
``(..., N, C)``. Each layer follows its paper and, on the same weights, gives what PyG's layer of
the same name gives (tests/nn/test_gnn_convs.py checks this against PyG 2.x):

- :class:`GCNConv` (Kipf and Welling, ICLR 2017, Eq. 2):
  ``X' = D̂^-1/2 Â D̂^-1/2 X W + b`` with ``Â = A + I`` (self loops of weight 1 replace existing
  ones) and ``D̂`` its (weighted in-)degree; the normalised edge weights of a graph can be cached
  (``cached=True``) for transductive training, where the graph never changes.
- :class:`SAGEConv` (Hamilton, Ying, Leskovec, NeurIPS 2017, the mean aggregator of Alg. 1 in the
  form PyG and the paper's code use): ``x'_i = W_1 x_i + W_2 mean_{j ∈ N(i)} x_j + b``,
  optionally L2-normalised.
- :class:`GATConv` (Veličković et al., ICLR 2018, Eqs. 1-6): per head
  ``α_ij = softmax_j LeakyReLU(a_srcᵀ W x_j + a_dstᵀ W x_i)`` over the in-neighbours and the node
  itself, ``x'_i = Σ_j α_ij W x_j``; heads concatenated (hidden layers) or averaged (output
  layer), dropout on the attention coefficients while training.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.kernels import scatter, scatter_softmax
from sciml.nn._graph import add_self_loops, check_edge_index
from sciml.nn._message_passing import propagate

__all__ = ["GCNConv", "SAGEConv", "GATConv"]


def _check_x(x: Tensor, channels: int, name: str) -> None:
    if not isinstance(x, Tensor) or x.dim() < 2 or x.shape[-1] != channels:
        raise ValueError(f"{name}: x must have shape (..., N, {channels}), got "
                         f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")


def _glorot(w: Tensor) -> None:
    bound = math.sqrt(6.0 / (w.shape[-2] + w.shape[-1]))
    nn.init.uniform_(w, -bound, bound)


class GCNConv(nn.Module):
    r"""Graph convolution of Kipf and Welling, :math:`\hat D^{-1/2}\hat A\hat D^{-1/2} X W + b`.

    Args:
        in_channels, out_channels: Feature sizes.
        bias: Add a learned bias.
        cached: Keep the normalised edge weights of the first graph seen (transductive
            training on one fixed graph); call :meth:`reset_cache` for another graph.
        normalize: Add self loops and normalise symmetrically (False: use ``edge_weight`` as
            given, ones if None).

    Shapes: x (..., N, C_in), edge_index (2, E), edge_weight (E,) or None → (..., N, C_out).
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True,
                 cached: bool = False, normalize: bool = True) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.cached, self.normalize = cached, normalize
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cache: tuple[Tensor, Tensor] | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _glorot(self.lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cache = None

    def reset_cache(self) -> None:
        self._cache = None

    def _normalised(self, edge_index: Tensor, edge_weight: Tensor | None, n: int,
                    dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        if self.cached and self._cache is not None:
            return self._cache
        if edge_weight is None:  # ones in the features' precision
            edge_weight = torch.ones(edge_index.shape[1], dtype=dtype, device=edge_index.device)
        if self.normalize:
            ei, w = add_self_loops(edge_index, n, edge_weight.to(dtype))
            # D̂ from the weighted in-degree at both ends (PyG's convention; equal to the
            # paper's degree on the undirected graphs it is defined for)
            deg = torch.zeros(n, dtype=w.dtype, device=w.device).index_add_(0, ei[1], w)
            inv = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
            w = inv[ei[0]] * w * inv[ei[1]]
        else:
            ei, w = edge_index, edge_weight
        out = (ei, w.to(dtype))
        if self.cached:
            self._cache = out
        return out

    def forward(self, x: Float[Tensor, "*b n c_in"], edge_index: Int[Tensor, "2 e"],
                edge_weight: Float[Tensor, " e"] | None = None) -> Float[Tensor, "*b n c_out"]:
        _check_x(x, self.in_channels, "GCNConv")
        check_edge_index(edge_index, x.shape[-2], edge_weight)
        ei, w = self._normalised(edge_index, edge_weight, x.shape[-2], x.dtype)
        out = propagate(self.lin(x), ei, w)
        return out if self.bias is None else out + self.bias

    def __repr__(self) -> str:
        return f"GCNConv({self.in_channels}, {self.out_channels}, cached={self.cached})"


class SAGEConv(nn.Module):
    r"""GraphSAGE with the mean aggregator:
    :math:`x'_i = W_1 x_i + W_2\,\mathrm{mean}_{j\in N(i)} x_j + b`.

    Args:
        in_channels, out_channels: Feature sizes.
        root_weight: Include the :math:`W_1 x_i` term.
        normalize: L2-normalise each output row (the paper's line 7 of Alg. 1).
        bias: Add a learned bias (on the neighbour term, as PyG).

    Shapes: x (..., N, C_in), edge_index (2, E) → (..., N, C_out).
    """

    def __init__(self, in_channels: int, out_channels: int, root_weight: bool = True,
                 normalize: bool = False, bias: bool = True) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.normalize = normalize
        self.lin_neighbors = nn.Linear(in_channels, out_channels, bias=bias)
        self.lin_root = nn.Linear(in_channels, out_channels, bias=False) if root_weight \
            else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin_neighbors.reset_parameters()
        if self.lin_root is not None:
            self.lin_root.reset_parameters()

    def forward(self, x: Float[Tensor, "*b n c_in"], edge_index: Int[Tensor, "2 e"]
                ) -> Float[Tensor, "*b n c_out"]:
        _check_x(x, self.in_channels, "SAGEConv")
        check_edge_index(edge_index, x.shape[-2])
        out = self.lin_neighbors(propagate(x, edge_index, reduce="mean"))
        if self.lin_root is not None:
            out = out + self.lin_root(x)
        return F.normalize(out, p=2.0, dim=-1) if self.normalize else out

    def __repr__(self) -> str:
        return f"SAGEConv({self.in_channels}, {self.out_channels}, aggr=mean)"


class GATConv(nn.Module):
    r"""Graph attention (Veličković et al. 2018), ``heads`` attention heads.

    Args:
        in_channels: Input features.
        out_channels: Features per head.
        heads: Attention heads.
        concat: Concatenate the heads (output ``heads × out_channels``) or average them.
        negative_slope: Of the LeakyReLU on the attention logits (0.2 in the paper).
        dropout: Dropout on the normalised attention coefficients while training (0.6 in the
            paper's Cora setting).
        add_self_loops: Let every node attend to itself (the paper's j ∈ N(i) ∪ {i}).
        bias: Add a learned bias.

    Shapes: x (..., N, C_in), edge_index (2, E) → (..., N, heads·C_out) or (..., N, C_out).
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0, add_self_loops: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        if heads < 1:
            raise ValueError(f"GATConv: heads must be >= 1, got {heads}")
        if not 0 <= dropout < 1:
            raise ValueError(f"GATConv: dropout must be in [0, 1), got {dropout}")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops = add_self_loops
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_channels))
        size = heads * out_channels if concat else out_channels
        self.bias = nn.Parameter(torch.empty(size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _glorot(self.lin.weight)
        _glorot(self.att_src)
        _glorot(self.att_dst)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Float[Tensor, "*b n c_in"], edge_index: Int[Tensor, "2 e"],
                return_attention: bool = False) -> Tensor | tuple[Tensor, Tensor, Tensor]:
        """The layer's output; with ``return_attention`` also the edges used (self loops
        included) and their coefficients ``(..., E, heads)``."""
        _check_x(x, self.in_channels, "GATConv")
        n = x.shape[-2]
        check_edge_index(edge_index, n)
        if self.add_self_loops:
            edge_index, _ = add_self_loops(edge_index, n)
        src, dst = edge_index[0], edge_index[1]
        h = self.lin(x).unflatten(-1, (self.heads, self.out_channels))  # (..., N, H, C)
        a_src = (h * self.att_src).sum(-1)  # (..., N, H)
        a_dst = (h * self.att_dst).sum(-1)
        logits = a_src.index_select(-2, src) + a_dst.index_select(-2, dst)  # (..., E, H)
        logits = F.leaky_relu(logits, self.negative_slope)
        alpha = scatter_softmax(logits, dst, dim=-2, dim_size=n)
        weights = F.dropout(alpha, p=self.dropout, training=self.training)
        messages = h.index_select(-3, src) * weights.unsqueeze(-1)  # (..., E, H, C)
        out = scatter(messages, dst, dim=-3, dim_size=n)  # (..., N, H, C)
        out = out.flatten(-2) if self.concat else out.mean(-2)
        if self.bias is not None:
            out = out + self.bias
        return (out, edge_index, alpha) if return_attention else out

    def __repr__(self) -> str:
        return (f"GATConv({self.in_channels}, {self.out_channels}, heads={self.heads}, "
                f"concat={self.concat})")
