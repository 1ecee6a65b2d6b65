"""Speed of the PDE solvers: Darcy AMG vs a sparse direct solve, Navier–Stokes steps per second.

Darcy: FNO's piecewise-constant (12 / 4) coefficient at 256 × 256; the SAME CSR matrix
(``sciml.solvers.darcy_matrix``) is solved by pyamg (smoothed aggregation setup + CG to a relative
residual of 1e-10) and by scipy's ``spsolve`` (SuperLU); we report both times, the AMG speed-up and
the relative L2 difference of the two solutions. Navier–Stokes: time steps per second of
``solve_navier_stokes_2d`` (CN/AB2, FNO forcing, ν = 1e-3) at 64² and 256², numpy and torch (CPU)
backends, for a batch of 1 and of 8 fields.

Run ``python benchmarks/pde_solvers.py`` (``--quick`` for a smoke run, never recorded); the
markdown section is printed and recorded through ``benchmarks/_record.py`` (log entry in
benchmarks/RESULTS.md, JSON record, results page) unless ``--no-record``. Issue 3 sets no target
here: the page shows the AMG speed-up and the NS steps per second.
"""

from __future__ import annotations

import argparse
import os
import sys

# Fix the BLAS / OpenMP thread count before numpy loads (pyamg's setup uses small dense BLAS
# calls, which a busy shared machine can slow down by 20x when OpenBLAS spins up its pool).
if __name__ == "__main__":
    _threads = "1"
    for _i, _a in enumerate(sys.argv[:-1]):
        if _a == "--threads":
            _threads = sys.argv[_i + 1]
    for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_v] = _threads

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pyamg  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402
import torch  # noqa: E402
from sciml.solvers import (  # noqa: E402
    darcy_coefficients,
    darcy_matrix,
    ns2d_initial_vorticity,
    solve_navier_stokes_2d,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402


def _median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def bench_darcy(s: int, repeats: int) -> dict:
    a = darcy_coefficients(1, s, kind="piecewise", seed=0)[0]
    t_asm, matrix = _median_time(lambda: darcy_matrix(a, 1.0 / (s - 1)), repeats)
    rhs = np.ones(matrix.shape[0])

    def amg():
        ml = pyamg.smoothed_aggregation_solver(matrix, symmetry="symmetric")
        residuals: list[float] = []
        x = ml.solve(rhs, tol=1e-10, accel="cg", maxiter=500, residuals=residuals)
        return x, len(residuals) - 1

    def setup():
        return pyamg.smoothed_aggregation_solver(matrix, symmetry="symmetric")

    csc = matrix.tocsc()
    t_amg, (x_amg, iters) = _median_time(amg, repeats)
    t_setup, _ = _median_time(setup, repeats)
    t_direct, x_direct = _median_time(lambda: spla.spsolve(csc, rhs), repeats)
    rel = np.linalg.norm(x_amg - x_direct) / np.linalg.norm(x_direct)
    return {"s": s, "unknowns": matrix.shape[0], "nnz": matrix.nnz, "assembly": t_asm,
            "amg": t_amg, "amg_setup": t_setup, "iters": iters, "direct": t_direct, "rel": rel}


def bench_ns(s: int, batch: int, backend: str, steps: int, repeats: int) -> float:
    w0 = ns2d_initial_vorticity(batch, s, seed=0)
    dt = 1e-4

    def run():
        return solve_navier_stokes_2d(w0, 1e-3, steps * dt, 1, dt=dt, backend=backend)

    run()  # warm-up (FFT plans, torch kernels)
    t, _ = _median_time(run, repeats)
    return steps / t


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run, not recorded)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats (median)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS / torch threads (set before numpy loads when run as a script)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    run = _record.start("pde_solvers", args, quick=args.quick, argv=argv)
    darcy_s = 64 if args.quick else 256
    d = bench_darcy(darcy_s, args.repeats)
    ns_rows = []
    for s, steps in ((64, 50 if args.quick else 400), (256, 10 if args.quick else 100)):
        for batch in (1, 8):
            for backend in ("numpy", "torch"):
                ns_rows.append((s, batch, backend,
                                bench_ns(s, batch, backend, steps, args.repeats)))
    lines = [
        f"| Darcy {d['s']}² ({d['unknowns']} unknowns, {d['nnz']} nnz) | time (s) |",
        "|---|---|",
        f"| assembly (vectorised COO → CSR) | {d['assembly']:.3f} |",
        f"| pyamg SA setup + CG solve (tol 1e-10, {d['iters']} iterations) | {d['amg']:.3f} |",
        f"| of which SA setup | {d['amg_setup']:.3f} |",
        f"| scipy spsolve (SuperLU) of the same matrix | {d['direct']:.3f} |",
        "",
        f"- AMG speed-up over spsolve: {d['direct'] / d['amg']:.2f}x; relative L2 difference of "
        f"the two solutions: {d['rel']:.2e}",
        "",
        "| Navier–Stokes grid | batch | backend | steps / s | field-steps / s |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {s}² | {b} | {be} | {r:.1f} | {r * b:.1f} |" for s, b, be, r in ns_rows]
    body = (f"- numpy {np.__version__}, pyamg {pyamg.__version__}; times: median of "
            f"{args.repeats} runs; NS after one warm-up run, CN/AB2 scheme, dt = 1e-4, ν = 1e-3, "
            "FNO forcing.\n\n" + "\n".join(lines) + "\n")
    ns = {(s, b, be): r for s, b, be, r in ns_rows}
    comps = [_record.comparison(
        f"pde_solvers.darcy{d['s']}.amg_vs_spsolve",
        f"Darcy {d['s']}² solve: pyamg SA + CG vs scipy spsolve, seconds", d["amg"], d["direct"],
        unit="s", anchor_name="spsolve", ratio_of="anchor / sciml",
        setting=f"{d['unknowns']} unknowns, CG tol 1e-10",
        note=f"relative L2 difference of the two solutions {d['rel']:.2e}")]
    for s in (64, 256):
        comps.append(_record.comparison(
            f"pde_solvers.ns{s}.steps_per_s",
            f"Navier–Stokes {s}², batch 1, torch backend: time steps per second",
            ns[(s, 1, "torch")], None, unit="steps/s",
            note=f"numpy backend {ns[(s, 1, 'numpy')]:.1f} steps/s"))
    run.record("sciml.solvers PDE solvers", body, comps)


if __name__ == "__main__":
    main()
