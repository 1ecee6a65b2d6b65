"""DistributedDataParallel plumbing: the torchrun environment, the process group, collectives."""

from __future__ import annotations

import atexit
import dataclasses
import os
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from sciml.errors import ConfigError

__all__ = ["DistEnv", "dist_env", "for_model", "init_distributed", "resolve_device",
           "all_reduce_sum", "all_gather_objects", "barrier"]


@dataclass(frozen=True)
class DistEnv:
    """Rank, world size and local rank of this process (``1`` process when not under torchrun),
    and whether the ranks share the data (see :func:`for_model`)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    shared_data: bool = False

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def data_parallel(self) -> bool:
        """The ranks split the data (DistributedDataParallel); False where they share every
        batch and the model splits its own work (``shared_data``, e.g. expert parallelism)."""
        return self.distributed and not self.shared_data

    @property
    def data_rank(self) -> int:
        """This rank's share of the data: ``rank``, or 0 where the ranks share the data."""
        return self.rank if self.data_parallel else 0

    @property
    def data_world(self) -> int:
        """Number of data shards: ``world_size``, or 1 where the ranks share the data."""
        return self.world_size if self.data_parallel else 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer") from None


def dist_env() -> DistEnv:
    """Read ``WORLD_SIZE`` / ``RANK`` / ``LOCAL_RANK`` (set by torchrun); defaults: one process."""
    world = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local = _env_int("LOCAL_RANK", rank)
    if world < 1 or not 0 <= rank < world or local < 0:
        raise ConfigError(f"inconsistent torchrun environment: WORLD_SIZE={world}, RANK={rank}, "
                          f"LOCAL_RANK={local} (need 0 <= RANK < WORLD_SIZE)")
    return DistEnv(rank=rank, world_size=world, local_rank=local)


def for_model(env: DistEnv, model: Any) -> DistEnv:
    """``env`` with ``shared_data`` set where ``model`` splits its own work over the ranks and
    needs the same batches on every rank (its ``ranks_share_data``, e.g. an expert-parallel
    hard-constraint MoE): no data split, no DistributedDataParallel, one seed for all ranks."""
    if env.distributed and bool(getattr(model, "ranks_share_data", False)):
        return dataclasses.replace(env, shared_data=True)
    return env


def resolve_device(device: str, env: DistEnv) -> torch.device:
    """``"auto"`` → CUDA if available else CPU; under torchrun, CUDA means ``cuda:LOCAL_RANK``."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"trainer.device={device!r} but CUDA is not available; use 'auto' "
                              "or 'cpu'")
        if dev.index is None:
            dev = torch.device("cuda", env.local_rank if env.distributed else 0)
    return dev


_INITIALISED_HERE = False
# Seconds to wait at exit, after leaving the group, with the GIL released (see ``_destroy``).
_EXIT_GRACE_S = 0.2


def _destroy() -> None:
    """Leave the process group at exit, then give its worker threads time to finish.

    A gloo worker thread releases the last collective's work object (and with it the tensors of
    that collective) just after the work completes. Releasing a tensor that has a Python object
    takes the GIL. If the interpreter has begun to finalise by then, the thread is made to exit
    inside a C++ destructor, and the process aborts with "terminate called without an active
    exception" (seen in a core dump: ``~AsyncWork`` → ``decref_pyobject`` → ``take_gil`` →
    ``pthread_exit``), so torchrun reports a failed run after all work was done. That happened in
    2 of 40 two-rank test runs. Sleeping here, before finalisation, lets the workers take the GIL
    and finish: 0 of 150 runs failed with it. It narrows a timing window; it cannot close it.
    """
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
        time.sleep(_EXIT_GRACE_S)


def init_distributed(env: DistEnv, device: torch.device) -> None:
    """Join the process group (NCCL on CUDA, gloo on CPU) unless one process or already joined.

    The group stays for the life of the process (fit and evaluate both use it) and is destroyed
    at exit (see ``_destroy``).
    """
    global _INITIALISED_HERE
    if not env.distributed or dist.is_initialized():
        return
    if not dist.is_available():
        raise ConfigError(f"WORLD_SIZE={env.world_size} but torch.distributed is not available")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, rank=env.rank, world_size=env.world_size)
    if not _INITIALISED_HERE:
        atexit.register(_destroy)
        _INITIALISED_HERE = True


def all_reduce_sum(t: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """Sum ``t`` over the data's ranks in place (a no-op for one process, or where the ranks
    share the data and hold the same sums); returns ``t``."""
    if env.data_parallel:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def all_gather_objects(obj: Any, env: DistEnv) -> list[Any]:
    """The picklable ``obj`` of every rank, in rank order (``[obj]`` for one process)."""
    if not env.distributed:
        return [obj]
    out: list[Any] = [None] * env.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()
