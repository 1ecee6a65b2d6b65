"""``sciml compare RUN_A RUN_B``: how alike two trained runs' representations are, layer by layer.

Both runs see the same inputs: run A's test samples (or ``data``), in data set order, each fed
through its own task the way its evaluation feeds them (its own normalisation, coordinates,
graph), so two runs with different scalers or input channels still answer for the same physical
inputs. Forward hooks record the output of every chosen layer (default: the model's children,
containers such as ``layers`` opened one level, and the model's output); a layer called several
times per batch (a rollout's steps, a recurrence) contributes every call, in order.

Two views of one layer's output, of shape ``(rows, ...)``:

- **inputs**: one row per leading index (a sample for fields and windows; an atom or a node
  where the model flattens them into the first axis), everything else flattened into features.
  Linear CKA (and kernel CKA with ``kernel=True``) between every layer of A and every layer of B
  whose row counts agree: the heat map. At most :data:`MAX_ROWS` rows, the same ones on both
  sides (a seeded draw that depends on the row count only).
- **units**: one column per channel (axis ``job.channel_axis``: 1 for fields ``(n, c, *s)``, the
  last axis elsewhere), every sample and position a row (at most :data:`MAX_UNIT_ROWS`). SVCCA and
  one-to-one unit matching for the layers paired across the runs: the same name in both models,
  else the i-th with the i-th where both have as many layers.

CKA is biased upwards when the number of rows is small against the number of features
(Kornblith et al. 2019, Sec. 6.1 use thousands of inputs); the report states the rows used.
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sciml.analysis._similarity import _hsic, _rbf_from_gram, match_units, svcca
from sciml.errors import ConfigError, DataError

__all__ = ["compare_runs", "layer_names", "DEFAULT_SAMPLES", "MAX_ROWS", "MAX_UNIT_ROWS"]

DEFAULT_SAMPLES = 200
MAX_ROWS = 2000
MAX_UNIT_ROWS = 10_000
OUTPUT = "output"  # the name of the model's own output among the layers
NOT_CALLED = "not called on these inputs"


def layer_names(model: torch.nn.Module, patterns: Sequence[str] | None = None) -> list[str]:
    """The layers of ``model`` that :func:`compare_runs` records.

    Default: the model's children, containers (``ModuleList``, ``Sequential``, ``ModuleDict``)
    opened one level, then ``"output"`` (the model itself). With ``patterns``: every named module
    matching one of them (``fnmatch``: ``layers.?`` matches layers.0 to layers.9, ``layers.*``
    every module inside them, since ``*`` crosses dots; ``output`` is the model's output).
    """
    if patterns:
        named = [n for n, _ in model.named_modules() if n] + [OUTPUT]
        names = [n for n in named if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        if not names:
            raise ConfigError(f"no layer of {type(model).__name__} matches "
                              f"{', '.join(patterns)}; its layers: "
                              f"{', '.join(layer_names(model))}")
        return names
    out: list[str] = []
    for name, child in model.named_children():
        if isinstance(child, (torch.nn.ModuleList, torch.nn.Sequential, torch.nn.ModuleDict)):
            out += [f"{name}.{k}" for k, _ in child.named_children()]
        else:
            out.append(name)
    return out + [OUTPUT]


def _first_tensor(out: Any) -> Tensor | None:
    """The first non-empty tensor of a module's output (tuples, lists, dicts searched in
    order: PONITA's scalar and vector outputs, a recurrent layer's (output, state), ...)."""
    if isinstance(out, Tensor):
        return out if out.numel() > 0 else None
    items = out.values() if isinstance(out, dict) else out if isinstance(out, (tuple, list)) \
        else ()
    for item in items:
        t = _first_tensor(item)
        if t is not None:
            return t
    return None


@contextlib.contextmanager
def _recording(model: torch.nn.Module, names: list[str]) -> Iterator[dict[str, list[Tensor]]]:
    modules = dict(model.named_modules())
    outputs: dict[str, list[Tensor]] = {n: [] for n in names}

    def hook(name: str) -> Any:
        def record(module: torch.nn.Module, args: Any, output: Any) -> None:
            t = _first_tensor(output)
            if t is not None:
                t = t.detach()
                t = torch.view_as_real(t) if t.is_complex() else t
                outputs[name].append(t.to("cpu", torch.float64 if t.dtype == torch.float64
                                          else torch.float32))
        return record

    handles = [(model if n == OUTPUT else modules[n]).register_forward_hook(hook(n))
               for n in names]
    try:
        yield outputs
    finally:
        for h in handles:
            h.remove()


def _stack(calls: list[Tensor]) -> Tensor | str:
    """A layer's calls along the rows, or why they cannot be."""
    if not calls:
        return NOT_CALLED
    if calls[0].ndim == 0:
        return "a scalar output"
    if all(c.shape[1:] == calls[0].shape[1:] for c in calls):
        return torch.cat(calls, 0)
    flat = [c.reshape(c.shape[0], -1) for c in calls]
    if all(f.shape[1] == flat[0].shape[1] for f in flat):
        return torch.cat(flat, 0)
    return f"its output changes shape between calls ({tuple(calls[0].shape)}, ...)"


