"""Epistemic GNN (Khalid and Schockaert, *Systematic Relational Reasoning With Epistemic Graph
Neural Networks*, ICLR 2025, https://openreview.net/forum?id=qNp86ByQlN) and an R-GCN baseline,
for queries "which relation holds between the head and the tail?" on graphs of typed edges.

**EpiGNN.** A node's state is ``F`` probability vectors over ``d`` latent primitive relations
("facets"), read as the set of relations that may hold between the anchor node and it; latent
relation 0 is the identity. Each edge type ``r`` has a learned state ``p_r = softmax(θ_r)``
``(F, d)``, and relations compose through a learned soft composition table ``A`` ``(F, d, d, d)``,
each ``A[f, :, i, j]`` a distribution over the result of composing primitives ``i`` and ``j``,
with the identity neutral on both sides (``A[f, :, 0, j] = e_j``, ``A[f, :, i, 0] = e_i``):

    φ(x, y)[f, p] = Σ_ij x[f, i] A[f, p, i, j] y[f, j]                     (the paper's eq. 4)

Forward from the head (its state ``e_0``, every other node uniform, eq. 3), ``T`` times with
one shared layer: every edge ``u → v`` of type ``r`` sends ``φ(h_u, p_r)``, a node's new state is
the element-wise **minimum** of its messages renormalised (a soft intersection of the sets its
paths allow; a node without in-edges stays uniform), and the head is reset to ``e_0``. Backward
from the tail the same with ``φ(p_r, h_v)`` sent from ``v`` to ``u``. The read-out (eq. 6)
composes, at every node ``v`` of a shortest head-tail path, the forward and backward states
``φ(h_v^fw, h_v^bw)`` and takes their element-wise minimum, renormalised: ``o`` ``(F, d)``. The
score of relation ``r`` is ``Σ_f Σ_i p_r[f, i] log o[f, i]`` (a cross entropy of ``o`` against
``p_r``), the logits of the job's cross entropy.

Inputs: node features whose first three columns flag the head, the tail and the nodes of a
shortest head-tail path (as ``relation_paths`` writes them), ``edge_type``.

Departures: the reference code (erg0dic/gnn-sg) trains with a margin loss and one sampled
negative relation; here the scores are logits of a cross entropy over all relations. ``A``'s
free block is a softmax over the result axis (the reference normalises over the right argument,
then over the result).

**R-GCN baseline** (Schlichtkrull et al. 2018) as the paper compares with it: node states from the
three flags, ``L`` layers ``h_v ← ReLU(LN(W_0 h_v + Σ_r mean_{u ∈ N_r(v)} W_r h_u))`` over the
edge types and their inverses (2R types), then an MLP of ``[h_head, h_tail, h_head ⊙ h_tail]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml.errors import DataError
from sciml.kernels import scatter
from sciml.models._base import AbstractModel
from sciml.registry import MODELS

__all__ = ["EpiGNN", "EpiGNNConfig", "RGCN", "RGCNConfig", "query_nodes"]

_EPS = 1e-12


def query_nodes(x: Tensor, graph_index: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The head and tail node of every graph and the path flags, from the first three feature
    columns; errors name a graph without exactly one head or one tail."""
    if x.dim() != 2 or x.shape[1] < 3:
        raise DataError(f"x must have the head, tail and path flags as its first three "
                        f"columns, got shape {tuple(x.shape)}")
    n_graphs = int(graph_index[-1]) + 1 if graph_index.numel() else 0
    out = []
    for col, what in ((0, "head"), (1, "tail")):
        flag = x[:, col] > 0.5
        count = torch.bincount(graph_index[flag], minlength=n_graphs)
        if bool((count != 1).any()):
            g = int((count != 1).nonzero()[0])
            raise DataError(f"graph {g} has {int(count[g])} {what} node(s) (column {col}); "
                            "a query needs one")
        nodes = flag.nonzero().flatten()
        out.append(nodes[torch.argsort(graph_index[nodes])])
    return out[0], out[1], x[:, 2] > 0.5


