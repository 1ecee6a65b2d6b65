"""Planar point sets with an answer that is a sequence of their indices: the problems of pointer
networks (Vinyals, Fortunato, Jaitly, NeurIPS 2015).

``problem`` is one of

- ``convex_hull``: the hull's vertices counter-clockwise from the lowest index;
- ``delaunay``: the Delaunay triangles, each an index triple (sorted), the triples in order;
- ``tsp``: the shortest closed tour from point 0 (exact Held-Karp up to 13 points, else the
  best of several 2-opt tours, as the paper's references were),

with the exact answers of :mod:`sciml.solvers.point_tasks`. The points are uniform in the unit
square (as the paper's). Training and validation sets have ``n_min … n_max`` points per
instance; the test set ``test_n`` points, so that a run reports how a model trained on small
inputs does on larger ones (the paper's n = 50 from training on 5-50, or 5-20 for TSP).

Your own point sets: ``path`` to an ``.npz`` with ``points`` ``(G, n, 2)`` (the answers are
computed), or ``points`` plus ``point_ptr`` ``(G + 1,)`` for sets of different sizes
concatenated ``(N, 2)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sciml.errors import ConfigError, DataError

__all__ = ["PointSetData", "point_sets", "POINT_PROBLEMS", "answer", "read_point_sets"]

POINT_PROBLEMS = ("convex_hull", "delaunay", "tsp")


def answer(problem: str, points: np.ndarray) -> list[int]:
    """The canonical answer of ``problem`` on ``points`` ``(n, 2)`` as a list of indices
    (Delaunay: the triangles' indices one after another)."""
    from sciml.solvers.point_tasks import (
        TSP_EXACT_MAX,
        convex_hull_sequence,
        delaunay_triangles,
        tsp_exact,
        tsp_two_opt,
    )

    if problem == "convex_hull":
        return convex_hull_sequence(points)
    if problem == "delaunay":
        return [int(i) for i in delaunay_triangles(points).reshape(-1)]
    if problem == "tsp":
        return tsp_exact(points) if len(points) <= TSP_EXACT_MAX else tsp_two_opt(points)
    raise ConfigError(f"problem must be one of {', '.join(POINT_PROBLEMS)}, got {problem!r}")


@dataclass
class PointSetData:
    """Point sets and their answers, concatenated, and the train / validation / test ids.

    Attributes:
        name: The data set.
        problem: convex_hull, delaunay or tsp.
        points: All points ``(N, 2)`` (float32), set ``g`` at ``point_ptr[g]:point_ptr[g+1]``.
        point_ptr: ``(G + 1,)`` offsets.
        targets: All answers' indices (local to their set) ``(T,)``, set ``g``'s at
            ``target_ptr[g]:target_ptr[g+1]``.
        target_ptr: ``(G + 1,)`` offsets.
        train_idx, val_idx, test_idx: Set ids of each split.
        meta: How the data were made or read.
    """

    name: str
    problem: str
    points: Tensor
    point_ptr: Tensor
    targets: Tensor
    target_ptr: Tensor
    train_idx: Tensor
    val_idx: Tensor
    test_idx: Tensor
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.problem not in POINT_PROBLEMS:
            raise ConfigError(f"{self.name}: problem must be one of {', '.join(POINT_PROBLEMS)}, "
                              f"got {self.problem!r}")
        g = self.n_sets
        if self.target_ptr.shape != (g + 1,):
            raise DataError(f"{self.name}: target_ptr must have {g + 1} entries")
        sizes = self.point_ptr.diff()
        if bool((sizes < 3).any()):
            k = int((sizes < 3).nonzero()[0])
            raise DataError(f"{self.name}: set {k} has {int(sizes[k])} point(s); at least 3")
        if not bool(torch.isfinite(self.points).all()):
            raise DataError(f"{self.name}: the points must be finite")
        for split in ("train_idx", "val_idx", "test_idx"):
            idx = getattr(self, split)
            if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= g):
                raise DataError(f"{self.name}: {split} must be set ids in 0..{g - 1}")

    @property
    def n_sets(self) -> int:
        return int(self.point_ptr.shape[0]) - 1

    def item(self, g: int) -> tuple[Tensor, Tensor]:
        """Points ``(n, 2)`` and answer ``(L,)`` of set ``g``."""
        a, b = int(self.point_ptr[g]), int(self.point_ptr[g + 1])
        c, d = int(self.target_ptr[g]), int(self.target_ptr[g + 1])
        return self.points[a:b], self.targets[c:d]


def _concat(sets: list[np.ndarray], problem: str) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    answers = [answer(problem, p) for p in sets]
    sizes = torch.tensor([len(p) for p in sets])
    lengths = torch.tensor([len(a) for a in answers])
    return (torch.from_numpy(np.concatenate(sets)).float(),
            torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)]),
            torch.tensor([i for a in answers for i in a], dtype=torch.long),
            torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)]))


