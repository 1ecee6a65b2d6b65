"""NoProp, discrete time: classification by blocks that each learn to denoise a label embedding.

Li, Teh, Pascanu, *NoProp: Training Neural Networks without Back-propagation or
Forward-propagation*, 2025 (https://arxiv.org/abs/2503.24322), Sec. 2.2 (NoProp-DT). A class
``y`` has an embedding ``u_y`` (a row of ``W_embed``, learned, started one-hot when its width is
the number of classes). A diffusion over embeddings goes from noise to ``u_y`` in ``T`` steps
(cosine schedule of ᾱ, indexed here by the noise level k = T … 0; level 0 is the clean end):
``q(z_k | y) = N(√ᾱ_k u_y, (1 − ᾱ_k) I)``. Block t (t = 1 … T) sees the input ``x`` and the
embedding at level k = T − t + 1 and predicts ``u_y`` as the softmax of its logits times
``W_embed``; nothing flows from one block to another while training.

- **Training** (the paper's Algorithm 1): every block t is trained on its own loss
  ``(T η / 2) (SNR(k − 1) − SNR(k)) ‖û_t(z_k, x) − u_y‖²`` with ``z_k`` drawn from ``q(z_k | y)``
  (the embedding held fixed in it), and the classifier on the clean end and the embedding on
  ``−log p̂(y | z_0) + KL(q(z_T | y) ‖ N(0, I))``. :meth:`NoPropDT.local_losses` gives these
  terms one at a time, so the engine back-propagates each before building the next: the memory
  of a step is that of one block.
- **Inference**: ``z_T ~ N(0, I)``; each block moves the embedding one level down the posterior of
  the diffusion, ``z_{k−1} = a_k û_t(z_k, x) + b_k z_k + √c_k ε`` (the DDPM posterior's mean and
  variance); the class comes from the classifier on ``z_0``. The noise is drawn from a generator
  seeded per call, so a trained model predicts the same classes every time.
- ``training: backprop`` trains the same blocks end to end instead (the embedding chain with its
  noise reparameterised, cross entropy of the classifier back-propagated through all ``T``
  blocks): the backpropagation baseline of the same architecture.

The blocks here are MLPs on node features (the graph is not used): the paper's image encoder is
replaced by a two-layer MLP of the features, its label path by one linear layer, as its Fig. 6
fuses them.

Training settings (recipe ``cora-noprop``): AdamW, as the paper. With Adam's coupled L2 the
high-noise blocks, whose loss weights ``(T η / 2)(SNR(k − 1) − SNR(k))`` are about 1e-2 against
5e3 for the last block at T = 10, are pulled to zero by the decay rather than trained (Cora's
features: 0.44 test accuracy against 0.54 with AdamW, one seed). Keep the epoch with the best
validation *accuracy*: the chain's cross entropy rises as its predictions sharpen, and the
lowest validation loss falls on an early, near-chance epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml.models._base import AbstractModel
from sciml.registry import MODELS

__all__ = ["NoPropDT", "NoPropConfig"]


@dataclass(frozen=True)
class NoPropConfig:
    """``steps``: T blocks; ``hidden``: units of each block; ``embed_dim``: width of the label
    embedding (None: the number of classes, started one-hot); ``eta``: the paper's η;
    ``dropout``: on each block's hidden layers; ``training``: ``local`` (NoProp) or ``backprop``
    (the same blocks end to end)."""

    steps: int = 10
    hidden: int = 256
    embed_dim: int | None = None
    eta: float = 0.1
    dropout: float = 0.0
    training: str = "local"

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"noprop: steps must be an integer >= 1, got {self.steps!r}")
        if self.training not in ("local", "backprop"):
            raise ValueError(f"noprop: training must be 'local' or 'backprop', got "
                             f"{self.training!r}")
        if not self.eta > 0:
            raise ValueError(f"noprop: eta must be > 0, got {self.eta!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"noprop: dropout must be in [0, 1), got {self.dropout!r}")


class _Block(nn.Module):
    """û(z, x): MLP of x and a linear map of z, fused, → class logits."""

    def __init__(self, in_channels: int, embed_dim: int, n_classes: int, hidden: int,
                 dropout: float) -> None:
        super().__init__()
        self.x_path = nn.Sequential(nn.Linear(in_channels, hidden), nn.ReLU(),
                                    nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU())
        self.z_path = nn.Sequential(nn.Linear(embed_dim, hidden), nn.ReLU())
        self.fuse = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, hidden), nn.ReLU(),
                                  nn.Linear(hidden, n_classes))

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        return self.fuse(torch.cat([self.x_path(x), self.z_path(z)], -1))


def _cosine_alpha_bar(steps: int, s: float = 0.008) -> Tensor:
    """ᾱ_k for noise levels k = 0 … T (Nichol and Dhariwal's cosine schedule), kept inside
    (1e-4, 0.9999) so that every signal-to-noise ratio is finite."""
    k = torch.arange(steps + 1, dtype=torch.float64)
    f = torch.cos((k / steps + s) / (1 + s) * math.pi / 2) ** 2
    return (f / f[0]).clamp(1e-4, 0.9999)


@MODELS.register("noprop", NoPropConfig, help="classification: NoProp-DT, blocks trained to "
                 "denoise label embeddings without back-propagation (Li, Teh, Pascanu 2025)")
class NoPropDT(AbstractModel):
    """NoProp-DT (see the module text). ``forward(x, edge_index)`` gives class logits."""

    def __init__(self, config: NoPropConfig, in_channels: int, out_channels: int) -> None:
        super().__init__(config, in_channels=in_channels, out_channels=out_channels)
        d = config.embed_dim or out_channels
        self.n_classes, self.embed_dim = out_channels, d
        self.embed = nn.Parameter(torch.eye(out_channels, d) if d == out_channels else
                                  torch.randn(out_channels, d) / math.sqrt(d))
        self.blocks = nn.ModuleList(_Block(in_channels, d, out_channels, config.hidden,
                                           config.dropout) for _ in range(config.steps))
        self.classifier = nn.Linear(d, out_channels)
        ab = _cosine_alpha_bar(config.steps)
        snr = ab / (1 - ab)
        self.register_buffer("alpha_bar", ab.float(), persistent=False)
        # the weight of block t (t = 1 … T) denoising level k = T − t + 1 into k − 1
        levels = torch.arange(config.steps, 0, -1)
        self.register_buffer("weight", (config.steps * config.eta / 2
                                        * (snr[levels - 1] - snr[levels])).float(),
                             persistent=False)

    # ------------------------------------------------------------------ pieces
    def _u_hat(self, t: int, x: Tensor, z: Tensor, embed: Tensor | None = None) -> Tensor:
        return self.blocks[t](x, z).softmax(-1) @ (self.embed if embed is None else embed)

    def _posterior(self, k: int) -> tuple[float, float, float]:
        """(a, b, c) of q(z_{k−1} | z_k, u) = N(a u + b z_k, c I)."""
        ab = self.alpha_bar.double()
        a_k = float(ab[k] / ab[k - 1])
        a = float(ab[k - 1].sqrt() * (1 - a_k) / (1 - ab[k]))
        b = float(math.sqrt(a_k) * (1 - ab[k - 1]) / (1 - ab[k]))
        c = float((1 - ab[k - 1]) * (1 - a_k) / (1 - ab[k]))
        return a, b, c

    def _chain(self, x: Tensor, noise: torch.Generator | None) -> Tensor:
        """The inference chain from noise to level 0 (``noise`` None: the global generator, with
        gradients through the blocks, as the backprop baseline trains)."""
        shape = (*x.shape[:-1], self.embed_dim)

        def randn() -> Tensor:
            return torch.randn(shape, generator=noise, device=x.device, dtype=x.dtype) \
                if noise is not None else torch.randn(shape, device=x.device, dtype=x.dtype)

        z = randn()
        T = self.config.steps
        for t in range(T):
            k = T - t
            a, b, c = self._posterior(k)
            z = a * self._u_hat(t, x, z) + b * z + (math.sqrt(c) * randn() if c > 0 else 0.0)
        return z

    # ------------------------------------------------------------------ the model's uses
    def forward(self, x: Tensor, edge_index: Tensor | None = None) -> Tensor:
        """Class logits of the classifier at the end of the inference chain (the noise drawn
        from a generator seeded per call)."""
        g = torch.Generator(device=x.device).manual_seed(0)
        return self.classifier(self._chain(x, g))

    @property
    def trains_locally(self) -> bool:
        return self.config.training == "local"

    def local_losses(self, x: Tensor, y: Tensor) -> Iterator[tuple[str, Tensor]]:
        """NoProp's training terms of inputs ``x`` (n, F) with classes ``y`` (n,), one at a time
        (the engine back-propagates each before asking for the next)."""
        T = self.config.steps
        ab = self.alpha_bar
        for t in range(T):
            k = T - t
            # a block's loss trains that block alone: the embedding it predicts with and aims
            # at is held fixed here (it learns from the classifier's term, `out`)
            embed = self.embed.detach()
            u = embed[y]
            z = ab[k].sqrt() * u + (1 - ab[k]).sqrt() * torch.randn_like(u)
            err = (self._u_hat(t, x, z, embed) - u).square().sum(-1).mean()
            yield f"block_{t + 1}", self.weight[t] * err
        u = self.embed[y]
        z0 = ab[0].sqrt() * u + (1 - ab[0]).sqrt() * torch.randn_like(u)
        ce = F.cross_entropy(self.classifier(z0), y)
        # KL(N(√ᾱ_T u, (1 − ᾱ_T) I) ‖ N(0, I)) per example
        var = 1 - ab[T]
        kl = 0.5 * (ab[T] * u.square().sum(-1) + self.embed_dim * (var - 1 - var.log())).mean()
        yield "out", ce + kl

    def backprop_loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The baseline: cross entropy of the classifier at the end of the chain, back-propagated
        through every block."""
        return F.cross_entropy(self.classifier(self._chain(x, None)), y)