@dataclass(frozen=True)
class EpiGNNConfig:
    """``facets`` F and ``dim`` d (latent primitive relations per facet; paper for RCC-8: 4
    facets of 8); ``steps``: iterations T of the shared layer (paper: 9); ``backward``: also
    propagate from the tail and read out forward-backward (the paper's model)."""

    facets: int = 4
    dim: int = 8
    steps: int = 9
    backward: bool = True

    def __post_init__(self) -> None:
        for name in ("facets", "dim", "steps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (2 if name == "dim" else 1):
                raise ValueError(f"epignn: {name} must be an integer >= "
                                 f"{2 if name == 'dim' else 1}, got {v!r}")
        if not isinstance(self.backward, bool):
            raise ValueError(f"epignn: backward must be true or false, got {self.backward!r}")


@MODELS.register("epignn", EpiGNNConfig, help="epistemic GNN (Khalid and Schockaert 2025): "
                 "states as distributions over latent relations, a learned composition table, "
                 "min aggregation; relation between head and tail")
class EpiGNN(AbstractModel):
    """The epistemic GNN (see the module text)."""

    uses_edge_types = True

    def __init__(self, config: EpiGNNConfig, in_channels: int, out_channels: int,
                 n_edge_types: int) -> None:
        super().__init__(config, in_channels=in_channels, out_channels=out_channels,
                         n_edge_types=n_edge_types)
        f, d = config.facets, config.dim
        self.rel = nn.Parameter(torch.empty(n_edge_types, f, d))
        self.table = nn.Parameter(torch.empty(f, d, d - 1, d - 1))
        nn.init.xavier_uniform_(self.rel.view(n_edge_types, -1))
        nn.init.xavier_uniform_(self.table.view(f, -1))
        if out_channels > n_edge_types:
            raise ValueError(f"epignn: {out_channels} classes but {n_edge_types} edge types: "
                             "the classes are relations of the edges' algebra")

    def relation_states(self) -> Tensor:
        """``p_r`` ``(R, F, d)``."""
        return self.rel.softmax(-1)

    def composition(self) -> Tensor:
        """``A`` ``(F, d_out, d_left, d_right)`` with the identity neutral on both sides."""
        f, d = self.config.facets, self.config.dim
        eye = torch.eye(d, dtype=self.table.dtype, device=self.table.device)
        a = torch.zeros(f, d, d, d, dtype=self.table.dtype, device=self.table.device)
        a[:, :, 1:, 1:] = self.table.softmax(1)
        a[:, :, 0, :] = eye.T  # A[:, p, 0, j] = [p == j]
        a[:, :, :, 0] = eye.T
        return a

    @staticmethod
    def compose(x: Tensor, a: Tensor, y: Tensor) -> Tensor:
        """``φ(x, y)`` for states ``(…, F, d)``."""
        return torch.einsum("...fi,fpij,...fj->...fp", x, a, y)

    def _propagate(self, anchor: Tensor, src: Tensor, dst: Tensor, msg_rel: Tensor,
                   n: int, a: Tensor, forward: bool) -> Tensor:
        f, d = self.config.facets, self.config.dim
        e0 = torch.zeros(f, d, dtype=a.dtype, device=a.device)
        e0[:, 0] = 1
        uniform = torch.full((n, f, d), 1.0 / d, dtype=a.dtype, device=a.device)
        is_anchor = torch.zeros(n, dtype=torch.bool, device=a.device)
        is_anchor[anchor] = True
        senders, receivers = (src, dst) if forward else (dst, src)
        has_in = torch.zeros(n, dtype=torch.bool, device=a.device)
        has_in[receivers] = True
        h = torch.where(is_anchor[:, None, None], e0, uniform)
        for _ in range(self.config.steps):
            if forward:
                m = self.compose(h[senders], a, msg_rel)
            else:
                m = self.compose(msg_rel, a, h[senders])
            agg = scatter(m, receivers, dim=0, dim_size=n, reduce="min")
            agg = torch.where(has_in[:, None, None], agg, uniform) + _EPS
            h = agg / agg.sum(-1, keepdim=True)
            h = torch.where(is_anchor[:, None, None], e0, h)
        return h

    def forward(self, x: Tensor, edge_index: Tensor, graph_index: Tensor, edge_type: Tensor
                ) -> Tensor:
        head, tail, on_path = query_nodes(x, graph_index)
        n = x.shape[0]
        a = self.composition()
        p = self.relation_states()
        src, dst = edge_index[0], edge_index[1]
        rel = p[edge_type]
        hf = self._propagate(head, src, dst, rel, n, a, forward=True)
        n_graphs = head.shape[0]
        if self.config.backward:
            hb = self._propagate(tail, src, dst, rel, n, a, forward=False)
            nodes = on_path.nonzero().flatten()
            z = self.compose(hf[nodes], a, hb[nodes])
            out = scatter(z, graph_index[nodes], dim=0, dim_size=n_graphs, reduce="min")
        else:
            out = hf[tail]
        out = out + _EPS
        out = out / out.sum(-1, keepdim=True)
        score = torch.einsum("rfi,gfi->gr", p, out.log())
        return score[:, :self.sizes["out_channels"]]


@dataclass(frozen=True)
class RGCNConfig:
    """``hidden`` units, ``n_layers`` relational layers (the paper's comparison: as many as
    EpiGNN's iterations)."""

    hidden: int = 32
    n_layers: int = 9

    def __post_init__(self) -> None:
        for name in ("hidden", "n_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"rgcn: {name} must be an integer >= 1, got {v!r}")


@MODELS.register("rgcn", RGCNConfig, help="relational GCN (Schlichtkrull et al. 2018) over edge "
                 "types and their inverses, read out at the query's head and tail")
class RGCN(AbstractModel):
    """The R-GCN baseline (see the module text)."""

    uses_edge_types = True

    def __init__(self, config: RGCNConfig, in_channels: int, out_channels: int,
                 n_edge_types: int) -> None:
        super().__init__(config, in_channels=in_channels, out_channels=out_channels,
                         n_edge_types=n_edge_types)
        h, r = config.hidden, 2 * n_edge_types
        self.n_types = r
        self.inp = nn.Linear(in_channels, h)
        self.self_w = nn.ModuleList([nn.Linear(h, h) for _ in range(config.n_layers)])
        self.rel_w = nn.ParameterList([nn.Parameter(torch.empty(r, h, h))
                                       for _ in range(config.n_layers)])
        for w in self.rel_w:
            nn.init.xavier_uniform_(w.view(r * h, h))
        self.norms = nn.ModuleList([nn.LayerNorm(h) for _ in range(config.n_layers)])
        self.out = nn.Sequential(nn.Linear(3 * h, h), nn.ReLU(), nn.Linear(h, out_channels))

    def forward(self, x: Tensor, edge_index: Tensor, graph_index: Tensor, edge_type: Tensor
                ) -> Tensor:
        head, tail, _ = query_nodes(x, graph_index)
        n = x.shape[0]
        src = torch.cat([edge_index[0], edge_index[1]])
        dst = torch.cat([edge_index[1], edge_index[0]])
        typ = torch.cat([edge_type, edge_type + self.n_types // 2])
        slot = dst * self.n_types + typ  # mean over each (node, type) neighbourhood
        count = torch.bincount(slot, minlength=n * self.n_types).clamp(min=1)
        h = F.relu(self.inp(x))
        for w_self, w_rel, norm in zip(self.self_w, self.rel_w, self.norms, strict=True):
            msg = torch.einsum("eh,ehk->ek", h[src], w_rel[typ]) / count[slot, None]
            h = F.relu(norm(w_self(h) + scatter(msg, dst, dim=0, dim_size=n)))
        hh, ht = h[head], h[tail]
        return self.out(torch.cat([hh, ht, hh * ht], -1))
