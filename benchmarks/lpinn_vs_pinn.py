"""Lagrangian PINN against the soft-constraint PINN on periodic convection, per speed β.

Mojgani, Balajewicz, Hassanzadeh, "Lagrangian PINNs" (2022) against the PINN baseline
(Raissi et al. 2019) in the failure-mode setting of Krishnapriyan et al. (NeurIPS 2021):
u_t + β u_x = ν u_xx, u0 = sin x, x ∈ [0, 2π) periodic, t ∈ [0, 1], ν = 0.01. Both models get the
same width and depth, the same collocation grid (labels × times for the LPINN, x × t for the PINN),
the same periodic embedding (cos x, sin x, t), the same initial-condition points and the same
Adam → L-BFGS budget, from the same seed. Error: relative L2 against the exact Fourier solution
on a 256 × 101 grid (the LPINN's characteristics interpolated back to the grid).

Target (issue 4) at β = 50: LPINN relative L2 ≤ 1e-2 while the PINN fails (≥ 0.3).

    OMP_NUM_THREADS=1 python benchmarks/lpinn_vs_pinn.py --beta 50
    OMP_NUM_THREADS=1 python benchmarks/lpinn_vs_pinn.py            # β ∈ {10, 30, 50, 70}
    python benchmarks/lpinn_vs_pinn.py --quick                      # tiny budget, not recorded

Recorded through ``benchmarks/_record.py`` (log entry in benchmarks/RESULTS.md, JSON record,
results page) unless ``--no-record``: one comparison per β where both models ran.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from sciml.tasks import (
    FitConfig,
    PhysicsProblem,
    build_physics_model,
    evaluate_on_grid,
    fit_physics_informed,
    make_objective,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

TARGET_LPINN, TARGET_PINN_FAILS = 1e-2, 0.3


def run_one(kind: str, beta: float, args: argparse.Namespace) -> dict:
    problem = PhysicsProblem("convection", {"beta": beta, "nu": args.nu})
    cfg = FitConfig(n_x=args.n_x, n_t=args.n_t, adam_steps=args.adam, lr=args.lr,
                    lbfgs_steps=args.lbfgs, lbfgs_chunk=50, seed=args.seed)
    values = ({"width": args.width, "depth_u": args.depth, "depth_x": args.depth}
              if kind == "lpinn" else {"width": args.width, "depth": args.depth, "periodic": True})
    torch.manual_seed(args.seed)
    model = build_physics_model(kind, values, problem)
    objective = make_objective(model, problem, cfg)
    t0 = time.perf_counter()
    history = fit_physics_informed(model, objective, cfg)
    seconds = time.perf_counter() - t0
    metrics, _ = evaluate_on_grid(model, objective, problem, 256, 101)
    return {"model": kind, "beta": beta, "rel_l2": metrics["test/rel_l2"],
            "max_err": metrics["test/max_abs_error"], "seconds": seconds,
            "loss": history[-1]["train/loss"], "params": sum(p.numel() for p in model.parameters())}


def _fmt(load: tuple) -> str:
    return ", ".join(f"{v:.1f}" for v in load)


def section(rows: list[dict], args: argparse.Namespace, wall: float,
            load0: tuple) -> tuple[str, list[dict]]:
    """The log section and the page's comparisons (one per β where both models ran)."""
    lines = [f"- wall time {wall / 60:.1f} min",
             f"- load average (1, 5, 15 min) at start {_fmt(load0)}, at end "
             f"{_fmt(os.getloadavg())} (shared cores: seconds are noisy)",
             f"- same for both: width {args.width}, depth {args.depth} (LPINN: each branch), "
             f"collocation {args.n_x} × {args.n_t} grid, Adam {args.adam} steps (lr {args.lr}) "
             f"then L-BFGS {args.lbfgs} iterations (strong Wolfe), seed {args.seed}, "
             f"ν = {args.nu}; error vs the exact Fourier solution on 256 × 101",
             "", "| β | model | parameters | rel L2 | max abs err | final loss | fit s |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['beta']:g} | {r['model']} | {r['params']} | {r['rel_l2']:.3e} | "
                     f"{r['max_err']:.3e} | {r['loss']:.2e} | {r['seconds']:.0f} |")
    lines.append("")
    comps = []
    setting = (f"width {args.width}, depth {args.depth}, Adam {args.adam} + L-BFGS {args.lbfgs}, "
               f"seed {args.seed}")
    for beta in sorted({r["beta"] for r in rows}):
        by = {r["model"]: r for r in rows if r["beta"] == beta}
        if {"lpinn", "pinn"} <= set(by):
            lp, pi = by["lpinn"]["rel_l2"], by["pinn"]["rel_l2"]
            verdict, target, met = "", None, None
            if beta == 50:
                met = lp <= TARGET_LPINN and pi >= TARGET_PINN_FAILS
                target = f"LPINN ≤ {TARGET_LPINN:g} and PINN ≥ {TARGET_PINN_FAILS:g}"
                verdict = f"; target ({target.replace(' and', ',')}): {'met' if met else 'not met'}"
            lines.append(f"- β = {beta:g}: rel L2 PINN / LPINN = {pi / lp:.1f}×{verdict}")
            comps.append(_record.comparison(
                f"lpinn_vs_pinn.beta{beta:g}", f"convection β = {beta:g}: rel L2, LPINN vs PINN",
                lp, pi, anchor_name="PINN", ratio_of="anchor / sciml", target=target, met=met,
                setting=setting))
    return "\n".join(lines) + "\n", comps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--beta", type=float, nargs="*", default=[10.0, 30.0, 50.0, 70.0])
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--n-x", type=int, default=64)
    p.add_argument("--n-t", type=int, default=32)
    p.add_argument("--adam", type=int, default=500)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lbfgs", type=int, default=500)
    p.add_argument("--nu", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", nargs="*", default=["lpinn", "pinn"], choices=["lpinn", "pinn"])
    p.add_argument("--quick", action="store_true", help="tiny budget; not recorded")
    _record.add_record_args(p)
    args = p.parse_args()
    if args.quick:
        args.n_x, args.n_t, args.adam, args.lbfgs, args.width = 16, 8, 20, 20, 8
    run = _record.start("lpinn_vs_pinn", args, quick=args.quick)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    rows = []
    for beta in args.beta:
        for kind in args.models:
            r = run_one(kind, beta, args)
            rows.append(r)
            print(f"beta {beta:>5g}  {kind:<6} rel L2 {r['rel_l2']:.3e}  max err "
                  f"{r['max_err']:.2e}  loss {r['loss']:.2e}  {r['seconds']:.0f} s", flush=True)
    body, comps = section(rows, args, time.perf_counter() - t0, load0)
    run.record("Lagrangian PINN vs PINN (convection, failure-mode setting)", body, comps)
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
