"""Graph utilities on ``edge_index`` ([src; dst]) and edge weights: checks, degrees, self loops,
edge reversal, adjacency normalisation and dense <-> sparse conversion.

Convention: a dense adjacency ``adj`` of shape (N, N) holds ``adj[src, dst] = w``, the same
orientation as ``edge_index`` and as adjacency files (DCRNN's ``adj_mx``, ``los_adj.csv``).
Propagation along the edges is then ``out[dst] = sum_src adj[src, dst] * x[src]``, i.e.
``out = adj.T @ x``.
"""

from __future__ import annotations

from typing import Literal

import torch
from jaxtyping import Float, Int
from torch import Tensor

from sciml.kernels import scatter

__all__ = [
    "check_edge_index",
    "degree",
    "add_self_loops",
    "remove_self_loops",
    "transpose",
    "normalize_adjacency",
    "dense_to_sparse",
    "sparse_to_dense",
]

_KINDS = ("rw", "sym", "none")
_DEGREES = ("in", "out")


def check_edge_index(
    edge_index: Tensor, n_nodes: int | None = None, edge_weight: Tensor | None = None
) -> None:
    """Raise TypeError/ValueError unless ``edge_index`` is an integer (2, E) tensor with node ids in
    ``[0, n_nodes)`` and ``edge_weight`` (if given) a floating (E,) tensor."""
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"edge_index must be a torch.Tensor, got {type(edge_index).__name__}")
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"edge_index must have dtype int64 or int32, got {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    if n_nodes is not None and edge_index.numel() > 0:
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0 or hi >= n_nodes:
            raise ValueError(
                f"edge_index holds node ids in [{lo}, {hi}], outside [0, {n_nodes}) for "
                f"{n_nodes} nodes"
            )
    if edge_weight is not None:
        if not isinstance(edge_weight, Tensor) or not edge_weight.is_floating_point():
            raise TypeError(
                "edge_weight must be a floating-point tensor, got "
                f"{getattr(edge_weight, 'dtype', type(edge_weight).__name__)}"
            )
        if edge_weight.shape != (edge_index.shape[1],):
            raise ValueError(
                f"edge_weight must have shape (E,) = ({edge_index.shape[1]},), "
                f"got {tuple(edge_weight.shape)}"
            )


def _weights(edge_index: Tensor, edge_weight: Tensor | None, dtype: torch.dtype) -> Tensor:
    if edge_weight is None:
        return torch.ones(edge_index.shape[1], dtype=dtype, device=edge_index.device)
    return edge_weight


def degree(
    edge_index: Int[Tensor, "2 e"],
    n_nodes: int,
    edge_weight: Float[Tensor, " e"] | None = None,
    direction: Literal["in", "out"] = "in",
    dtype: torch.dtype = torch.float32,
) -> Float[Tensor, " n"]:
    """(Weighted) in-degree (edges ending at each node) or out-degree (edges leaving it).

    Args:
        edge_index: Source and target node of each edge.
        n_nodes: Number of nodes N.
        edge_weight: Optional weight per edge (counts 1 per edge when None).
        direction: ``"in"`` counts at ``edge_index[1]``, ``"out"`` at ``edge_index[0]``.
        dtype: Result dtype when ``edge_weight`` is None.

    Returns:
        Degree of each node, shape (N,).
    """
    if direction not in _DEGREES:
        raise ValueError(f"direction must be one of {_DEGREES}, got {direction!r}")
    w = _weights(edge_index, edge_weight, dtype)
    index = edge_index[1] if direction == "in" else edge_index[0]
    return scatter(w, index, dim=0, dim_size=n_nodes, reduce="sum")


def remove_self_loops(
    edge_index: Int[Tensor, "2 e"], edge_weight: Float[Tensor, " e"] | None = None
) -> tuple[Int[Tensor, "2 e2"], Float[Tensor, " e2"] | None]:
    """Drop the edges whose source equals their target.

    Returns:
        ``(edge_index, edge_weight)`` without self loops (``edge_weight`` stays None if None).
    """
    keep = edge_index[0] != edge_index[1]
    return edge_index[:, keep], (None if edge_weight is None else edge_weight[keep])


def add_self_loops(
    edge_index: Int[Tensor, "2 e"],
    n_nodes: int,
    edge_weight: Float[Tensor, " e"] | None = None,
    fill_value: float = 1.0,
) -> tuple[Int[Tensor, "2 e2"], Float[Tensor, " e2"] | None]:
    """Replace any existing self loops by one loop per node with weight ``fill_value``.

    Returns:
        ``(edge_index, edge_weight)`` with the N loops appended after the other edges.
    """
    edge_index, edge_weight = remove_self_loops(edge_index, edge_weight)
    loop = torch.arange(n_nodes, dtype=edge_index.dtype, device=edge_index.device)
    edge_index = torch.cat([edge_index, loop.expand(2, n_nodes)], dim=1)
    if edge_weight is not None:
        fill = edge_weight.new_full((n_nodes,), fill_value)
        edge_weight = torch.cat([edge_weight, fill])
    return edge_index, edge_weight


