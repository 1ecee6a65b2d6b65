"""ParetoGNN (Ju, Zhao, Wen, Yu, Shah, Ye, Zhang, *Multi-task Self-supervised Graph Neural
Networks Enable Stronger Task Generalization*, ICLR 2023, https://arxiv.org/abs/2210.02016):
one GNN encoder pretrained on several self-supervised pretext tasks at once, their gradients
combined by multiple-gradient descent (MGDA, Sener and Koltun 2018) towards a Pareto-stationary
point, so that no task's objective is traded away for another's.

Encoder: two GCN layers (``hidden``, ``out``), each followed by batch normalisation and PReLU (as
the reference code). Pretext tasks (``tasks``), each with its own head:

- ``link``: edge prediction: ``edge_batch`` edges of the graph against as many uniform random
  node pairs, scored by a linear map of ``ĥ_u ⊙ ĥ_v`` (``ĥ`` the L2-normalised embeddings),
  binary cross entropy;
- ``dgi``: Deep Graph Infomax: the embeddings of the graph and of the graph with its feature rows
  shuffled, scored against the summary ``s = σ(mean_v h_v)`` by a bilinear form, binary cross
  entropy;
- ``recon``: masked feature reconstruction (GraphMAE): the features of a fraction ``mask_rate``
  of the nodes replaced by a learned token, their embeddings projected, zeroed and decoded by a
  GCN layer back to the features, loss ``mean (1 − cos(x̂_v, x_v))³`` over the masked nodes;
- ``infonce``: two views (edges dropped and feature columns masked with probability
  ``drop``), a projection head, InfoNCE between the views at temperature ``tau`` (the
  reference's node-node contrast).

Combination (``weighting``): ``mgda``: the gradient ``g_t`` of each task's loss with respect to
the encoder's parameters, L2-normalised, and the weights ``α`` on the simplex that minimise
``‖Σ_t α_t g_t‖²`` (:func:`min_norm_weights`: Frank-Wolfe from the best closed-form pair, the
reference's solver, then the exact minimum on its support); the step follows
``Σ_t α_t ∇L_t``. ``sum``: all weights 1 (the plain multi-task baseline).

In the node-classification job the encoder never sees a label: it trains on the combined pretext
loss, and a linear probe (``forward``) learns the classes from the L2-normalised embeddings with
their gradient stopped, both in one step (logged as ``train/pretext`` and ``train/probe``).

Departures: the probe is trained alongside the encoder rather than by logistic regression after
pretraining (the engine's best epoch by validation accuracy is the result); the reference's
fifth task (a CCA-SSG-like decorrelation loss) is left out; edge prediction uses ``edge_batch``
positive edges a step instead of the reference's 10; views own their features (the reference's
in-place column masking would erase the features of small full-graph views).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml.models._base import AbstractModel
from sciml.nn import GCNConv
from sciml.registry import MODELS

__all__ = ["ParetoGNN", "ParetoGNNConfig", "min_norm_weights", "PRETEXT_TASKS"]

PRETEXT_TASKS = ("link", "dgi", "recon", "infonce")


def _pair(a: float, b: float, c: float) -> tuple[float, float]:
    """``min_γ ‖γ v₁ + (1 − γ) v₂‖²`` with ``a = v₁·v₁``, ``b = v₁·v₂``, ``c = v₂·v₂``:
    ``(γ, cost)``."""
    if b >= a:
        return 1.0, a
    if b >= c:
        return 0.0, c
    g = (c - b) / (a + c - 2 * b)
    return g, c + g * (b - c)


def min_norm_weights(gram: Tensor, iters: int = 250, tol: float = 1e-5) -> Tensor:
    """Weights ``α`` on the simplex minimising ``αᵀ M α`` for the Gram matrix ``M`` ``(K, K)`` of
    task gradients: the best pair in closed form, then Frank-Wolfe steps with exact line search."""
    m = gram.double()
    k = m.shape[0]
    if k == 1:
        return torch.ones(1, dtype=gram.dtype)
    best = None
    for i in range(k):
        for j in range(i + 1, k):
            g, cost = _pair(float(m[i, i]), float(m[i, j]), float(m[j, j]))
            if best is None or cost < best[0]:
                best = (cost, i, j, g)
    _, i, j, g = best
    alpha = torch.zeros(k, dtype=torch.float64)
    alpha[i], alpha[j] = g, 1 - g
    for _ in range(iters):
        ma = m @ alpha
        t = int(torch.argmin(ma))
        g, _ = _pair(float(alpha @ ma), float(ma[t]), float(m[t, t]))
        new = g * alpha
        new[t] += 1 - g
        if float((new - alpha).abs().sum()) < tol:
            alpha = new
            break
        alpha = new
    return _polish(m, alpha).to(gram.dtype)


def _polish(m: Tensor, alpha: Tensor) -> Tensor:
    """Frank-Wolfe approaches the minimum slowly; on its support the minimum has the closed form
    ``α_S ∝ M_S⁻¹ 1``: take it where it is feasible and no worse, dropping the smallest weight of
    the support until it is."""
    support = sorted(range(len(alpha)), key=lambda t: -float(alpha[t]))
    support = [t for t in support if float(alpha[t]) > 0]
    cost = float(alpha @ m @ alpha)
    while len(support) > 1:
        ms = m[support][:, support]
        try:
            a = torch.linalg.solve(ms, torch.ones(len(support), dtype=m.dtype))
        except RuntimeError:
            a = None
        if a is not None and float(a.sum()) > 0 and bool((a >= 0).all()):
            cand = torch.zeros_like(alpha)
            cand[support] = a / a.sum()
            if float(cand @ m @ cand) <= cost:
                return cand
        support = support[:-1]
    return alpha


@dataclass(frozen=True)
class ParetoGNNConfig:
    """``hidden`` and ``out``: the two GCN layers' widths (reference: 512, 256); ``tasks``:
    pretext tasks (link, dgi, recon, infonce); ``weighting``: mgda or sum; ``edge_batch``:
    edges per step of ``link``; ``mask_rate``: masked nodes of ``recon``; ``drop``: edge and
    feature-column drop of ``infonce``'s views; ``tau``: its temperature; ``anchors``: nodes
    contrasted per step (null: all)."""

    hidden: int = 256
    out: int = 128
    tasks: tuple = ("link", "dgi", "recon")
    weighting: str = "mgda"
    edge_batch: int = 512
    mask_rate: float = 0.5
    drop: float = 0.3
    tau: float = 0.1
    anchors: int | None = 1024

    def __post_init__(self) -> None:
        for name in ("hidden", "out", "edge_batch"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"paretognn: {name} must be an integer >= 1, got {v!r}")
        tasks = tuple(self.tasks)
        if not tasks or any(t not in PRETEXT_TASKS for t in tasks) or len(set(tasks)) != len(
                tasks):
            raise ValueError(f"paretognn: tasks must be distinct names from "
                             f"{', '.join(PRETEXT_TASKS)}, got {self.tasks!r}")
        if self.weighting not in ("mgda", "sum"):
            raise ValueError(f"paretognn: weighting must be mgda or sum, got {self.weighting!r}")
        for name in ("mask_rate", "drop"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"paretognn: {name} must be in (0, 1), got "
                                 f"{getattr(self, name)!r}")
        if not self.tau > 0:
            raise ValueError(f"paretognn: tau must be > 0, got {self.tau!r}")


class _Encoder(nn.Module):
    def __init__(self, c_in: int, hidden: int, out: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList([GCNConv(c_in, hidden), GCNConv(hidden, out)])
        self.norms = nn.ModuleList([nn.BatchNorm1d(hidden), nn.BatchNorm1d(out)])
        self.acts = nn.ModuleList([nn.PReLU(), nn.PReLU()])

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        for conv, norm, act in zip(self.convs, self.norms, self.acts, strict=True):
            x = act(norm(conv(x, edge_index)))
        return x


@MODELS.register("paretognn", ParetoGNNConfig, help="ParetoGNN (Ju et al. 2023): a GCN encoder "
                 "pretrained on several self-supervised tasks with gradients combined by MGDA, "
                 "a linear probe for the classes")
class ParetoGNN(AbstractModel):
    """The multi-task self-supervised encoder and its probe (see the module text)."""

    trains_locally = True

    def __init__(self, config: ParetoGNNConfig, in_channels: int, out_channels: int) -> None:
        super().__init__(config, in_channels=in_channels, out_channels=out_channels)
        d, h = config.out, config.hidden
        self.encoder = _Encoder(in_channels, h, d)
        tasks = tuple(config.tasks)
        if "link" in tasks:
            self.link_head = nn.Linear(d, 1)
        if "dgi" in tasks:
            self.dgi_w = nn.Bilinear(d, d, 1)
        if "recon" in tasks:
            self.mask_token = nn.Parameter(torch.zeros(1, in_channels))
            self.recon_proj = nn.Linear(d, d, bias=False)
            self.decoder = GCNConv(d, in_channels)
        if "infonce" in tasks:
            self.proj = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, d))
        self.probe = nn.Linear(d, out_channels)
        #: the last step's task weights, by task
        self.last_weights: dict[str, float] = {}

    def embed(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Node embeddings ``(N, out)``."""
        return self.encoder(x, edge_index)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """The probe's class logits from the L2-normalised embeddings (gradient stopped),
        scaled to norm √out so that the probe learns at the encoder's learning rate."""
        h = F.normalize(self.embed(x, edge_index).detach(), dim=-1)
        return self.probe(h * self.config.out ** 0.5)

    # ---------------------------------------------------------------- pretext tasks
    def _link(self, x: Tensor, ei: Tensor) -> Tensor:
        h = F.normalize(self.embed(x, ei), dim=-1)
        n, e = x.shape[0], ei.shape[1]
        pos = ei[:, torch.randint(e, (min(self.config.edge_batch, e),), device=x.device)]
        neg = torch.randint(n, pos.shape, device=x.device)
        score = self.link_head(torch.cat([h[pos[0]] * h[pos[1]], h[neg[0]] * h[neg[1]]]))[:, 0]
        target = torch.cat([torch.ones(pos.shape[1]), torch.zeros(neg.shape[1])]).to(score)
        return F.binary_cross_entropy_with_logits(score, target)

    def _dgi(self, x: Tensor, ei: Tensor) -> Tensor:
        h = self.embed(x, ei)
        h_neg = self.embed(x[torch.randperm(x.shape[0], device=x.device)], ei)
        s = torch.sigmoid(h.mean(0, keepdim=True)).expand_as(h)
        score = torch.cat([self.dgi_w(h, s), self.dgi_w(h_neg, s)])[:, 0]
        target = torch.cat([torch.ones(len(h)), torch.zeros(len(h))]).to(score)
        return F.binary_cross_entropy_with_logits(score, target)

    def _recon(self, x: Tensor, ei: Tensor) -> Tensor:
        n = x.shape[0]
        masked = torch.randperm(n, device=x.device)[:max(1, int(self.config.mask_rate * n))]
        x_in = x.clone()
        x_in[masked] = self.mask_token.to(x.dtype)
        z = self.recon_proj(self.embed(x_in, ei))
        keep = torch.ones(n, 1, dtype=z.dtype, device=z.device)
        keep[masked] = 0
        x_hat = self.decoder(z * keep, ei)
        cos = F.cosine_similarity(x_hat[masked], x[masked], dim=-1)
        return ((1 - cos) ** 3).mean()

    def _view(self, x: Tensor, ei: Tensor) -> tuple[Tensor, Tensor]:
        p = self.config.drop
        keep_e = torch.rand(ei.shape[1], device=x.device) >= p
        keep_f = (torch.rand(x.shape[1], device=x.device) >= p).to(x.dtype)
        return x * keep_f, ei[:, keep_e]  # a new tensor: the input is never changed

    def _infonce(self, x: Tensor, ei: Tensor) -> Tensor:
        z1 = F.normalize(self.proj(self.embed(*self._view(x, ei))), dim=-1)
        z2 = F.normalize(self.proj(self.embed(*self._view(x, ei))), dim=-1)
        n = x.shape[0]
        if self.config.anchors is not None and n > self.config.anchors:
            idx = torch.randperm(n, device=x.device)[:self.config.anchors]
            z1, z2 = z1[idx], z2[idx]
        t = self.config.tau

        def one_way(a: Tensor, b: Tensor) -> Tensor:
            between = a @ b.T / t
            within = a @ a.T / t
            within = within.masked_fill(torch.eye(len(a), dtype=torch.bool, device=a.device),
                                        float("-inf"))
            return (torch.logsumexp(torch.cat([between, within], 1), 1)
                    - between.diagonal()).mean()

        return 0.5 * (one_way(z1, z2) + one_way(z2, z1))

    def pretext_losses(self, x: Tensor, edge_index: Tensor) -> dict[str, Tensor]:
        """Each pretext task's loss on the graph, by name."""
        fns = {"link": self._link, "dgi": self._dgi, "recon": self._recon,
               "infonce": self._infonce}
        return {t: fns[t](x, edge_index) for t in self.config.tasks}

    def combine(self, losses: dict[str, Tensor]) -> Tensor:
        """``Σ_t α_t L_t`` with the MGDA weights (constants), or the plain sum."""
        names = list(losses)
        if self.config.weighting == "sum" or len(names) == 1:
            self.last_weights = dict.fromkeys(names, 1.0)
            return sum(losses.values())
        params = [p for p in self.encoder.parameters() if p.requires_grad]
        flat = []
        for name in names:
            grads = torch.autograd.grad(losses[name], params, retain_graph=True,
                                        allow_unused=True)
            g = torch.cat([(gr if gr is not None else torch.zeros_like(p)).reshape(-1)
                           for gr, p in zip(grads, params, strict=True)])
            flat.append(g / g.norm().clamp(min=1e-12))
        gmat = torch.stack(flat)
        alpha = min_norm_weights(gmat @ gmat.T).detach()
        self.last_weights = {n: float(a) for n, a in zip(names, alpha, strict=True)}
        return sum(a * losses[n] for n, a in zip(names, alpha, strict=True))

    def graph_local_losses(self, x: Tensor, edge_index: Tensor, y: Tensor, mask: Tensor
                           ) -> Iterator[tuple[str, Tensor]]:
        """The engine's training terms: the combined pretext loss (no label), then the probe's
        cross entropy on the training nodes."""
        yield "pretext", self.combine(self.pretext_losses(x, edge_index))
        yield "probe", F.cross_entropy(self(x, edge_index)[mask], y[mask])
