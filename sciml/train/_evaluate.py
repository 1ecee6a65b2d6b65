"""Exact metric means over a data set: (sum, count) pairs summed over batches and ranks."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Number
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from sciml.errors import DataError
from sciml.train._batches import global_batches, make_loader, move_to, rank_slice
from sciml.train._distributed import DistEnv, all_gather_objects, all_reduce_sum
from sciml.train._task import AbstractTask

__all__ = ["evaluate_metrics", "check_dataset"]


def check_dataset(dataset: Any, name: str) -> int:
    """Length of a map-style dataset; TypeError for anything else, DataError if it is empty."""
    if isinstance(dataset, torch.utils.data.IterableDataset) or not (
            hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
        raise TypeError(f"{name} must be a map-style dataset (with __len__ and __getitem__), "
                        f"got {type(dataset).__name__}")
    n = len(dataset)
    if n == 0:
        raise DataError(f"{name} dataset is empty")
    return n


def _as_scalar(value: Any, what: str, device: torch.device) -> Tensor:
    if isinstance(value, Tensor):
        return value.detach().to(device=device, dtype=torch.float64).sum()
    if isinstance(value, Number) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.float64, device=device)
    raise TypeError(f"{what} must be a tensor or a number, got {type(value).__name__}")


def evaluate_metrics(task: AbstractTask, dataset: Dataset, collate_fn: Callable,
                     batch_size: int, env: DistEnv, device: torch.device, num_workers: int,
                     prefix: str) -> dict[str, float]:
    """Mean of each of ``task.metrics`` over ``dataset`` as ``{f"{prefix}/{name}": mean}``.

    The data set is read in order in global batches of ``batch_size``; each rank takes
    ``batch[rank::world_size]`` (the whole batch where the ranks share the data); sums and
    counts are added over batches and ranks before dividing, so the means equal those of one
    pass over the whole data set.
    """
    n = check_dataset(dataset, prefix)
    local = [s for s in (rank_slice(b, env.data_rank, env.data_world)
                         for b in global_batches(range(n), batch_size)) if s]
    sums: dict[str, Tensor] = {}
    counts: dict[str, Tensor] = {}
    was_training = task.training
    task.eval()
    try:
        with torch.no_grad():
            loader = make_loader(dataset, local, collate_fn, num_workers,
                                 device.type == "cuda", seed=0)
            for batch in loader:
                out = task.metrics(move_to(batch, device))
                if not isinstance(out, dict):
                    raise TypeError(f"{type(task).__name__}.metrics must return a dict of "
                                    f"name -> (sum, count), got {type(out).__name__}")
                for name, pair in out.items():
                    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                        raise TypeError(f"{type(task).__name__}.metrics()[{name!r}] must be a "
                                        f"(sum, count) pair, got {pair!r}")
                    s = _as_scalar(pair[0], f"metric {name!r} sum", device)
                    c = _as_scalar(pair[1], f"metric {name!r} count", device)
                    sums[name] = sums[name] + s if name in sums else s
                    counts[name] = counts[name] + c if name in counts else c
    finally:
        task.train(was_training)
    # a rank may have seen no batch (a data set smaller than the world): agree on the names
    names = sorted(set().union(*all_gather_objects(sorted(sums), env)))
    if not names:
        return {}
    zero = torch.zeros((), dtype=torch.float64, device=device)
    packed = torch.stack([torch.stack([sums.get(k, zero) for k in names]),
                          torch.stack([counts.get(k, zero) for k in names])])
    all_reduce_sum(packed, env)
    total = packed.cpu().tolist()
    return {f"{prefix}/{k}": (s / c if c > 0 else math.nan)
            for k, s, c in zip(names, total[0], total[1], strict=True)}