def _rows(n: int, cap: int) -> np.ndarray | None:
    """The rows kept of ``n`` (None: all): a seeded draw depending on ``n`` only, so two layers
    with as many rows keep the same ones."""
    if n <= cap:
        return None
    return np.sort(np.random.default_rng(n).choice(n, cap, replace=False))


@dataclass
class _Layer:
    """One layer's activations, reduced to what the comparisons need."""

    name: str
    shape: list[int]  # of one call's output
    rows: int  # rows of the inputs view before the cap
    x: np.ndarray | None = None  # centred inputs view (rows ≤ MAX_ROWS, features ≤ rows)
    gram: np.ndarray | None = None  # its centred Gram matrix (when features > rows or kernel)
    norm: float = 0.0  # ‖XᵀX‖_F = ‖XXᵀ‖_F
    units: np.ndarray | None = None  # (rows_u ≤ MAX_UNIT_ROWS, channels)
    unit_rows: int = 0
    skipped: str | None = None


def _reduce(name: str, a: Tensor | str, shape: list[int], channel_axis: int,
            need_gram: bool) -> _Layer:
    if isinstance(a, str):
        return _Layer(name, shape, 0, skipped=a)
    if not torch.isfinite(a).all():
        bad = int((~torch.isfinite(a)).sum())
        return _Layer(name, shape, a.shape[0], skipped=f"{bad} non-finite values")
    layer = _Layer(name, shape, a.shape[0])
    x = a.reshape(a.shape[0], -1)
    keep = _rows(x.shape[0], MAX_ROWS)
    x = (x if keep is None else x[torch.from_numpy(keep)]).double().numpy()
    x = x - x.mean(axis=0, keepdims=True)
    if x.shape[0] < 2:
        layer.skipped = "fewer than 2 rows"
        return layer
    if x.shape[1] > x.shape[0] or need_gram:
        layer.gram = x @ x.T
        layer.norm = float(np.linalg.norm(layer.gram))
    if x.shape[1] <= x.shape[0]:
        layer.x = x
        if layer.gram is None:
            layer.norm = float(np.linalg.norm(x.T @ x))
    if layer.norm == 0:
        layer.skipped = "constant over the inputs"
        layer.x = layer.gram = None
        return layer
    if a.ndim >= 2:
        u = a.movedim(channel_axis, -1) if a.ndim >= 3 else a
        u = u.reshape(-1, u.shape[-1])
        layer.unit_rows = u.shape[0]
        keep = _rows(u.shape[0], MAX_UNIT_ROWS)
        layer.units = (u if keep is None else u[torch.from_numpy(keep)]).double().numpy()
    return layer


