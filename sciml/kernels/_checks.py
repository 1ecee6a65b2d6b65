"""Argument checks shared by the kernels: each error names the argument and what is allowed."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "check_tensor",
    "check_index",
    "check_reduce",
    "check_dim",
    "infer_size",
]

_INDEX_DTYPES = (torch.int64, torch.int32)


def check_tensor(t: object, name: str, *, floating: bool = False) -> Tensor:
    """Require a tensor (optionally of a floating dtype)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if floating and not t.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype (float16/bfloat16/float32/float64), "
                        f"got {t.dtype}")
    return t


def check_index(index: object, name: str, *, size: int | None = None,
                upper: int | None = None, ndim: int = 1) -> Tensor:
    """Require an integer index tensor of ``ndim`` dims, values in ``[0, upper)``; return int64.

    Args:
        index: The candidate index tensor.
        name: Argument name used in error messages.
        size: Required length of the last dimension, if given.
        upper: Exclusive upper bound on the values, if given.
        ndim: Required number of dimensions.
    """
    if not isinstance(index, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of int64, got {type(index).__name__}")
    if index.dtype not in _INDEX_DTYPES:
        raise TypeError(f"{name} must have an integer dtype (torch.int64 or torch.int32), "
                        f"got {index.dtype}")
    if index.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(index.shape)}")
    if size is not None and index.size(-1) != size:
        raise ValueError(f"{name} must have length {size} along its last dimension, "
                         f"got shape {tuple(index.shape)}")
    if index.numel() > 0:
        lo, hi = int(index.min()), int(index.max())
        if lo < 0:
            raise ValueError(f"{name} has a negative entry ({lo}); entries must be >= 0")
        if upper is not None and hi >= upper:
            raise ValueError(f"{name} has an entry {hi} out of range: entries must be < {upper}")
    return index.long()


def check_reduce(reduce: object, allowed: tuple[str, ...]) -> str:
    """Require ``reduce`` to be one of ``allowed``."""
    if not isinstance(reduce, str) or reduce not in allowed:
        raise ValueError(f"reduce must be one of {allowed}, got {reduce!r}")
    return reduce


def check_dim(dim: object, ndim: int) -> int:
    """Normalise a possibly negative dimension ``dim`` of a tensor with ``ndim`` dims."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if not -ndim <= dim < max(ndim, 1):
        raise ValueError(f"dim={dim} is out of range for a tensor with {ndim} dimension(s)")
    return dim % max(ndim, 1)


def infer_size(index: Tensor, dim_size: object, name: str = "dim_size") -> int:
    """``dim_size`` if given (checked), else ``index.max() + 1`` (0 for an empty index)."""
    if dim_size is None:
        return int(index.max()) + 1 if index.numel() > 0 else 0
    if isinstance(dim_size, bool) or not isinstance(dim_size, int):
        raise TypeError(f"{name} must be an int or None, got {type(dim_size).__name__}")
    if dim_size < 0:
        raise ValueError(f"{name} must be >= 0, got {dim_size}")
    return dim_size
