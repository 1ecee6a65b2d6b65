"""Sudoku: an exact solver that counts solutions, and a generator of puzzles with a unique
solution and a chosen number of givens (the data of recurrent relational networks, Palm, Paquet,
Winther, NeurIPS 2018).

A grid is 81 integers in row-major order, 0 for an empty cell and 1-9 for a digit.

The solver is constraint propagation (a placed digit is removed from its 20 peers; a digit with
one place left in a row, column or box goes there) with depth-first search on the cell with the
fewest candidates. :func:`count_solutions` stops at ``limit`` solutions, so ``count_solutions(p,
2) == 1`` certifies that ``p`` has exactly one solution.

The generator fills an empty grid by the same search with the digits in random order (a uniform
draw over search orders, not over all grids), then empties cells in random order, keeping each
removal only if the solution stays unique, until ``givens`` digits remain. Random removal ends in
a *minimal* puzzle (no further cell can be emptied) at 22-28 givens (300 draws: mean 24.5, none
below 22). Below that a local search goes on (``moves``): put one solution digit back into an empty
cell, empty cells again in random order while the solution stays unique, and keep the result when
it has no more givens than before. In 300 moves (about 5 s) it reaches 20-21 givens (10 of 10
draws); 17-19 are not reached this way (17-given puzzles are rare enough to be collected by
search over millions, as the paper's data were). :func:`generate_puzzle` returns ``None`` when it
does not reach ``givens``; :func:`generate_puzzles` retries with new grids up to ``attempts`` times
and then says how far it got.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["PEERS", "UNITS", "count_solutions", "solve_sudoku", "propagate", "generate_puzzle",
           "generate_puzzles", "check_grid", "sudoku_edges"]

ROWS = [[r * 9 + c for c in range(9)] for r in range(9)]
COLS = [[r * 9 + c for r in range(9)] for c in range(9)]
BOXES = [[(br * 3 + i) * 9 + bc * 3 + j for i in range(3) for j in range(3)]
         for br in range(3) for bc in range(3)]
#: the 27 units (rows, columns, boxes), each 9 cells
UNITS = ROWS + COLS + BOXES
#: the 20 cells that share a unit with each cell
PEERS = [sorted({p for u in UNITS if i in u for p in u} - {i}) for i in range(81)]
ALL = (1 << 9) - 1  # bit d - 1 set: digit d is possible
_BIT = {1 << d: d + 1 for d in range(9)}


def sudoku_edges() -> np.ndarray:
    """The Sudoku graph: ``(2, 1620)`` directed edges between every cell and its 20 peers."""
    src = [i for i in range(81) for _ in PEERS[i]]
    dst = [p for i in range(81) for p in PEERS[i]]
    return np.array([src, dst], dtype=np.int64)


def check_grid(grid: Sequence[int], where: str = "sudoku") -> list[int]:
    """81 digits 0-9 with no digit twice in a row, column or box; returns them as a list."""
    g = [int(v) for v in np.asarray(grid).reshape(-1)]
    if len(g) != 81:
        raise ValueError(f"{where}: a grid has 81 cells, got {len(g)}")
    bad = [i for i, v in enumerate(g) if not 0 <= v <= 9]
    if bad:
        raise ValueError(f"{where}: cell {bad[0]} (row {bad[0] // 9 + 1}, column "
                         f"{bad[0] % 9 + 1}) holds {g[bad[0]]}, not 0-9")
    for u in UNITS:
        seen = [g[i] for i in u if g[i]]
        if len(seen) != len(set(seen)):
            d = next(v for v in seen if seen.count(v) > 1)
            raise ValueError(f"{where}: digit {d} twice in the unit of cells {u[0]}..{u[-1]}")
    return g


def _propagate(cand: list[int], queue: list[int]) -> bool:
    """Remove fixed digits from peers and place hidden singles until nothing changes; False on
    a contradiction. ``cand``: candidate bit masks, changed in place."""
    while True:
        while queue:
            i = queue.pop()
            m = cand[i]
            for p in PEERS[i]:
                c = cand[p]
                if c & m:
                    c &= ~m
                    if not c:
                        return False
                    cand[p] = c
                    if not c & (c - 1):
                        queue.append(p)
        for u in UNITS:
            once = twice = 0
            for i in u:
                c = cand[i]
                twice |= once & c
                once |= c
            if once != ALL:
                return False
            single = once & ~twice
            if single:
                for i in u:
                    c = cand[i]
                    if c & single and c & (c - 1):
                        hit = c & single
                        if hit & (hit - 1):
                            return False  # two digits that must both go in this cell
                        cand[i] = hit
                        queue.append(i)
        if not queue:
            return True


def _start(grid: Sequence[int]) -> list[int] | None:
    cand = [ALL] * 81
    queue = []
    for i, v in enumerate(grid):
        if v:
            if not cand[i] & (1 << (v - 1)):
                return None
            cand[i] = 1 << (v - 1)
            queue.append(i)
    return cand if _propagate(cand, queue) else None


def _search(cand: list[int], limit: int, found: list[list[int]],
            rng: np.random.Generator | None) -> None:
    best, best_n = -1, 10
    for i, c in enumerate(cand):
        if c & (c - 1):
            n = c.bit_count()
            if n < best_n:
                best, best_n = i, n
                if n == 2:
                    break
    if best < 0:
        found.append([_BIT[c] for c in cand])
        return
    c = cand[best]
    bits = [1 << d for d in range(9) if c >> d & 1]
    if rng is not None:
        rng.shuffle(bits)
    for b in bits:
        nxt = cand.copy()
        nxt[best] = b
        if _propagate(nxt, [best]):
            _search(nxt, limit, found, rng)
            if len(found) >= limit:
                return


def count_solutions(grid: Sequence[int], limit: int = 2) -> int:
    """The number of solutions of ``grid``, counted up to ``limit`` (0 for a contradiction)."""
    cand = _start(check_grid(grid))
    if cand is None:
        return 0
    found: list[list[int]] = []
    _search(cand, limit, found, None)
    return len(found)


def propagate(grid: Sequence[int]) -> list[int] | None:
    """``grid`` with every cell that constraint propagation alone decides filled in (no search;
    0 where a cell keeps several candidates), or ``None`` for a contradiction."""
    cand = _start(check_grid(grid))
    if cand is None:
        return None
    return [_BIT.get(c, 0) for c in cand]


def solve_sudoku(grid: Sequence[int]) -> list[int] | None:
    """A solution of ``grid`` (81 digits), or ``None`` if it has none."""
    cand = _start(check_grid(grid))
    if cand is None:
        return None
    found: list[list[int]] = []
    _search(cand, 1, found, None)
    return found[0] if found else None


def _random_full(rng: np.random.Generator) -> list[int]:
    found: list[list[int]] = []
    _search([ALL] * 81, 1, found, rng)
    return found[0]


def _remove(puzzle: list[int], givens: int, rng: np.random.Generator) -> int:
    """Empty cells of ``puzzle`` in random order while the solution stays unique, down to
    ``givens`` at most; return the givens left."""
    left = sum(1 for v in puzzle if v)
    for i in rng.permutation(81):
        if left == givens:
            break
        if not puzzle[i]:
            continue
        keep = puzzle[i]
        puzzle[i] = 0
        if count_solutions(puzzle, 2) == 1:
            left -= 1
        else:
            puzzle[i] = keep
    return left


def generate_puzzle(givens: int, rng: np.random.Generator, moves: int = 300
                    ) -> tuple[list[int], list[int]] | None:
    """``(puzzle, solution)`` with exactly ``givens`` digits and a unique solution, or ``None``
    when neither random removal nor ``moves`` steps of the local search reached it."""
    if not 17 <= givens <= 81:
        raise ValueError(f"givens must be in 17..81 (no Sudoku with fewer than 17 givens has a "
                         f"unique solution), got {givens}")
    solution = _random_full(rng)
    puzzle = solution.copy()
    left = _remove(puzzle, givens, rng)
    for _ in range(moves):
        if left == givens:
            break
        empty = [i for i in range(81) if not puzzle[i]]
        trial = puzzle.copy()
        cell = empty[int(rng.integers(len(empty)))]
        trial[cell] = solution[cell]
        n = _remove(trial, givens, rng)
        if n <= left:
            puzzle, left = trial, n
    return (puzzle, solution) if left == givens else None


def generate_puzzles(n: int, min_givens: int = 25, max_givens: int = 34, seed: int = 0,
                     attempts: int = 50, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Puzzles ``start … start + n − 1`` of a stream, each with a unique solution, as
    ``(puzzles, solutions)``, each ``(n, 81)`` int8.

    Puzzle ``k`` has ``min_givens + k % (max_givens − min_givens + 1)`` givens (the numbers
    cycle evenly over the range) and its own random stream ``default_rng([seed, k])``, so a
    puzzle does not depend on how the stream is cut into calls. A puzzle that ended minimal above
    its number of givens is drawn again, ``attempts`` times at most (then a ValueError says to
    raise ``min_givens``)."""
    if not 17 <= min_givens <= max_givens <= 81:
        raise ValueError(f"need 17 <= min_givens <= max_givens <= 81, got {min_givens}, "
                         f"{max_givens}")
    puzzles = np.zeros((n, 81), dtype=np.int8)
    solutions = np.zeros((n, 81), dtype=np.int8)
    span = max_givens - min_givens + 1
    for row, k in enumerate(range(start, start + n)):
        rng = np.random.default_rng([seed, k])
        givens = min_givens + k % span
        for _ in range(attempts):
            out = generate_puzzle(givens, rng)
            if out is not None:
                break
        else:
            raise ValueError(f"no puzzle with {givens} givens in {attempts} attempts: random "
                             f"removal ends in minimal puzzles above that; use min_givens >= "
                             f"{givens + 1}")
        puzzles[row], solutions[row] = out
    return puzzles, solutions