def _linear_cka(a: _Layer, b: _Layer) -> float:
    if a.gram is not None and b.gram is not None:
        cross = float(np.sum(a.gram * b.gram))
    elif a.x is not None and b.x is not None:
        cross = float(np.linalg.norm(b.x.T @ a.x) ** 2)
    else:  # one side wide (Gram only), the other narrow: its Gram from x
        ga = a.gram if a.gram is not None else a.x @ a.x.T
        gb = b.gram if b.gram is not None else b.x @ b.x.T
        cross = float(np.sum(ga * gb))
    return cross / (a.norm * b.norm)


def _kernel_cka(a: _Layer, b: _Layer, sigma: float, cache: dict[int, np.ndarray]) -> float:
    def rbf(layer: _Layer) -> np.ndarray:
        if id(layer) not in cache:
            cache[id(layer)] = _rbf_from_gram(layer.gram, sigma)
        return cache[id(layer)]

    k, l = rbf(a), rbf(b)  # noqa: E741
    return _hsic(k, l) / math.sqrt(_hsic(k, k) * _hsic(l, l))


def _pairs(a: list[str], b: list[str]) -> tuple[list[tuple[str, str]], str]:
    same = [n for n in a if n in set(b)]
    if same:
        return [(n, n) for n in same], "layers of the same name"
    if len(a) == len(b):
        return list(zip(a, b, strict=True)), "the i-th layer of A with the i-th of B"
    return [], "none (the models share no layer name and have different numbers of layers)"


def _collect(run: Any, dataset: Any, collate: Any, names: list[str], batch_size: int
             ) -> tuple[dict[str, Tensor | str], dict[str, list[int]]]:
    """Each layer's outputs over ``dataset`` (stacked, or why not) and one call's shape."""
    from torch.utils.data import DataLoader, default_collate

    task = run.task
    task.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                        collate_fn=collate or default_collate)
    # the same random draws for both runs (evaluations that rotate or sample their inputs)
    with torch.random.fork_rng(devices=[]), _recording(run.model, names) as outputs, \
            torch.no_grad():
        torch.manual_seed(0)
        for batch in loader:
            task.metrics(batch)
    return {n: _stack(calls) for n, calls in outputs.items()}, \
        {n: list(calls[0].shape) if calls else [] for n, calls in outputs.items()}


def _subset(dataset: Any, n: int) -> Any:
    from torch.utils.data import Subset

    return dataset if n >= len(dataset) else Subset(dataset, range(n))