def transpose(edge_index: Int[Tensor, "2 e"]) -> Int[Tensor, "2 e"]:
    """Reverse every edge (src -> dst becomes dst -> src): the transposed adjacency.

    Edge weights keep their order, so the same ``edge_weight`` goes with the result.
    """
    return edge_index.flip(0)


def normalize_adjacency(
    edge_index: Int[Tensor, "2 e"],
    edge_weight: Float[Tensor, " e"] | None,
    n_nodes: int,
    kind: Literal["rw", "sym", "none"] = "rw",
    degree_of: Literal["in", "out"] = "in",
) -> Float[Tensor, " e"]:
    """Normalised weight of each edge.

    With ``A[src, dst] = w`` and propagation ``out = A^T x``:

    - ``"rw"``, ``degree_of="in"``: ``w / deg_in(dst)``, i.e. the operator ``D_in^-1 A^T`` whose
      rows sum to one: every node takes the weighted mean of its in-neighbours. This is the
      random-walk transition of DCRNN (Li et al., ICLR 2018, Eq. 2) in our edge direction;
      applied to the reversed edges it gives the backward transition ``D_out^-1 A``.
    - ``"rw"``, ``degree_of="out"``: ``w / deg_out(src)``, the operator ``A^T D_out^-1``
      (columns sum to one, mass-conserving): the transposed matrix of the DCRNN reference code.
    - ``"sym"``: ``w / sqrt(deg_out(src) * deg_in(dst))``, i.e. ``D_in^-1/2 A^T D_out^-1/2``
      (Kipf & Welling's ``D^-1/2 A D^-1/2`` for an undirected graph).
    - ``"none"``: the weights unchanged (ones when ``edge_weight`` is None).

    Nodes of degree zero get weight 0 instead of a division by zero.

    Args:
        edge_index: Source and target node of each edge.
        edge_weight: Weight per edge, or None for ones.
        n_nodes: Number of nodes N.
        kind: ``"rw"``, ``"sym"`` or ``"none"``.
        degree_of: For ``"rw"``: normalise by the in-degree of the target or the out-degree of
            the source.

    Returns:
        Normalised edge weights, shape (E,).
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if degree_of not in _DEGREES:
        raise ValueError(f"degree_of must be one of {_DEGREES}, got {degree_of!r}")
    check_edge_index(edge_index, n_nodes, edge_weight)
    w = _weights(edge_index, edge_weight, torch.get_default_dtype())
    if kind == "none":
        return w
    if kind == "rw":
        deg = degree(edge_index, n_nodes, w, direction=degree_of)
        inv = torch.where(deg > 0, 1.0 / deg, torch.zeros_like(deg))
        return w * inv[edge_index[1] if degree_of == "in" else edge_index[0]]
    deg_in = degree(edge_index, n_nodes, w, direction="in")
    deg_out = degree(edge_index, n_nodes, w, direction="out")
    inv_in = torch.where(deg_in > 0, deg_in.rsqrt(), torch.zeros_like(deg_in))
    inv_out = torch.where(deg_out > 0, deg_out.rsqrt(), torch.zeros_like(deg_out))
    return w * inv_out[edge_index[0]] * inv_in[edge_index[1]]


def dense_to_sparse(
    adj: Float[Tensor, "n n"],
) -> tuple[Int[Tensor, "2 e"], Float[Tensor, " e"]]:
    """Edges of the non-zero entries of a dense adjacency ``adj[src, dst]``.

    Differentiable with respect to the kept entries (use it for a learned adjacency).

    Returns:
        ``(edge_index, edge_weight)``, edges sorted by source then target.
    """
    if adj.dim() != 2 or adj.shape[0] != adj.shape[1]:
        raise ValueError(f"adj must be a square (N, N) matrix, got shape {tuple(adj.shape)}")
    src, dst = torch.nonzero(adj, as_tuple=True)
    return torch.stack([src, dst]), adj[src, dst]


def sparse_to_dense(
    edge_index: Int[Tensor, "2 e"],
    n_nodes: int,
    edge_weight: Float[Tensor, " e"] | None = None,
) -> Float[Tensor, "n n"]:
    """Dense adjacency ``adj[src, dst]`` (weights of repeated edges add up).

    Returns:
        The (N, N) adjacency matrix.
    """
    check_edge_index(edge_index, n_nodes, edge_weight)
    w = _weights(edge_index, edge_weight, torch.get_default_dtype())
    adj = w.new_zeros(n_nodes, n_nodes)
    return adj.index_put((edge_index[0], edge_index[1]), w, accumulate=True)
