"""Sudoku puzzles as graphs: 81 cells, an edge between every two cells of a row, column or box
(1,620 directed edges), and the digit of each empty cell to find (node-level classes 0-8 for the
digits 1-9; the given cells carry no label, ``-1``).

Node features (28): the cell's given digit one-hot over 0-9 (0: empty), its row one-hot and its
column one-hot, the inputs of Palm et al.'s recurrent relational network (their digit, row and
column embeddings are a linear layer of these).

- Generated (default): ``n_puzzles`` puzzles with unique solutions from
  :func:`sciml.solvers.sudoku.generate_puzzles`, givens spread evenly over ``min_givens …
  max_givens``, written once into the cache (``cache_dir()/"sudoku"``) and read from there.
- Your own puzzles: ``path`` to a CSV / text file with one puzzle per line, ``puzzle,solution``
  as two strings of 81 characters (``0`` or ``.`` for an empty cell): the format of the RRN
  paper's data (``train.csv`` of https://www.dropbox.com/s/rp3hbjs91xiqdgc/sudoku-hard.zip) and
  of the Kaggle "1 million Sudoku games" file (a ``quizzes,solutions`` header line is skipped).
  Every line is checked (length, digits, givens agree with the solution, the solution is a valid
  grid); errors name the line.

Splits: a random ``split`` of the puzzles with ``split_seed``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from sciml.datasets._graph_sets import GraphClassificationData, _check_split, stratified_split
from sciml.datasets._pde_cache import generate_cached

from sciml.errors import ConfigError, DataError

__all__ = ["sudoku", "sudoku_graphs", "read_sudoku_file", "puzzle_givens"]


def sudoku_graphs(puzzles: np.ndarray, solutions: np.ndarray | None = None
                  ) -> dict[str, torch.Tensor]:
    """``x`` ``(81 G, 28)``, ``edge_index``, ``graph_index`` and (with ``solutions``) ``y``
    (digit − 1 on empty cells, -1 on given ones) of ``G`` puzzles ``(G, 81)``."""
    from sciml.solvers.sudoku import sudoku_edges

    p = np.asarray(puzzles, dtype=np.int64).reshape(-1, 81)
    g = p.shape[0]
    cells = np.arange(81)
    x = np.zeros((g, 81, 28), dtype=np.float32)
    x[np.arange(g)[:, None], cells[None], p] = 1.0
    x[:, cells, 10 + cells // 9] = 1.0
    x[:, cells, 19 + cells % 9] = 1.0
    e = torch.from_numpy(sudoku_edges())
    out = {"x": torch.from_numpy(x.reshape(g * 81, 28)),
           "edge_index": (e[:, None, :] + 81 * torch.arange(g)[None, :, None]).reshape(2, -1),
           "graph_index": torch.arange(g).repeat_interleave(81)}
    if solutions is not None:
        s = np.asarray(solutions, dtype=np.int64).reshape(-1, 81)
        out["y"] = torch.from_numpy(np.where(p == 0, s - 1, -1).reshape(-1))
    return out


def puzzle_givens(x: torch.Tensor) -> torch.Tensor:
    """The number of givens of each puzzle from the node features ``(81 G, 28)`` → ``(G,)``."""
    return (x[:, 0] == 0).reshape(-1, 81).sum(1)


def _parse_grid(text: str, where: str) -> list[int]:
    text = text.strip().strip('"')
    if len(text) != 81:
        raise DataError(f"{where}: a grid has 81 characters, got {len(text)}")
    bad = [c for c in text if c not in "0123456789."]
    if bad:
        raise DataError(f"{where}: character {bad[0]!r} is not a digit or '.'")
    return [0 if c == "." else int(c) for c in text]


def read_sudoku_file(path: str | Path, need_solutions: bool = True
                     ) -> tuple[np.ndarray, np.ndarray | None]:
    """Puzzles (and solutions) of a CSV / text file (see the module text), each ``(G, 81)``."""
    from sciml.solvers.sudoku import check_grid

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    puzzles, solutions = [], []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            parts = [t for t in text.replace(";", ",").split(",") if t.strip()]
            if i == 1 and not any(c.isdigit() for c in parts[0]):
                continue  # a header (quizzes,solutions)
            where = f"{path}, line {i}"
            if len(parts) not in (1, 2) or (need_solutions and len(parts) != 2):
                want = "puzzle,solution" if need_solutions else "a puzzle (and its solution)"
                raise DataError(f"{where}: expected {want}, got {len(parts)} field(s)")
            try:
                q = check_grid(_parse_grid(parts[0], where + ", puzzle"), where + ", puzzle")
            except ValueError as e:
                raise DataError(str(e)) from None
            puzzles.append(q)
            if len(parts) == 2:
                a = _parse_grid(parts[1], where + ", solution")
                if 0 in a:
                    raise DataError(f"{where}: the solution has an empty cell "
                                    f"({a.index(0)})")
                try:
                    check_grid(a, where + ", solution")
                except ValueError as e:
                    raise DataError(str(e)) from None
                wrong = [k for k in range(81) if q[k] and q[k] != a[k]]
                if wrong:
                    k = wrong[0]
                    raise DataError(f"{where}: cell {k} (row {k // 9 + 1}, column {k % 9 + 1}) "
                                    f"is given as {q[k]} but the solution has {a[k]}")
                solutions.append(a)
    if not puzzles:
        raise DataError(f"{path}: no puzzle")
    if solutions and len(solutions) != len(puzzles):
        raise DataError(f"{path}: {len(solutions)} of {len(puzzles)} lines have a solution")
    return (np.asarray(puzzles, dtype=np.int8),
            np.asarray(solutions, dtype=np.int8) if solutions else None)


def _chunk(params: dict[str, Any], start: int, stop: int) -> dict[str, np.ndarray]:
    from sciml.solvers.sudoku import generate_puzzles

    p, s = generate_puzzles(stop - start, params["min_givens"], params["max_givens"],
                            params["seed"], start=start)
    return {"puzzles": p, "solutions": s}


def sudoku(n_puzzles: int = 2000, min_givens: int = 24, max_givens: int = 34, seed: int = 0,
           path: str | None = None, split: tuple[float, float, float] = (0.8, 0.1, 0.1),
           split_seed: int = 0, workers: int = 1, root: str | None = None
           ) -> GraphClassificationData:
    """Sudoku puzzles as a node-level graph set (see the module text)."""
    fractions = _check_split(split)
    if path is not None:
        puzzles, solutions = read_sudoku_file(path)
        source = str(Path(path).expanduser())
        name = Path(path).stem
    else:
        if isinstance(n_puzzles, bool) or not isinstance(n_puzzles, int) or n_puzzles < 10:
            raise ConfigError(f"sudoku: n_puzzles must be an integer >= 10, got {n_puzzles!r}")
        if not (isinstance(min_givens, int) and isinstance(max_givens, int)
                and 17 <= min_givens <= max_givens <= 80):
            raise ConfigError(f"sudoku: need integers 17 <= min_givens <= max_givens <= 80, got "
                              f"{min_givens!r}, {max_givens!r}")
        from sciml.data import cache_dir

        params = {"min_givens": min_givens, "max_givens": max_givens, "seed": seed,
                  "generator": "propagate-search-v2"}
        try:
            arrays = generate_cached(
                "sudoku", params, n_puzzles, _chunk, chunk_size=250,
                root=root if root is not None else cache_dir() / "sudoku", workers=workers,
                progress=False)
        except ValueError as e:
            raise ConfigError(f"sudoku: {e}") from None
        puzzles, solutions = arrays["puzzles"], arrays["solutions"]
        source = (f"generated (seed {seed}): unique-solution puzzles, {min_givens}-{max_givens} "
                  "givens")
        name = "sudoku"
    g = len(puzzles)
    a = sudoku_graphs(puzzles, solutions)
    tr, va, te = stratified_split(torch.zeros(g, dtype=torch.long), fractions, split_seed)
    givens = (np.asarray(puzzles) != 0).sum(1)
    return GraphClassificationData(
        name, a["x"], a["edge_index"], a["graph_index"], a["y"], tr, va, te, 9,
        [str(d) for d in range(1, 10)],
        {"source": source, "format": "sudoku grids",
         "features": "given digit (0-9), row, column, one-hot (28)",
         "givens": f"{int(givens.min())}-{int(givens.max())}",
         "labels": "the digit of each empty cell; given cells unlabelled",
         "split": f"random {fractions} of the puzzles (seed {split_seed})"}, "node")


def _register() -> None:
    from dataclasses import dataclass

    from sciml.registry import DATASETS

    @dataclass(frozen=True)
    class SudokuConfig:
        """Options of ``sudoku``: ``n_puzzles``, ``min_givens``, ``max_givens``, ``seed``
        (generated), or ``path`` (your puzzle,solution file); ``split``, ``split_seed``;
        ``workers`` (generation processes); ``root`` (cache folder)."""

        n_puzzles: int = 2000
        min_givens: int = 24
        max_givens: int = 34
        seed: int = 0
        path: str | None = None
        split: tuple = (0.8, 0.1, 0.1)
        split_seed: int = 0
        workers: int = 1
        root: str | None = None

    def build(cfg: SudokuConfig) -> GraphClassificationData:
        return sudoku(cfg.n_puzzles, cfg.min_givens, cfg.max_givens, cfg.seed, cfg.path,
                      tuple(cfg.split), cfg.split_seed, cfg.workers, cfg.root)

    build.__doc__ = sudoku.__doc__
    if "sudoku" not in DATASETS:
        DATASETS.register("sudoku", SudokuConfig)(build)


_register()
