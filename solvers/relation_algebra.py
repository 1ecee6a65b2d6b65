"""Allen's interval algebra: the 13 relations between two intervals of a line and their
composition table, derived exactly by enumeration (no table typed in by hand).

For intervals ``a = [a0, a1)`` and ``b = [b0, b1)`` (``a0 < a1``) the relation ``a R b`` is one of
``eq`` (equal), ``b`` / ``bi`` (before / after), ``m`` / ``mi`` (meets / met by), ``o`` / ``oi``
(overlaps / overlapped by), ``s`` / ``si`` (starts / started by), ``d`` / ``di`` (during /
contains), ``f`` / ``fi`` (finishes / finished by). Index 0 is ``eq``, the identity of
composition.

The composition ``R ∘ S`` is the set of relations ``a T c`` possible when ``a R b`` and ``b S c``.
Three intervals have at most six endpoints, so every order type of three intervals is realised by
intervals with integer endpoints in ``0 … 5``: enumerating those gives the whole table.

Sets of relations are bit masks (bit ``r`` for relation ``r``); :func:`compose_masks` composes
two sets as the union of the compositions of their members, so a path ``r1, r2, …, rk`` of
relations composes to ``compose_masks(… compose_masks(1 << r1, 1 << r2) …, 1 << rk)``, the
relations algebraic closure allows between the path's ends.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np

__all__ = ["INTERVAL_RELATIONS", "interval_relation", "interval_composition", "compose_masks",
           "path_mask", "CONVERSE"]

INTERVAL_RELATIONS = ("eq", "b", "bi", "m", "mi", "o", "oi", "s", "si", "d", "di", "f", "fi")
#: the converse of each relation (a R b ⇔ b R˘ a), by index
CONVERSE = tuple(INTERVAL_RELATIONS.index(n[:-1] if n.endswith("i") else n + "i")
                 if n != "eq" else 0 for n in INTERVAL_RELATIONS)


def interval_relation(a: tuple[float, float], b: tuple[float, float]) -> int:
    """The index of the relation ``a R b`` of two intervals ``(start, end)``, start < end."""
    (a0, a1), (b0, b1) = a, b
    if not (a0 < a1 and b0 < b1):
        raise ValueError(f"intervals need start < end, got {a} and {b}")
    if a0 == b0 and a1 == b1:
        name = "eq"
    elif a1 < b0:
        name = "b"
    elif b1 < a0:
        name = "bi"
    elif a1 == b0:
        name = "m"
    elif b1 == a0:
        name = "mi"
    elif a0 == b0:
        name = "s" if a1 < b1 else "si"
    elif a1 == b1:
        name = "f" if a0 > b0 else "fi"
    elif b0 < a0 and a1 < b1:
        name = "d"
    elif a0 < b0 and b1 < a1:
        name = "di"
    else:
        name = "o" if a0 < b0 else "oi"
    return INTERVAL_RELATIONS.index(name)


@lru_cache(maxsize=1)
def interval_composition() -> np.ndarray:
    """``C`` ``(13, 13, 13)`` bool: ``C[r, s, t]`` iff ``t ∈ r ∘ s``."""
    intervals = list(combinations(range(6), 2))
    rel = np.array([[interval_relation(a, b) for b in intervals] for a in intervals])
    table = np.zeros((13, 13, 13), dtype=bool)
    r_ab = rel[:, :, None]
    r_bc = rel[None, :, :]
    r_ac = rel[:, None, :]
    table[np.broadcast_to(r_ab, (15, 15, 15)), np.broadcast_to(r_bc, (15, 15, 15)),
          np.broadcast_to(r_ac, (15, 15, 15))] = True
    return table


@lru_cache(maxsize=1)
def _mask_table() -> np.ndarray:
    """``M[r, s]``: the bit mask of ``r ∘ s``."""
    c = interval_composition()
    return (c * (1 << np.arange(13))).sum(-1).astype(np.int64)


def compose_masks(x: int, y: int) -> int:
    """The composition of the relation sets ``x`` and ``y`` (bit masks)."""
    m = _mask_table()
    out = 0
    xs = [r for r in range(13) if x >> r & 1]
    ys = [s for s in range(13) if y >> s & 1]
    for r in xs:
        for s in ys:
            out |= int(m[r, s])
    return out


def path_mask(relations: list[int]) -> int:
    """The relations algebraic closure allows between the ends of a path of ``relations``."""
    if not relations:
        return 1  # eq
    out = 1 << int(relations[0])
    for r in relations[1:]:
        out = compose_masks(out, 1 << int(r))
    return out
