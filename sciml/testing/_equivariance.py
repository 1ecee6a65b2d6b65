"""A generic check of E(d) equivariance of point-cloud models (rotations, reflections,
translations, node permutations), in the spirit of e3nn's ``assert_equivariant``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from sciml.geometry import random_reflection, random_rotation

__all__ = ["equivariance_errors", "assert_equivariant", "OUTPUT_KINDS", "TRANSFORMS",
           "DEFAULT_ATOL"]

#: How each output transforms: graph-level invariants, node-level invariants, node vectors
#: ``(N, C, d)`` (rotate, permute), graph-level vectors ``(G, C, d)`` (rotate only).
OUTPUT_KINDS = ("graph_scalar", "node_scalar", "node_vector", "graph_vector")
TRANSFORMS = ("rotation", "reflection", "translation", "permutation")
#: Tolerance on ``max |f(g x) - g f(x)| / max(1, max |f(x)|)`` by dtype.
DEFAULT_ATOL = {torch.float64: 1e-10, torch.float32: 1e-5}

Fn = Callable[[Tensor, Tensor | None, Tensor | None, Tensor], Sequence[Tensor]]


def _apply(kind: str, out: Tensor, mat: Tensor | None, perm: Tensor | None) -> Tensor:
    if kind in ("node_scalar", "node_vector") and perm is not None:
        out = out[perm]
    if kind in ("node_vector", "graph_vector") and mat is not None:
        out = out @ mat.T.to(out.dtype)
    return out


def equivariance_errors(
    fn: Fn, pos: Tensor, x: Tensor | None = None, vec: Tensor | None = None,
    batch: Tensor | None = None, *,
    outputs: Sequence[str], transforms: Sequence[str] = ("rotation", "translation", "permutation"),
    trials: int = 3, generator: torch.Generator | None = None, rotations: Tensor | None = None,
) -> dict[str, float]:
    """Largest relative error ``max |f(g x) - g f(x)| / max(1, max |f(x)|)`` per transform.

    Args:
        fn: ``fn(pos (N, d), x (N, F) or None, vec (N, C, d) or None, batch (N,))`` returning
            one tensor per entry of ``outputs``.
        pos: Positions ``(N, d)``, d = 2 or 3.
        x: Scalar node features (permuted with the nodes) or None.
        vec: Vector inputs ``(N, C, d)`` (rotated with the positions) or None.
        batch: Graph id per node (default all zeros).
        outputs: Kind of each output, from :data:`OUTPUT_KINDS`.
        transforms: Which of :data:`TRANSFORMS` to test.
        trials: Random draws per transform.
        generator: Random generator for the draws.
        rotations: Use these ``(T, d, d)`` matrices instead of random rotations/reflections.

    Returns:
        ``{transform: error}``.
    """
    for k in outputs:
        if k not in OUTPUT_KINDS:
            raise ValueError(f"unknown output kind {k!r}; valid: {', '.join(OUTPUT_KINDS)}")
    for t in transforms:
        if t not in TRANSFORMS:
            raise ValueError(f"unknown transform {t!r}; valid: {', '.join(TRANSFORMS)}")
    n, d = pos.shape
    batch = torch.zeros(n, dtype=torch.long) if batch is None else batch
    ref = [o.detach() for o in fn(pos, x, vec, batch)]
    if len(ref) != len(outputs):
        raise ValueError(f"fn returned {len(ref)} outputs but {len(outputs)} kinds were given")
    scale = max([1.0] + [float(o.abs().max()) for o in ref if o.numel()])
    errors: dict[str, float] = {}
    for t in transforms:
        worst = 0.0
        for i in range(trials):
            mat = perm = None
            p, s, v, b = pos, x, vec, batch
            if t in ("rotation", "reflection"):
                if rotations is not None:
                    mat = rotations[i % len(rotations)]
                else:
                    draw = random_rotation if t == "rotation" else random_reflection
                    mat = draw(d, generator=generator, dtype=torch.float64)
                mat = mat.to(pos.dtype)
                p = pos @ mat.T
                v = None if vec is None else vec @ mat.T
            elif t == "translation":
                p = pos + 3.0 * torch.randn(1, d, generator=generator, dtype=torch.float64).to(
                    pos.dtype)
            else:
                perm = torch.randperm(n, generator=generator)
                p, b = pos[perm], batch[perm]
                s = None if x is None else x[perm]
                v = None if vec is None else vec[perm]
            new = fn(p, s, v, b)
            for kind, r, o in zip(outputs, ref, new, strict=True):
                expect = _apply(kind, r, mat, perm)
                worst = max(worst, float((o.detach() - expect).abs().max()) / scale)
        errors[t] = worst
    return errors


def assert_equivariant(fn: Fn, pos: Tensor, x: Tensor | None = None,
                       vec: Tensor | None = None, batch: Tensor | None = None, *,
                       outputs: Sequence[str],
                       transforms: Sequence[str] = ("rotation", "translation", "permutation"),
                       atol: float | None = None, **kwargs) -> dict[str, float]:
    """Raise ``AssertionError`` naming the transform if :func:`equivariance_errors` exceeds
    ``atol`` (default :data:`DEFAULT_ATOL` for ``pos.dtype``); return the errors."""
    tol = DEFAULT_ATOL.get(pos.dtype, 1e-5) if atol is None else atol
    errors = equivariance_errors(fn, pos, x, vec, batch, outputs=outputs, transforms=transforms,
                                 **kwargs)
    bad = {t: e for t, e in errors.items() if not e <= tol}
    if bad:
        raise AssertionError(f"not equivariant under {', '.join(bad)}: errors {bad} > {tol:g}")
    return errors
