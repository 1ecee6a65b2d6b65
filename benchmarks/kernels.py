"""Benchmark sciml.kernels against PyG's scatter, plain torch and scipy's cKDTree.

Measures, in one run: scatter and gather_scatter (forward, forward+backward) against
``torch_geometric.utils.scatter`` and ``index_add_``; radius_graph (open and periodic) against
``scipy.spatial.cKDTree`` at fixed density, checking that the edge sets agree. Prints a table of
median times and ratios; records it through ``benchmarks/_record.py`` (the log entry in
benchmarks/RESULTS.md, a JSON record, the results page). Targets (issue 2, CPU): gather_scatter
forward+backward at 1e6 edges x 64 channels >= 1.2x faster than PyG's gather-then-scatter;
radius_graph at 1e5 points no slower than cKDTree (time ratio <= 1.0) with the same edge set.

    python benchmarks/kernels.py            # full sizes (a few minutes on 2 cores)
    python benchmarks/kernels.py --quick    # small sizes, seconds (never recorded)
    python benchmarks/kernels.py --only radius   # one group
    python benchmarks/kernels.py --device cuda --only scatter --only gather_scatter   # on a GPU

On CUDA every timed call ends with ``torch.cuda.synchronize()`` (kernels launch asynchronously);
the radius group compares with cKDTree, a CPU library, so it runs on the CPU only.
"""

# The timed closures run inside the loop iteration that defines them.
# ruff: noqa: B023
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
import torch
from scipy.spatial import cKDTree
from torch_geometric.utils import scatter as pyg_scatter

from sciml.kernels import gather_scatter, radius_graph, scatter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

# Set by main(): on CUDA each timed call waits for its kernels.
SYNC = None