def read_point_sets(path: str | Path) -> list[np.ndarray]:
    """The point sets of an ``.npz`` (``points`` ``(G, n, 2)``, or ``(N, 2)`` with
    ``point_ptr``), each ``(n, 2)``."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix != ".npz":
        raise DataError(f"{path}: point sets are read from .npz (points, optional point_ptr)")
    with np.load(path, allow_pickle=False) as f:
        if "points" not in f.files:
            raise DataError(f"{path}: missing key points (found {', '.join(f.files)})")
        pts = np.asarray(f["points"], dtype=np.float64)
        ptr = np.asarray(f["point_ptr"]) if "point_ptr" in f.files else None
    if ptr is None:
        if pts.ndim == 2:
            pts = pts[None]
        if pts.ndim != 3 or pts.shape[2] != 2:
            raise DataError(f"{path}: points must be (sets, n, 2), got {pts.shape}")
        sets = list(pts)
    else:
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise DataError(f"{path}: with point_ptr, points must be (N, 2), got {pts.shape}")
        if ptr.ndim != 1 or ptr[0] != 0 or ptr[-1] != len(pts) or (np.diff(ptr) < 0).any():
            raise DataError(f"{path}: point_ptr must rise from 0 to {len(pts)}")
        sets = [pts[a:b] for a, b in zip(ptr[:-1], ptr[1:], strict=True)]
    for k, p in enumerate(sets):
        if len(p) < 3:
            raise DataError(f"{path}: set {k} has {len(p)} point(s); at least 3")
        if not np.isfinite(p).all():
            raise DataError(f"{path}: set {k} has a non-finite coordinate")
    return sets


def point_sets(problem: str = "convex_hull", n_train: int = 10000, n_val: int = 500,
               n_test: int = 500, n_min: int = 5, n_max: int = 20, test_n: int | None = None,
               seed: int = 0, path: str | None = None) -> PointSetData:
    """Generated (or your own, ``path``) point sets with their answers (see the module text)."""
    if problem not in POINT_PROBLEMS:
        raise ConfigError(f"point_sets: problem must be one of {', '.join(POINT_PROBLEMS)}, "
                          f"got {problem!r}")
    if path is not None:
        sets = read_point_sets(path)
        pts, pptr, tg, tptr = _concat(sets, problem)
        everything = torch.arange(len(sets))
        return PointSetData(Path(path).stem, problem, pts, pptr, tg, tptr, everything[:0],
                            everything[:0], everything,
                            {"source": str(Path(path).expanduser()),
                             "answers": "computed (sciml.solvers.point_tasks)"})
    for k, v in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if isinstance(v, bool) or not isinstance(v, int) or v < (1 if k == "n_train" else 0):
            raise ConfigError(f"point_sets: {k} must be a non-negative integer (n_train >= 1), "
                              f"got {v!r}")
    test_n = n_max if test_n is None else test_n
    if not (isinstance(n_min, int) and isinstance(n_max, int) and isinstance(test_n, int)
            and 3 <= n_min <= n_max and test_n >= 3):
        raise ConfigError(f"point_sets: need integers 3 <= n_min <= n_max and test_n >= 3, got "
                          f"{n_min!r}, {n_max!r}, {test_n!r}")
    if problem == "tsp" and max(n_max, test_n) > 100:
        raise ConfigError("point_sets: tsp references are computed up to 100 points")
    rng = np.random.default_rng(seed)
    sizes = [*rng.integers(n_min, n_max + 1, n_train + n_val).tolist(), *[test_n] * n_test]
    sets = [rng.random((int(n), 2)) for n in sizes]
    from sciml.data import cache_dir

    key = f"v1-{problem}-{seed}-{n_train}-{n_val}-{n_test}-{n_min}-{n_max}-{test_n}"
    cache = cache_dir() / "point_sets" / f"{key}.pt"
    if cache.is_file():
        stored = torch.load(cache, weights_only=True)
        tg, tptr = stored["targets"], stored["target_ptr"]
        pts = torch.from_numpy(np.concatenate(sets)).float()
        pptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.tensor(sizes).cumsum(0)])
    else:
        pts, pptr, tg, tptr = _concat(sets, problem)
        from sciml.data import atomic_torch_save

        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_torch_save({"targets": tg, "target_ptr": tptr}, cache)
    ids = torch.arange(n_train + n_val + n_test)
    return PointSetData(
        problem, problem, pts, pptr, tg, tptr, ids[:n_train], ids[n_train:n_train + n_val],
        ids[n_train + n_val:],
        {"source": f"generated (seed {seed}): uniform points in the unit square",
         "train sizes": f"{n_min}-{n_max}", "test size": str(test_n),
         "answers": "exact (Qhull; Held-Karp up to 13 points, 2-opt above)"})


def _register() -> None:
    from sciml.registry import DATASETS

    @dataclass(frozen=True)
    class PointSetsConfig:
        """Options of ``point_sets``: ``problem`` (convex_hull, delaunay, tsp), ``n_train``,
        ``n_val``, ``n_test`` sets; ``n_min`` … ``n_max`` points per training set, ``test_n``
        per test set; ``seed``; or ``path`` (your .npz of points, all test sets)."""

        problem: str = "convex_hull"
        n_train: int = 10000
        n_val: int = 500
        n_test: int = 500
        n_min: int = 5
        n_max: int = 20
        test_n: int | None = None
        seed: int = 0
        path: str | None = None

    def build(cfg: PointSetsConfig) -> PointSetData:
        return point_sets(cfg.problem, cfg.n_train, cfg.n_val, cfg.n_test, cfg.n_min, cfg.n_max,
                          cfg.test_n, cfg.seed, cfg.path)

    build.__doc__ = point_sets.__doc__
    if "point_sets" not in DATASETS:
        DATASETS.register("point_sets", PointSetsConfig)(build)


_register()
