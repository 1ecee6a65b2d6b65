"""Relation-composition graphs: systematic relational reasoning over Allen's interval algebra
(the RCC-8 / interval-algebra benchmarks of Khalid and Schockaert's EpiGNN, ICLR 2025).

Each graph has a head (node 0) and a tail (node 1) joined by ``b`` parallel paths of ``k``
edges; every edge carries a relation of the algebra (its type, 0 … 12) and points along its path.
The class is the relation between head and tail that the graph entails: each path composes to a
set of possible relations (:func:`sciml.solvers.relation_algebra.path_mask`), and the paths are
drawn so that the sets intersect in exactly one relation. Training graphs have short paths
(``k`` in ``train_lengths``); test graphs longer ones too (``test_lengths``): whether a model
composes relations systematically or learned patterns of short paths.

Drawing, as the paper's generator: pools of random paths of 2-4 edges with their relation sets;
``b`` paths of ``min(k, 4)`` edges whose sets intersect in the label; then, while a path is
shorter than ``k``, one of its edges ``r`` is replaced by a path of 2-3 edges that composes to
exactly ``{r}`` (which leaves the path's set unchanged). Every graph's label is checked by
recomputing the intersection.

Node features (3): head flag, tail flag, and the flag of the nodes of the first path (a
shortest head-tail path, which EpiGNN's forward-backward read-out follows). ``edge_type`` holds
the relations. ``graph_info`` gives each graph's ``length`` (k) and ``paths`` (b).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sciml.datasets._graph_sets import GraphClassificationData

from sciml.errors import ConfigError, DataError

__all__ = ["relation_paths"]


def _pools(rng: np.random.Generator, n: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    from sciml.solvers.relation_algebra import path_mask

    pools = {}
    for length in (2, 3, 4):
        paths = rng.integers(0, 13, size=(n, length))
        masks = np.array([path_mask(p.tolist()) for p in paths])
        pools[length] = (paths, masks)
    return pools


def _draw_graph(rng: np.random.Generator, pools: dict, singles: dict[int, list[list[int]]],
                label: int, k: int, b: int, tries: int = 2000) -> list[list[int]] | None:
    """``b`` relation paths of ``k`` edges whose sets intersect in ``{label}``."""
    base = min(k, 4)
    paths, masks = pools[base]
    ok = np.nonzero(masks >> label & 1)[0]
    if not len(ok):
        return None
    for _ in range(tries):
        pick = rng.choice(ok, size=b)
        inter = int(np.bitwise_and.reduce(masks[pick]))
        if inter != 1 << label:
            continue
        out = [paths[i].tolist() for i in pick]
        for p in out:
            while len(p) < k:
                pos = int(rng.integers(len(p)))
                options = [q for q in singles[p[pos]] if len(p) - 1 + len(q) <= k]
                if not options:
                    break
                q = options[int(rng.integers(len(options)))]
                p[pos:pos + 1] = q
            if len(p) != k:
                break
        else:
            return out
    return None


def relation_paths(n_per_cell: int = 40, train_lengths: tuple = (2, 3, 4),
                   test_lengths: tuple = (2, 3, 4, 5, 6, 7, 8, 9),
                   branches: tuple = (1, 2, 3), val_fraction: float = 0.2,
                   seed: int = 0) -> GraphClassificationData:
    """Interval-algebra composition graphs, short paths to train on, longer ones to test.

    ``n_per_cell`` graphs per label, length and number of paths; training and validation from
    ``train_lengths``, test graphs from ``test_lengths`` (see the module text)."""
    from sciml.solvers.relation_algebra import INTERVAL_RELATIONS, path_mask

    for name, v in (("train_lengths", train_lengths), ("test_lengths", test_lengths),
                    ("branches", branches)):
        if (not isinstance(v, (list, tuple)) or not v
                or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in v)):
            raise ConfigError(f"relation_paths: {name} must be a list of integers >= 1, got "
                              f"{v!r}")
    if min(train_lengths) < 2 or min(test_lengths) < 2:
        raise ConfigError("relation_paths: paths have at least 2 edges (lengths >= 2)")
    if not (isinstance(n_per_cell, int) and n_per_cell >= 1):
        raise ConfigError(f"relation_paths: n_per_cell must be an integer >= 1, got "
                          f"{n_per_cell!r}")
    if not 0 <= val_fraction < 1:
        raise ConfigError(f"relation_paths: val_fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    pools = _pools(rng, 20000)
    singles: dict[int, list[list[int]]] = {r: [] for r in range(13)}
    for length in (2, 3):
        paths, masks = pools[length]
        for p, m in zip(paths, masks, strict=True):
            m = int(m)
            if m and not m & (m - 1):
                singles[m.bit_length() - 1].append(p.tolist())
    graphs: list[tuple[list[list[int]], int, int, int, str]] = []
    for split, lengths in (("train", train_lengths), ("test", test_lengths)):
        for k in lengths:
            for b in branches:
                for label in range(13):
                    for _ in range(n_per_cell):
                        g = _draw_graph(rng, pools, singles, label, k, b)
                        if g is not None:
                            graphs.append((g, label, k, b, split))
    if not graphs:
        raise DataError("relation_paths: no graph could be drawn")
    xs, eis, types, owner, ys, info_k, info_b, split_of = [], [], [], [], [], [], [], []
    offset = 0
    for gid, (paths, label, k, b, split) in enumerate(graphs):
        inter = -1
        for p in paths:
            inter &= path_mask(p)
        if inter != 1 << label:
            raise DataError(f"relation_paths: graph {gid} entails {inter:#b}, not its label")
        nodes = 2 + sum(len(p) - 1 for p in paths)
        x = np.zeros((nodes, 3), dtype=np.float32)
        x[0, 0] = x[1, 1] = 1.0
        nxt = 2
        for j, p in enumerate(paths):
            chain = [0] + list(range(nxt, nxt + len(p) - 1)) + [1]
            nxt += len(p) - 1
            if j == 0:
                x[chain, 2] = 1.0
            for (u, v), r in zip(zip(chain[:-1], chain[1:], strict=True), p, strict=True):
                eis.append((u + offset, v + offset))
                types.append(r)
        xs.append(x)
        owner.append(np.full(nodes, gid))
        ys.append(label)
        info_k.append(k)
        info_b.append(b)
        split_of.append(split)
        offset += nodes
    n = len(graphs)
    train_pool = np.array([i for i in range(n) if split_of[i] == "train"])
    test = np.array([i for i in range(n) if split_of[i] == "test"])
    perm = rng.permutation(train_pool)
    n_val = int(round(val_fraction * len(perm)))
    data = GraphClassificationData(
        "relation_paths", torch.from_numpy(np.concatenate(xs)),
        torch.tensor(eis, dtype=torch.long).T.contiguous(),
        torch.from_numpy(np.concatenate(owner)).long(), torch.tensor(ys),
        torch.from_numpy(np.sort(perm[n_val:])).long(),
        torch.from_numpy(np.sort(perm[:n_val])).long(), torch.from_numpy(test).long(), 13,
        list(INTERVAL_RELATIONS),
        {"source": f"generated (seed {seed}): Allen's interval algebra, paths composed",
         "train": f"lengths {list(train_lengths)}, paths {list(branches)}",
         "test": f"lengths {list(test_lengths)}, paths {list(branches)}",
         "features": "head, tail, first-path flags"},
        edge_type=torch.tensor(types, dtype=torch.long), n_edge_types=13,
        graph_info={"length": torch.tensor(info_k), "paths": torch.tensor(info_b)})
    return data


def _register() -> None:
    from dataclasses import dataclass

    from sciml.registry import DATASETS

    @dataclass(frozen=True)
    class RelationPathsConfig:
        """Options of ``relation_paths``: ``n_per_cell`` graphs per label × length × paths;
        ``train_lengths``, ``test_lengths`` (edges per path), ``branches`` (paths per graph),
        ``val_fraction`` of the training graphs, ``seed``."""

        n_per_cell: int = 40
        train_lengths: tuple = (2, 3, 4)
        test_lengths: tuple = (2, 3, 4, 5, 6, 7, 8, 9)
        branches: tuple = (1, 2, 3)
        val_fraction: float = 0.2
        seed: int = 0

    def build(cfg: RelationPathsConfig) -> Any:
        return relation_paths(cfg.n_per_cell, tuple(cfg.train_lengths), tuple(cfg.test_lengths),
                              tuple(cfg.branches), cfg.val_fraction, cfg.seed)

    build.__doc__ = relation_paths.__doc__
    if "relation_paths" not in DATASETS:
        DATASETS.register("relation_paths", RelationPathsConfig)(build)


_register()
