"""Message passing: explicit gather -> message -> aggregate, on node features with leading
batch/time dimensions.

Unlike PyG's ``MessagePassing`` nothing is inferred from argument names: a layer calls
:func:`propagate` (a weighted sum of neighbours, one fused ``gather_scatter`` call) or subclasses
:class:`AbstractMessagePassing` and writes :meth:`~AbstractMessagePassing.message`.
"""

from __future__ import annotations

import math

from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.kernels import gather_scatter, scatter

__all__ = ["propagate", "AbstractMessagePassing", "REDUCTIONS"]

REDUCTIONS = ("sum", "mean", "max")


def _check_x(x: Tensor) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(
            f"x must have shape (..., N, C) with at least 2 dims, got {tuple(x.shape)}"
        )


def propagate(
    x: Float[Tensor, "*batch n c"],
    edge_index: Int[Tensor, "2 e"],
    edge_weight: Float[Tensor, " e"] | Float[Tensor, "e c"] | None = None,
    reduce: str = "sum",
) -> Float[Tensor, "*batch n c"]:
    """Weighted sum (or mean / max) of source features at each target: ``out[dst] (+)= w_e x[src]``.

    All leading dimensions (batch, time, ...) go through ONE ``gather_scatter`` call: x is laid out
    as (N, B*T*C) so the kernel sees a single wide feature matrix.

    Args:
        x: Node features with any leading dimensions; the node axis is -2.
        edge_index: Source and target node of each edge, ``[src; dst]``.
        edge_weight: None, one weight per edge (E,), or one per edge and channel (E, C).
        reduce: ``"sum"``, ``"mean"`` or ``"max"`` over the incoming edges (0 where none).

    Returns:
        Aggregated features, same shape as ``x``.
    """
    _check_x(x)
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    n, c = x.shape[-2], x.shape[-1]
    lead = x.shape[:-2]
    flat = x.movedim(-2, 0).reshape(n, -1)
    if edge_weight is not None and edge_weight.dim() == 2:
        if edge_weight.shape[1] != c:
            raise ValueError(
                f"edge_weight of shape (E, C) must have C = {c} channels, "
                f"got {tuple(edge_weight.shape)}"
            )
        n_lead = math.prod(lead)
        edge_weight = edge_weight.unsqueeze(1).expand(-1, n_lead, -1).reshape(-1, n_lead * c)
    out = gather_scatter(flat, edge_index, edge_weight, dim_size=n, reduce=reduce)
    return out.reshape(n, *lead, c).movedim(0, -2)


class AbstractMessagePassing(nn.Module):
    """Base of message-passing layers: ``out_i = update(reduce_{e: dst(e)=i} message(e), x_i)``.

    Subclasses implement :meth:`message` (and optionally :meth:`update`); :meth:`propagate` then
    gathers the source and target features of each edge explicitly, calls :meth:`message`, and
    scatters the result onto the targets with ``reduce``. A subclass that keeps the default
    weighted-copy :meth:`message` gets the fused kernel (:func:`propagate`) instead, with no
    E x C intermediate tensor.

    Shapes:
        - x: (..., N, C) node features (leading batch/time dims allowed)
        - edge_index: (2, E), ``[src; dst]``
        - edge_attr: (E, ...) per-edge data handed to :meth:`message`
        - messages: (..., E, C_msg)
    """

    def __init__(self, reduce: str = "sum") -> None:
        super().__init__()
        if reduce not in REDUCTIONS:
            raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
        self.reduce = reduce

    def message(
        self, x_src: Tensor, x_dst: Tensor, edge_attr: Tensor | None
    ) -> Tensor:
        """Message of each edge from its source and target features, shape (..., E, C_msg).

        Default: the source feature scaled by the edge weight (``edge_attr`` of shape (E,)).
        """
        if edge_attr is None:
            return x_src
        return x_src * edge_attr.unsqueeze(-1)

    def aggregate(self, messages: Tensor, dst: Tensor, n_nodes: int) -> Tensor:
        """Reduce the messages (..., E, C) onto their targets, giving (..., N, C)."""
        flat = messages.movedim(-2, 0)
        out = scatter(flat.reshape(flat.shape[0], -1), dst, dim=0, dim_size=n_nodes,
                      reduce=self.reduce)
        return out.reshape(n_nodes, *flat.shape[1:]).movedim(0, -2)

    def update(self, aggregated: Tensor, x: Tensor) -> Tensor:
        """New node features from the aggregate and the old features (default: the aggregate)."""
        return aggregated

    def propagate(
        self,
        x: Float[Tensor, "*batch n c"],
        edge_index: Int[Tensor, "2 e"],
        edge_attr: Tensor | None = None,
    ) -> Tensor:
        """Gather -> :meth:`message` -> :meth:`aggregate` -> :meth:`update`.

        Args:
            x: Node features, node axis -2.
            edge_index: Source and target node of each edge.
            edge_attr: Per-edge data for :meth:`message` (edge weights (E,) for the default).

        Returns:
            Updated node features (..., N, C_out).
        """
        _check_x(x)
        if type(self).message is AbstractMessagePassing.message:
            aggregated = propagate(x, edge_index, edge_attr, reduce=self.reduce)
        else:
            src, dst = edge_index[0], edge_index[1]
            x_src = x.index_select(-2, src)
            x_dst = x.index_select(-2, dst)
            messages = self.message(x_src, x_dst, edge_attr)
            aggregated = self.aggregate(messages, dst, x.shape[-2])
        return self.update(aggregated, x)
