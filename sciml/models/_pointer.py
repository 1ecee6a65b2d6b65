"""Pointer network (Vinyals, Fortunato, Jaitly, *Pointer Networks*, NeurIPS 2015,
https://arxiv.org/abs/1506.03134): a sequence-to-sequence model whose outputs are positions in
its input, so one network answers inputs of any length.

An LSTM encoder reads the points ``P_1 … P_n`` (each embedded linearly) into states
``e_1 … e_n``; an LSTM decoder, started from the encoder's last state, has state ``d_i`` at output
step ``i``, and attention over the inputs is the output distribution itself (eq. 3):

    u_j^i = vᵀ tanh(W₁ e_j + W₂ d_i),    p(C_i | C_1 … C_{i−1}, P) = softmax(u^i).

Position 0 is a learned end-of-sequence state ``e_0``, pointing at it ends the answer. The decoder's
input at step ``i`` is the embedding of the point chosen at step ``i − 1`` (a learned start vector
at step 1). Training is teacher forced: the cross entropy of the answer's indices and the end.

Decoding is greedy, restricted to answers of the right kind (the paper, section 4.4, restricts
its TSP beam search to valid tours the same way): ``convex_hull`` and ``tsp`` never point at a
point twice, ``tsp`` ends only after every point and ``convex_hull`` after three; ``delaunay``
ends only after a whole triangle. Departure: greedy decoding, not the paper's beam search.

``forward(points, lengths, targets)``: ``points`` ``(B, n, 2)`` (padded), ``lengths`` ``(B,)``,
``targets`` ``(B, L)`` answer indices padded with -1 → logits ``(B, L + 1, n + 1)`` over [end,
point 0 … n − 1] for the answer and its end. :meth:`decode` gives the answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml.models._base import AbstractModel
from sciml.registry import MODELS

__all__ = ["PointerNet", "PointerNetConfig", "POINTER_PROBLEMS"]

POINTER_PROBLEMS = ("convex_hull", "delaunay", "tsp")


@dataclass(frozen=True)
class PointerNetConfig:
    """``hidden``: units of the embedding, both LSTMs and the attention (paper: 256 or 512);
    ``layers``: encoder LSTM layers (paper: 1)."""

    hidden: int = 128
    layers: int = 1

    def __post_init__(self) -> None:
        for name in ("hidden", "layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"pointer_net: {name} must be an integer >= 1, got {v!r}")


@MODELS.register("pointer_net", PointerNetConfig, help="pointer network (Vinyals et al. 2015): "
                 "LSTM encoder-decoder whose attention points at input positions (convex hull, "
                 "Delaunay, TSP)")
class PointerNet(AbstractModel):
    """The pointer network (see the module text)."""

    def __init__(self, config: PointerNetConfig, problem: str = "convex_hull",
                 in_channels: int = 2) -> None:
        if problem not in POINTER_PROBLEMS:
            raise ValueError(f"pointer_net: problem must be one of {', '.join(POINTER_PROBLEMS)},"
                             f" got {problem!r}")
        super().__init__(config, problem=problem, in_channels=in_channels)
        h = config.hidden
        self.problem = problem
        self.embed = nn.Linear(in_channels, h)
        self.encoder = nn.LSTM(h, h, num_layers=config.layers, batch_first=True)
        self.decoder = nn.LSTMCell(h, h)
        self.start = nn.Parameter(torch.empty(h).uniform_(-0.08, 0.08))
        self.end = nn.Parameter(torch.empty(h).uniform_(-0.08, 0.08))
        self.w1 = nn.Linear(h, h, bias=False)
        self.w2 = nn.Linear(h, h, bias=False)
        self.v = nn.Linear(h, 1, bias=False)

    def encode(self, points: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Embedded inputs ``(B, n, h)``, encoder states with the end state first
        ``(B, n + 1, h)`` and the decoder's initial ``(h, c)``."""
        emb = self.embed(points)
        packed = nn.utils.rnn.pack_padded_sequence(emb, lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, (hn, cn) = self.encoder(packed)
        enc, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                  total_length=points.shape[1])
        end = self.end.expand(points.shape[0], 1, -1)
        return emb, torch.cat([end, enc], 1), hn[-1], cn[-1]

    def _scores(self, keys: Tensor, d: Tensor, pad: Tensor) -> Tensor:
        u = self.v(torch.tanh(keys + self.w2(d)[:, None]))[..., 0]
        return u.masked_fill(pad, float("-inf"))

    @staticmethod
    def _pad_mask(lengths: Tensor, n: int) -> Tensor:
        """``(B, n + 1)``: True at padded point positions (the end, position 0, is never)."""
        ar = torch.arange(n, device=lengths.device)
        return torch.cat([torch.zeros_like(lengths, dtype=torch.bool)[:, None],
                          ar[None] >= lengths[:, None]], 1)

    def forward(self, points: Tensor, lengths: Tensor, targets: Tensor) -> Tensor:
        b, n, _ = points.shape
        emb, enc, h, c = self.encode(points, lengths)
        keys = self.w1(enc)
        pad = self._pad_mask(lengths, n)
        steps = targets.shape[1] + 1
        idx = targets.clamp(min=0)
        inputs = torch.cat([self.start.expand(b, 1, -1),
                            torch.gather(emb, 1, idx[..., None].expand(-1, -1, emb.shape[2]))], 1)
        out = []
        for i in range(steps):
            h, c = self.decoder(inputs[:, i], (h, c))
            out.append(self._scores(keys, h, pad))
        return torch.stack(out, 1)

    @staticmethod
    def answer_targets(targets: Tensor) -> Tensor:
        """The class of every decoder step ``(B, L + 1)``: answer index + 1, then 0 (the end)
        after each answer, -1 beyond."""
        b = targets.shape[0]
        shifted = torch.where(targets >= 0, targets + 1, -1)
        out = torch.cat([shifted, torch.full((b, 1), -1, dtype=targets.dtype,
                                             device=targets.device)], 1)
        length = (targets >= 0).sum(1)
        out[torch.arange(b), length] = 0
        return out

    def loss(self, points: Tensor, lengths: Tensor, targets: Tensor) -> Tensor:
        """Teacher-forced cross entropy of the answers and their ends."""
        logits = self(points, lengths, targets)
        y = self.answer_targets(targets)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                               ignore_index=-1)

    @torch.no_grad()
    def decode(self, points: Tensor, lengths: Tensor, max_steps: int | None = None
               ) -> list[list[int]]:
        """Greedy answers, one list of point indices per set, restricted as the module text
        says."""
        b, n, _ = points.shape
        emb, enc, h, c = self.encode(points, lengths)
        keys = self.w1(enc)
        pad = self._pad_mask(lengths, n)
        no_repeat = self.problem in ("convex_hull", "tsp")
        if max_steps is None:
            max_steps = n + 1 if no_repeat else 3 * (2 * n) + 1
        used = torch.zeros(b, n + 1, dtype=torch.bool, device=points.device)
        done = torch.zeros(b, dtype=torch.bool, device=points.device)
        count = torch.zeros(b, dtype=torch.long, device=points.device)
        x = self.start.expand(b, -1)
        answers: list[list[int]] = [[] for _ in range(b)]
        rows = torch.arange(b, device=points.device)
        for _ in range(max_steps):
            h, c = self.decoder(x, (h, c))
            s = self._scores(keys, h, pad)
            if no_repeat:
                s = s.masked_fill(used, float("-inf"))
            if self.problem == "tsp":
                s[:, 0] = torch.where(count >= lengths, 0.0, float("-inf"))
                s[:, 1:] = s[:, 1:].masked_fill((count >= lengths)[:, None], float("-inf"))
            elif self.problem == "convex_hull":
                s[:, 0] = s[:, 0].masked_fill(count < 3, float("-inf"))
                s[:, 0] = s[:, 0].masked_fill(count >= lengths, 0.0)
            else:
                s[:, 0] = s[:, 0].masked_fill(count % 3 != 0, float("-inf"))
            pick = s.argmax(1)
            for k in (~done & (pick > 0)).nonzero().flatten().tolist():
                answers[k].append(int(pick[k]) - 1)
            done |= pick == 0
            if bool(done.all()):
                break
            used[rows, pick] = True
            count += (~done).long()
            x = emb[rows, (pick - 1).clamp(min=0)]
        return answers
