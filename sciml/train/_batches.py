"""Deterministic batches: the data order of an epoch, its global batches, each rank's slice."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from jaxtyping import Int
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

__all__ = ["epoch_seed", "epoch_order", "global_batches", "rank_slice", "make_loader", "move_to"]


def epoch_seed(seed: int, epoch: int) -> int:
    """Seed of the data order of ``epoch``: ``seed * 1000003 + epoch``."""
    return seed * 1000003 + epoch


def epoch_order(n: int, seed: int, epoch: int) -> Int[Tensor, " n"]:
    """Permutation of ``range(n)`` for ``epoch``, from its own generator (not the global RNG),
    so that a resumed run rebuilds it."""
    g = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    return torch.randperm(n, generator=g)


def global_batches(order: Tensor | Sequence[int], batch_size: int) -> list[list[int]]:
    """Global batch ``b`` is ``order[b*B:(b+1)*B]``; the last one may be shorter."""
    order = [int(i) for i in order]
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def rank_slice(batch: list[int], rank: int, world_size: int) -> list[int]:
    """This rank's samples of a global batch: ``batch[rank::world_size]`` (may be empty)."""
    return batch[rank::world_size]


def make_loader(dataset: Dataset, batches: list[list[int]], collate_fn: Callable,
                num_workers: int, pin_memory: bool, seed: int) -> DataLoader:
    """A DataLoader over fixed index batches.

    It gets its own generator, because a DataLoader otherwise draws its worker seed from the
    global torch RNG each time it is iterated, which would make a resumed run diverge.
    """
    return DataLoader(dataset, batch_sampler=batches, collate_fn=collate_fn,
                      num_workers=num_workers, pin_memory=pin_memory,
                      generator=torch.Generator().manual_seed(seed))


def move_to(batch: Any, device: torch.device) -> Any:
    """Move tensors, containers of them and objects with ``.to`` (PyG ``Data``) to ``device``."""
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        moved = {k: move_to(v, device) for k, v in batch.items()}
        return moved if type(batch) is dict else type(batch)(moved)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(move_to(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    if hasattr(batch, "to") and callable(batch.to):
        return batch.to(device)
    return batch