def timeit(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs after one warm-up run."""
    if SYNC is not None:
        fn = _synced(fn)
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _synced(fn):
    def run():
        fn()
        SYNC()
    return run


def _fwd_bwd(make, leaves):
    def run():
        for t in leaves:
            t.grad = None
        make().sum().backward()
    return run


def bench_scatter(sizes, channels, repeats, rows, device="cpu"):
    for e in sizes:
        n = max(1, e // 10)
        src = torch.randn(e, channels, device=device, requires_grad=True)
        index = torch.randint(0, n, (e,), device=device)
        for reduce in ("sum", "mean", "max"):
            cands = {
                "sciml": lambda r=reduce: scatter(src, index, 0, n, r),
                "pyg": lambda r=reduce: pyg_scatter(src, index, 0, n, reduce=r),
            }
            if reduce == "sum":
                cands["index_add_"] = lambda: src.new_zeros(n, channels).index_add_(0, index, src)
            for mode in ("fwd", "fwd+bwd"):
                res = {}
                for name, f in cands.items():
                    fn = (lambda f=f: f()) if mode == "fwd" else _fwd_bwd(f, [src])
                    with torch.set_grad_enabled(mode != "fwd"):
                        res[name] = timeit(fn, repeats)
                rows.append((f"scatter {reduce}", f"E={e:.0e} C={channels}", mode, res, "pyg"))


def bench_gather_scatter(sizes, channels, repeats, rows, device="cpu"):
    for e in sizes:
        n = max(1, e // 10)
        x = torch.randn(n, channels, device=device, requires_grad=True)
        w = torch.rand(e, device=device, requires_grad=True)
        ei = torch.randint(0, n, (2, e), device=device)
        cands = {
            "sciml": lambda: gather_scatter(x, ei, w),
            "pyg": lambda: pyg_scatter(x[ei[0]] * w[:, None], ei[1], 0, n, reduce="sum"),
            "index_add_": lambda: x.new_zeros(n, channels).index_add_(
                0, ei[1], x.index_select(0, ei[0]) * w[:, None]),
        }
        for mode in ("fwd", "fwd+bwd"):
            res = {}
            for name, f in cands.items():
                fn = (lambda f=f: f()) if mode == "fwd" else _fwd_bwd(f, [x, w])
                with torch.set_grad_enabled(mode != "fwd"):
                    res[name] = timeit(fn, repeats)
            rows.append(("gather_scatter sum, w (E,)", f"E={e:.0e} C={channels}", mode, res,
                         "pyg"))


def _pair_keys(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    return np.sort(lo.astype(np.int64) * n + hi)


def timeit_paired(fa, fb, repeats: int) -> tuple[float, float, float]:
    """Median times of ``fa`` and ``fb`` run alternately, and the median of their per-run ratio.

    Alternating the two and taking the ratio run by run cancels most of the drift of a shared,
    busy machine; one warm-up run each.
    """
    fa()
    fb()
    ta, tb = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fa()
        t1 = time.perf_counter()
        fb()
        ta.append(t1 - t0)
        tb.append(time.perf_counter() - t1)
    ratio = statistics.median(a / b for a, b in zip(ta, tb, strict=True))
    return statistics.median(ta), statistics.median(tb), ratio


def bench_radius(sizes, neighbours, repeats, rows, checks):
    r = (3.0 * neighbours / (4.0 * math.pi)) ** (1.0 / 3.0)  # unit density
    rng = np.random.default_rng(0)
    for n in sizes:
        box = n ** (1.0 / 3.0)
        pos_np = rng.random((n, 3)) * box
        pos = torch.from_numpy(pos_np)
        cell = torch.eye(3, dtype=torch.float64) * box
        for periodic in (False, True):
            if periodic:
                ours = lambda: radius_graph(pos, r, cell=cell)[0]  # noqa: E731

                def ref():
                    return cKDTree(pos_np, boxsize=box).query_pairs(r, output_type="ndarray")
            else:
                ours = lambda: radius_graph(pos, r)  # noqa: E731

                def ref():
                    return cKDTree(pos_np).query_pairs(r, output_type="ndarray")
            reps = repeats if n <= 100_000 else max(1, repeats // 2)
            t_ours, t_ref, ratio = timeit_paired(ours, ref, reps)
            res = {"sciml": t_ours, "cKDTree": t_ref}
            ei = ours().numpy()
            pairs = ref()
            same = (ei.shape[1] == 2 * len(pairs)
                    and np.array_equal(_pair_keys(ei[0], ei[1], n)[::2],
                                       _pair_keys(pairs[:, 0], pairs[:, 1], n)))
            checks.append((n, periodic, same, ratio))
            label = "radius_graph periodic" if periodic else "radius_graph open"
            rows.append((label, f"N={n:.0e} ~{neighbours} nb", "build", res, "cKDTree"))


def render(rows, checks, args) -> str:
    names = ["sciml", "pyg", "index_add_", "cKDTree"]
    lines = ["| op | size | pass | " + " | ".join(f"{n} (ms)" for n in names)
             + " | sciml speed-up vs anchor |",
             "|---|---|---|" + "---|" * len(names) + "---|"]
    for op, size, mode, res, anchor in rows:
        cells = [f"{res[n] * 1e3:.1f}" if n in res else "" for n in names]
        lines.append(f"| {op} | {size} | {mode} | " + " | ".join(cells)
                     + f" | {res[anchor] / res['sciml']:.2f}x vs {anchor} |")
    lines.append("")
    for n, periodic, same, ratio in checks:
        kind = "periodic" if periodic else "open"
        lines.append(f"- radius_graph {kind} N={n}: edge set equals cKDTree's: {same}; "
                     f"time ratio sciml / cKDTree (median of alternating runs): {ratio:.2f}")
    return "\n".join(lines)


def comparisons(rows, checks, device: str) -> list[dict]:
    """The page's rows: the issue's targets (CPU) and the scatter baseline, at the full sizes."""
    by = {(op, size, mode): res for op, size, mode, res, _ in rows}
    on = "CUDA" if device.startswith("cuda") else "CPU"
    out = []
    for key, op, what, target in (
            ("gather_scatter.fwd_bwd.E1e6", "gather_scatter sum, w (E,)",
             "gather_scatter fwd+bwd, 1e6 edges × 64 channels", (">=", 1.2)),
            ("scatter_sum.fwd_bwd.E1e6", "scatter sum", "scatter sum fwd+bwd, 1e6 edges × 64 "
             "channels", None)):
        res = by.get((op, "E=1e+06 C=64", "fwd+bwd"))
        if res is None:
            continue
        tgt = ("ratio", *target) if target and on == "CPU" else None
        out.append(_record.comparison(
            f"kernels.{key}.{device.split(':')[0]}", f"{what}, {on}: ms, speed-up over PyG",
            res["sciml"] * 1e3, res["pyg"] * 1e3, unit="ms", anchor_name="PyG",
            ratio_of="anchor / sciml", target=tgt,
            note=f"index_add_ baseline {res['index_add_'] * 1e3:.1f} ms"
            if "index_add_" in res else ""))
    for n, periodic, same, ratio in checks:
        if n != 100_000:
            continue
        kind = "periodic" if periodic else "open"
        res = by[(f"radius_graph {kind}", "N=1e+05 ~20 nb", "build")]
        out.append(_record.comparison(
            f"kernels.radius_graph.{kind}.N1e5.cpu",
            f"radius_graph, 1e5 points, {kind} box, CPU: ms, time ratio sciml / cKDTree",
            res["sciml"] * 1e3, res["cKDTree"] * 1e3, unit="ms", anchor_name="cKDTree",
            ratio=ratio, target="time ratio ≤ 1.0, same edge set",
            met=bool(ratio <= 1.0 and same),
            note=f"ratio: median of alternating runs; same edge set: {same}"))
    return out


def warm_up() -> None:
    """Compile the numba kernels (float32 and float64) before anything is timed."""
    for dt in (torch.float32, torch.float64):
        x = torch.randn(10, 4, dtype=dt, requires_grad=True)
        w = torch.rand(20, dtype=dt, requires_grad=True)
        gather_scatter(x, torch.randint(0, 10, (2, 20)), w).sum().backward()
    p = torch.rand(50, 3, dtype=torch.float64)
    radius_graph(p, 0.3)
    radius_graph(p, 0.3, cell=torch.eye(3, dtype=torch.float64))


def main(argv=None) -> None:
    global SYNC
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run, not recorded)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (median)")
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--edges", type=int, nargs="+", default=None,
                    help="edge counts of the scatter groups (default 1e4 1e5 1e6; quick: 1e4 1e5)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:i] (scatter groups only)")
    ap.add_argument("--only", choices=["scatter", "gather_scatter", "radius"], action="append",
                    help="run only these groups (repeatable; default: all)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    groups = set(args.only or ["scatter", "gather_scatter", "radius"])
    device = args.device
    if device != "cpu":
        if not device.startswith("cuda"):
            ap.error(f"--device must be cpu or cuda[:i], got {device!r}")
        if not torch.cuda.is_available():
            ap.error(f"--device {device}: torch {torch.__version__} sees no CUDA device")
        if "radius" in groups:
            ap.error("the radius group compares with cKDTree on the CPU: give --only scatter "
                     "--only gather_scatter with --device cuda")
        if ":" in device:
            torch.cuda.set_device(torch.device(device))
        SYNC = torch.cuda.synchronize
    run = _record.start("kernels", args, quick=args.quick, device=device, argv=argv)
    edges = args.edges or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    points = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    warm_up()
    rows, checks = [], []
    if "scatter" in groups:
        bench_scatter(edges, args.channels, args.repeats, rows, device)
    if "gather_scatter" in groups:
        bench_gather_scatter(edges, args.channels, args.repeats, rows, device)
    if "radius" in groups:
        bench_radius(points, 20, args.repeats, rows, checks)
    table = render(rows, checks, args)
    body = (f"- numba threads = {numba.get_num_threads()}; times: median of {args.repeats} "
            f"runs after a warm-up{' (CUDA: each call synchronised)' if SYNC else ''}; "
            f"speed-up = anchor time / sciml time (>1: sciml faster).\n\n{table}\n")
    run.record(f"sciml.kernels ({device})", body,
               comparisons(rows, checks, device))


if __name__ == "__main__":
    main()