def compare_runs(run_a: str | os.PathLike, run_b: str | os.PathLike, *, data: Any = None,
                 samples: int = DEFAULT_SAMPLES, layers: Sequence[str] | None = None,
                 kernel: bool = False, sigma: float = 0.8, batch_size: int = 16,
                 all_svcca: bool = False, out: str | os.PathLike | None = None
                 ) -> dict[str, Any]:
    """Compare the representations of two trained runs on the same inputs (see the module text).

    Args:
        run_a, run_b: Trained run folders, of jobs of the same family (the inputs are run A's).
        data: Evaluate on this instead of run A's test split (a file or an in-memory data
            object, as :func:`sciml.evaluate` takes).
        samples: The first this many test samples (all if fewer).
        layers: ``fnmatch`` patterns of module names recorded in both models (default: see
            :func:`layer_names`).
        kernel: Also kernel CKA with an RBF kernel of ``sigma`` × the median distance.
        batch_size: Samples per forward call.
        all_svcca: Also SVCCA between every layer of A and every layer of B (units views with
            as many rows), as ``svcca``: the matrix that layer identification by SVCCA needs.
        out: Folder for ``compare.json`` and ``cka.png`` (written together, or neither); None:
            nothing written.

    Returns:
        The report: both runs and their layers, ``linear_cka`` (a matrix, layers of A × layers
        of B, None where the row counts differ), ``kernel_cka`` with ``kernel``, and ``pairs``
        (SVCCA and unit matching for the paired layers).
    """
    from sciml._api import load_run

    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 2:
        raise ConfigError(f"samples must be an integer ≥ 2, got {samples!r}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ConfigError(f"sigma must be > 0 (a fraction of the median distance), got {sigma!r}")
    a, b = load_run(run_a), load_run(run_b)
    family_a, family_b = a.recipe.get("task"), b.recipe.get("task")
    if family_a != family_b:
        raise ConfigError(f"{a.run_dir} is a {family_a} run and {b.run_dir} a {family_b} run: "
                          f"compare needs two runs of the same job")
    eval_data, source = a.eval_data(data)
    dataset, collate = a.job.test_samples(eval_data, a.spec)
    dataset = _subset(dataset, samples)
    names = {"A": layer_names(a.model, layers), "B": layer_names(b.model, layers)}
    reduced: dict[str, list[_Layer]] = {}
    for side, run in (("A", a), ("B", b)):
        try:
            acts, shapes = _collect(run, dataset, collate, names[side], batch_size)
        except (RuntimeError, ValueError, KeyError, IndexError) as e:
            raise DataError(f"{run.run_dir} cannot run on {source} of {a.run_dir}: "
                            f"{str(e).strip().splitlines()[0] if str(e).strip() else e!r}"
                            ) from e
        reduced[side] = [_reduce(n, acts[n], shapes[n], run.job.channel_axis, kernel)
                         for n in names[side]]
        del acts
    # modules the forward pass does not call as modules (a fused kernel reads their weights)
    not_called = {side: [x.name for x in layers if x.skipped == NOT_CALLED]
                  for side, layers in reduced.items()}
    la, lb = ([x for x in reduced[s] if x.skipped != NOT_CALLED] for s in ("A", "B"))
    for side, layers in (("A", la), ("B", lb)):
        if all(x.skipped for x in layers):
            raise DataError(f"no layer of {side} gave activations to compare: " + "; ".join(
                f"{x.name}: {x.skipped}" for x in reduced[side]))

    def matrix(fn: Any) -> list[list[float | None]]:
        return [[None if (x.skipped or y.skipped or x.rows != y.rows) else round(fn(x, y), 6)
                 for y in lb] for x in la]

    report: dict[str, Any] = {
        "run_a": str(a.run_dir), "run_b": str(b.run_dir),
        "model_a": a.job.model_name, "model_b": b.job.model_name,
        "evaluated_on": f"{source} of {a.run_dir}", "samples": len(dataset),
        "layers_a": [_describe(x) for x in la], "layers_b": [_describe(y) for y in lb],
        "linear_cka": matrix(_linear_cka),
    }
    for side in ("A", "B"):
        if not_called[side]:
            report[f"not_called_{side.lower()}"] = not_called[side]
    if kernel:
        cache: dict[int, np.ndarray] = {}
        report["kernel_cka"] = matrix(lambda x, y: _kernel_cka(x, y, sigma, cache))
        report["kernel_sigma"] = sigma
    if all_svcca:
        report["svcca"] = [[_svcca_or_none(x, y) for y in lb] for x in la]
    pairs, rule = _pairs([x.name for x in la], [y.name for y in lb])
    report["paired_by"] = rule
    by_a, by_b = {x.name: x for x in la}, {y.name: y for y in lb}
    report["pairs"] = [_pair_report(by_a[p], by_b[q], report, la, lb) for p, q in pairs]
    report["notes"] = [
        f"inputs view: rows are the leading axis of each output (at most {MAX_ROWS}, the same "
        "draw on both sides); CKA only between layers with as many rows",
        f"units view (SVCCA, unit matching): channels on axis {a.job.channel_axis} as units, "
        f"every sample and position a row (at most {MAX_UNIT_ROWS})",
    ]
    if out is not None:
        _write(Path(out), report)
    return report


def _svcca_or_none(x: _Layer, y: _Layer) -> float | None:
    """Mean SVCCA correlation of two layers' units views, None where they cannot be compared."""
    if x.skipped or y.skipped or x.units is None or y.units is None or x.unit_rows != y.unit_rows:
        return None
    try:
        return round(svcca(x.units, y.units).mean, 6)
    except ValueError:  # a constant units view
        return None


def _describe(layer: _Layer) -> dict[str, Any]:
    d: dict[str, Any] = {"name": layer.name, "shape": layer.shape, "rows": layer.rows}
    if layer.skipped:
        d["skipped"] = layer.skipped
    return d


def _pair_report(x: _Layer, y: _Layer, report: dict[str, Any], la: list[_Layer],
                 lb: list[_Layer]) -> dict[str, Any]:
    entry: dict[str, Any] = {"a": x.name, "b": y.name,
                             "linear_cka": report["linear_cka"][la.index(x)][lb.index(y)]}
    if "kernel_cka" in report:
        entry["kernel_cka"] = report["kernel_cka"][la.index(x)][lb.index(y)]
    if x.skipped or y.skipped:
        entry["skipped"] = x.skipped or y.skipped
    elif x.units is None or y.units is None or x.unit_rows != y.unit_rows:
        entry["skipped"] = (f"units views differ in rows ({x.unit_rows} and {y.unit_rows})"
                            if x.units is not None and y.units is not None
                            else "no channel axis")
    else:
        try:
            s = svcca(x.units, y.units)
            m = match_units(x.units, y.units)
        except ValueError as e:  # a constant units view
            entry["skipped"] = str(e)
        else:
            entry.update(svcca=round(s.mean, 6), svcca_kept=[s.kept_x, s.kept_y],
                         matched_units=len(m.pairs), matched_correlation=round(m.mean, 6),
                         units=[x.units.shape[1], y.units.shape[1]], unit_rows=x.unit_rows)
    return entry


def _write(out: Path, report: dict[str, Any]) -> None:
    """``compare.json`` and ``cka.png`` as the folder ``out``: both or, on failure, the folder
    as it was. A folder holding anything else is refused (it is replaced as a whole)."""
    from sciml.data import write_json

    out = out.absolute()
    if out.exists():
        if not out.is_dir():
            raise NotADirectoryError(f"{out} is a file, not a folder for the comparison")
        other = sorted(p.name for p in out.iterdir() if p.name not in ("compare.json", "cka.png"))
        if other:
            raise ConfigError(f"{out} holds other files ({', '.join(other[:3])}): give compare "
                              "a folder of its own")
    out.parent.mkdir(parents=True, exist_ok=True)
    # a plain mkdir (not mkdtemp's 0700) so the folder gets the user's usual permissions
    tmp = out.parent / f".{out.name}.writing-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)  # left by a killed process of the same id
    tmp.mkdir()
    old = None
    try:
        write_json(tmp / "compare.json", report)
        plot_cka(report, tmp / "cka.png")
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            old.rmdir()
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        if old is not None and not out.exists():
            old.rename(out)
            old = None
        raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def plot_cka(report: dict[str, Any], path: Path) -> None:
    """The heat map of ``report["linear_cka"]`` (layers of A down, of B across)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.array([[np.nan if v is None else v for v in row] for row in report["linear_cka"]],
                 dtype=float)
    names_a = [x["name"] for x in report["layers_a"]]
    names_b = [y["name"] for y in report["layers_b"]]
    fig, ax = plt.subplots(figsize=(1.6 + 0.55 * len(names_b), 1.4 + 0.45 * len(names_a)))
    try:
        im = ax.imshow(np.ma.masked_invalid(m), vmin=0, vmax=1, cmap="magma")
        ax.set_xticks(range(len(names_b)), names_b, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(names_a)), names_a, fontsize=8)
        ax.set_xlabel(f"B: {report['model_b']} ({Path(report['run_b']).name})")
        ax.set_ylabel(f"A: {report['model_a']} ({Path(report['run_a']).name})")
        if m.size <= 400:
            for i, j in np.ndindex(m.shape):
                if np.isfinite(m[i, j]):
                    ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=6,
                            color="black" if m[i, j] > 0.6 else "white")
        fig.colorbar(im, ax=ax, label="linear CKA")
        ax.set_title(f"linear CKA on {report['samples']} test samples (blank: rows differ)",
                     fontsize=9)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100)
    finally:
        plt.close(fig)
