"""Trainer checkpoints: plain tensors and containers (``torch.load(weights_only=True)``), written
atomically, and the random-number-generator state they carry for exact resuming."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import atomic_torch_save
from sciml.errors import DataError

__all__ = ["CHECKPOINT_KEYS", "capture_rng", "restore_rng", "seed_everything",
           "model_checkpoint", "save_checkpoint", "load_checkpoint"]

CHECKPOINT_KEYS = ("model", "task_state", "optimizer", "scheduler", "rng", "epoch", "step",
                   "batch_in_epoch", "best_metric", "bad_epochs", "history", "trainer_config")


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and torch (CPU and all CUDA devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def capture_rng() -> dict[str, Any]:
    """The state of torch, CUDA, numpy and Python generators as tensors, lists and numbers."""
    version, mt, gauss_next = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    cuda: list[torch.Tensor] = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = list(torch.cuda.get_rng_state_all())
    return {
        "torch": torch.get_rng_state(),
        "cuda": cuda,
        "numpy": {"kind": str(kind), "keys": torch.from_numpy(keys.astype(np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": int(version), "state": [int(x) for x in mt],
                   "gauss_next": gauss_next},
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Set the generators to a state from :func:`capture_rng`."""
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available():
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
        else:  # a different machine: restore what matches
            for i, s in enumerate(cuda[: torch.cuda.device_count()]):
                torch.cuda.set_rng_state(s.cpu(), i)
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].cpu().numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))


def model_checkpoint(model: torch.nn.Module) -> dict[str, Any]:
    """``model.checkpoint()`` where the model has that method (every registered model: name,
    config, sizes and weights, so that the model can be rebuilt from the file alone), else
    ``{"state_dict": ...}``."""
    method = getattr(model, "checkpoint", None)
    if callable(method):
        return method()
    return {"state_dict": model.state_dict()}


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a Trainer checkpoint atomically (temporary file + rename)."""
    missing = [k for k in CHECKPOINT_KEYS if k not in state]
    if missing:
        raise ValueError(f"trainer checkpoint lacks keys {missing}")
    atomic_torch_save(state, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a Trainer checkpoint on the CPU with ``weights_only=True``.

    Raises:
        FileNotFoundError: no file at ``path``.
        DataError: the file is truncated, foreign, or lacks a Trainer checkpoint key.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no trainer checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated or foreign file
        raise DataError(f"{path}: cannot read trainer checkpoint "
                        f"({e.__class__.__name__}: {e})") from e
    if not isinstance(state, dict):
        raise DataError(f"{path}: not a trainer checkpoint (a {type(state).__name__})")
    missing = [k for k in CHECKPOINT_KEYS if k not in state]
    if missing:
        raise DataError(f"{path}: not a trainer checkpoint (missing key {missing[0]!r})")
    return state
