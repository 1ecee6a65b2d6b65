"""Experts of one hard-constraint MoE solved on separate processes (torch.distributed).

The paper's speed-up comes from solving the experts on separate devices (Chalapathi et al.,
ICLR 2024, section 4). Every rank runs the same backbone on the same batch, so every rank holds
the same basis functions; rank r solves only its block of experts and the solved weights of all
experts are gathered, so that every rank assembles the same field. Two autograd functions carry
the gradients, the pattern of tensor-parallel layers:

- :class:`_SumGradients`, identity forward, all-reduce backward: put on the solver's inputs of
  *all* experts before a rank selects its own. Each rank's implicit gradient reaches only its
  own experts' inputs (the others' are zero there), so the sum over ranks is the gradient of
  every expert, and every rank continues the backward pass with the same tensor.
- :class:`_GatherExperts`, all-gather forward, slice backward: the gradient reaching the
  gathered weights is the same on every rank (everything after the gather is replicated), so
  each rank keeps the part of its own experts.

The parameters' gradients then come out equal on every rank without any further
communication, and an optimizer step keeps the replicas equal: a training loop written for one
process runs unchanged on every rank (no DistributedDataParallel, no data split; see
``sciml.train.Trainer``). Two collectives per forward (the sampled points and the weights) and
one per backward.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["ExpertRanks", "expert_ranks", "experts_on_this_rank", "gather_info"]

_LOCAL = [0]   # depth of experts_on_this_rank()


@contextlib.contextmanager
def experts_on_this_rank() -> Iterator[None]:
    """Solve every expert in this process, even under torch.distributed: for work that one
    rank does alone (plots, predictions written by rank 0), where a collective would wait for
    peers that do not come."""
    _LOCAL[0] += 1
    try:
        yield
    finally:
        _LOCAL[0] -= 1


class ExpertRanks:
    """Which experts this rank solves: the contiguous block ``[start, stop)`` of ``n_experts``.

    Args:
        rank: This process's rank in ``group``.
        world: The group's size (at most ``n_experts``).
        n_experts: Experts of the MoE.
        group: The process group (None: the default group).
    """

    def __init__(self, rank: int, world: int, n_experts: int, group=None) -> None:
        if world > n_experts:
            raise ValueError(f"expert parallelism over {world} ranks needs at least as many "
                             f"experts, got {n_experts}")
        self.rank, self.world, self.n_experts, self.group = rank, world, n_experts, group
        bounds = [r * n_experts // world for r in range(world + 1)]
        self.counts = [bounds[r + 1] - bounds[r] for r in range(world)]
        self.start, self.stop = bounds[rank], bounds[rank + 1]

    def __repr__(self) -> str:
        return (f"ExpertRanks(rank={self.rank}, world={self.world}, "
                f"experts=[{self.start}, {self.stop}) of {self.n_experts})")

    def problems(self, batch: int, device: torch.device | None = None) -> Tensor:
        """Indices of this rank's problems among the ``batch · K`` (sample-major) ones."""
        k = self.n_experts
        mine = torch.arange(self.start, self.stop, device=device)
        return (torch.arange(batch, device=device)[:, None] * k + mine).flatten()

    def agree(self, t: Tensor) -> Tensor:
        """``t`` as rank 0 has it (random draws that every rank must share)."""
        t = t.contiguous()
        dist.broadcast(t, src=0 if self.group is None else dist.get_global_rank(self.group, 0),
                       group=self.group)
        return t

    def sum_gradients(self, *tensors: Tensor) -> tuple[Tensor, ...]:
        """Identity forward; backward sums each tensor's gradient over the ranks."""
        return _SumGradients.apply(self, *tensors)

    def gather(self, local: Tensor) -> Tensor:
        """``(b, K_r, ...)`` of this rank's experts -> ``(b, K, ...)`` of all experts, in
        expert order (differentiable; the gradient returns to this rank's slice)."""
        return _GatherExperts.apply(self, local)


def expert_ranks(n_experts: int) -> ExpertRanks | None:
    """The default process group's split of ``n_experts``; None for one process (or inside
    :func:`experts_on_this_rank`)."""
    if _LOCAL[0] or not (dist.is_available() and dist.is_initialized()) \
            or dist.get_world_size() == 1:
        return None
    return ExpertRanks(dist.get_rank(), dist.get_world_size(), n_experts)


def _all_gather_padded(ranks: ExpertRanks, local: Tensor) -> Tensor:
    """Concatenate every rank's ``(b, K_r, ...)`` along dim 1 (padded to the largest block for
    the collective, then unpadded)."""
    width = max(ranks.counts)
    pad = local.new_zeros(local.shape[0], width, *local.shape[2:])
    pad[:, : local.shape[1]] = local
    parts = [torch.empty_like(pad) for _ in range(ranks.world)]
    dist.all_gather(parts, pad.contiguous(), group=ranks.group)
    return torch.cat([p[:, :n] for p, n in zip(parts, ranks.counts, strict=True)], dim=1)


class _SumGradients(torch.autograd.Function):
    @staticmethod
    def forward(ctx, ranks: ExpertRanks, *tensors: Tensor) -> tuple[Tensor, ...]:
        ctx.ranks = ranks
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx, *grads: Tensor) -> tuple[Tensor | None, ...]:
        # one collective for all tensors (grads are materialised: zeros where unused)
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM, group=ctx.ranks.group)
        out, at = [], 0
        for g in grads:
            out.append(flat[at: at + g.numel()].view_as(g))
            at += g.numel()
        return (None, *out)


class _GatherExperts(torch.autograd.Function):
    @staticmethod
    def forward(ctx, ranks: ExpertRanks, local: Tensor) -> Tensor:
        ctx.ranks = ranks
        return _all_gather_padded(ranks, local.detach())

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, Tensor]:
        ranks = ctx.ranks
        return None, grad[:, ranks.start: ranks.stop]


def gather_info(ranks: ExpertRanks, *values: Tensor) -> list[Tensor]:
    """Non-differentiable per-expert values ``(b, K_r)`` of every rank -> ``(b, K)`` each."""
    stacked = torch.stack([v.to(torch.float64) for v in values], dim=-1)
    full = _all_gather_padded(ranks, stacked)
    return [full[..., i].to(v.dtype) for i, v in enumerate(values)]
