"""Soft constraint vs single hard constraint vs hard-constraint MoE (PI-SC / PI-HC / PI-HC-MoE).

Chalapathi, Du, Krishnapriyan, ICLR 2024. All three use the same MgNO backbone, the same
physics-informed loss (mean squared PDE residual on the whole grid + initial/boundary rows; no
solution data), the same optimizer, steps and batch; the two hard-constraint models sample the
same total number of PDE points (the MoE splits them over its experts). Reported: test relative
L2 error against the reference solver (finite volumes for diffusion–sorption, computed on a 4×
finer grid and averaged to the model's cells; pseudo-spectral for Navier–Stokes) and seconds per
training step (median). The run is a CPU-sized reduction of the paper's setting (1024 × 101,
thousands of steps on GPUs); the sizes used are printed with the results.

    python benchmarks/hard_constraints.py                       # diffusion–sorption
    python benchmarks/hard_constraints.py --problem ns          # Navier–Stokes, ν = 1e-4
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sciml.solvers import (
    ds_initial_condition,
    ns2d_initial_vorticity,
    solve_diffusion_sorption,
    solve_navier_stokes_2d,
)

from sciml.models import HardConstrainedOperator, HCMoEConfig, PISCConfig, SoftConstrainedOperator
from sciml.physics import ConstraintSolveWarning

ROOT = Path(__file__).resolve().parents[1]


def ds_data(n: int, nx: int, nt: int, t_final: float, seed: int) -> tuple[torch.Tensor, ...]:
    """Initial states (n, nx) and reference solutions (n, nx, nt) on the model's cells."""
    fine = 4 * nx
    u0 = ds_initial_condition(n, fine, seed=seed)
    ref = solve_diffusion_sorption(u0, t_final=t_final, n_times=nt, method="BDF", rtol=1e-8,
                                   atol=1e-10)
    ref = ref.reshape(n, nt, nx, 4).mean(-1).transpose(0, 2, 1)
    return torch.tensor(u0[:, ::4]), torch.tensor(ref)


def ns_data(n: int, s: int, nt: int, t_final: float, nu: float, seed: int
            ) -> tuple[torch.Tensor, ...]:
    """Initial vorticity (n, s, s) and reference (n, s, s, nt), solved at 4× resolution."""
    w0 = ns2d_initial_vorticity(n, 4 * s, seed=seed)
    traj = solve_navier_stokes_2d(w0, nu, t_final, nt - 1, dt=1e-3)
    full = np.concatenate([w0[:, None], traj], axis=1)[:, :, ::4, ::4]     # (n, nt, s, s)
    return torch.tensor(w0[:, ::4, ::4]), torch.tensor(full.transpose(0, 2, 3, 1))


def train_and_eval(model, train_u0, test_u0, test_ref, steps: int, batch: int, lr: float,
                   seed: int) -> dict:
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    times, unconverged, solves = [], 0, 0
    rng = np.random.default_rng(seed)
    hard = isinstance(model, HardConstrainedOperator)
    for step in range(steps):
        idx = torch.as_tensor(rng.choice(len(train_u0), size=batch, replace=False))
        u0 = train_u0[idx].float()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConstraintSolveWarning)
            u = model(u0)
        pde, rows = model.physics_loss(u, u0)
        loss = pde + rows
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        if hard:
            unconverged += int((~model.last_info.converged).sum())
            solves += model.last_info.converged.numel()
        if step % max(1, steps // 5) == 0 or step == steps - 1:
            print(f"  step {step:4d} loss {loss.item():.4g} (pde {pde.item():.3g}, "
                  f"rows {rows.item():.3g}) {times[-1]:.2f}s", flush=True)
    model.eval()
    errors = []
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        for i in range(len(test_u0)):
            u0 = test_u0[i:i + 1].float()
            if hard:
                u = model(u0, torch.Generator().manual_seed(i))
            else:
                u = model(u0)
            ref = test_ref[i:i + 1].float()
            errors.append(float((u - ref).norm() / ref.norm()))
    warm = times[min(2, len(times) - 1):]
    return {"rel_l2": float(np.mean(errors)), "step_s": float(np.median(warm)),
            "unconverged": f"{unconverged}/{solves}" if hard else "-"}


def header(args: argparse.Namespace, argv: list[str]) -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return (f"- command: `python benchmarks/hard_constraints.py {' '.join(argv)}`\n"
            f"- commit: {commit} (plus uncommitted changes)\n"
            f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}\n"
            f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, torch "
            f"{torch.__version__}, {torch.get_num_threads()} thread(s); load average "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start")


def append_results(section: str) -> None:
    """Append one result block to benchmarks/RESULTS.md (append only)."""
    with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as fh:
        fh.write(section)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", choices=["ds", "ns"], default="ds")
    ap.add_argument("--nx", type=int, default=64, help="cells (ds) or points per side (ns)")
    ap.add_argument("--nt", type=int, default=51, help="time levels, t = 0 included")
    ap.add_argument("--t-final", type=float, default=None, help="ds: 500, ns: 1")
    ap.add_argument("--nu", type=float, default=1e-4)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--n-train", type=int, default=8)
    ap.add_argument("--n-test", type=int, default=4)
    ap.add_argument("--n-points", type=int, default=1000)
    ap.add_argument("--n-basis", type=int, default=16)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--row-scale", type=float, default=1.0,
                    help="weight of initial/boundary rows vs the PDE (all three models)")
    ap.add_argument("--partition-initial", choices=["default", "yes", "no"], default="default",
                    help="route initial/boundary rows to the expert that owns them")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    head = header(args, argv)
    if args.problem == "ds":
        t_final = args.t_final or 500.0
        shape = (args.nx, args.nt)
        train_u0, _ = ds_data(args.n_train, args.nx, 2, 1.0, args.seed)
        test_u0, test_ref = ds_data(args.n_test, args.nx, args.nt, t_final, args.seed + 1000)
        problem, moe = "diffusion_sorption", (4, 1)
    else:
        t_final = args.t_final or 1.0
        shape = (args.nx, args.nx, args.nt)
        train_u0 = torch.tensor(ns2d_initial_vorticity(args.n_train, args.nx, seed=args.seed))
        test_u0, test_ref = ns_data(args.n_test, args.nx, args.nt, t_final, args.nu,
                                    args.seed + 1000)
        problem, moe = "navier_stokes", (2, 2, 1)
    backbone = {"width": args.width, "n_layers": 2, "levels": 3}
    common = dict(problem=problem, nu=args.nu, backbone=backbone, row_scale=args.row_scale)
    partition = {"default": None, "yes": True, "no": False}[args.partition_initial]
    hc = dict(n_basis=args.n_basis, n_points=args.n_points, on_fail="warn",
              partition_initial=partition, **common)
    models = {
        "soft constraint (PI-SC)": lambda: SoftConstrainedOperator(
            PISCConfig(**common), grid_shape=shape, t_final=t_final),
        "single hard constraint (PI-HC)": lambda: HardConstrainedOperator(
            HCMoEConfig(experts=(1,) * len(shape), **hc), grid_shape=shape, t_final=t_final),
        f"hard-constraint MoE {moe} (PI-HC-MoE)": lambda: HardConstrainedOperator(
            HCMoEConfig(experts=moe, **hc), grid_shape=shape, t_final=t_final),
    }
    results, t_start = {}, time.time()
    for name, build in models.items():
        print(name, flush=True)
        torch.manual_seed(args.seed)
        results[name] = train_and_eval(build(), train_u0, test_u0, test_ref, args.steps,
                                       args.batch, args.lr, args.seed)
        print(" ", results[name], flush=True)
    names = list(results)
    soft, single, moe_r = (results[n] for n in names)
    rows = [f"| {n} | {r['rel_l2']:.4f} | {r['step_s']:.3f} | {r['unconverged']} |"
            for n, r in results.items()]
    title = "diffusion–sorption" if args.problem == "ds" else f"Navier–Stokes ν={args.nu:g}"
    section = (
        f"\n## Hard constraints with MoE: {title} (PI-SC vs PI-HC vs PI-HC-MoE)\n\n{head}\n"
        f"- setting: grid {shape} (space…, time), T = {t_final:g}, {args.n_train} training / "
        f"{args.n_test} test initial states, MgNO backbone width {args.width}, 2 layers, "
        f"{args.n_basis} basis functions, {args.n_points} sampled PDE points per sample in total "
        f"(both hard-constraint models), LM ≤ 50 iterations; Adam lr {args.lr}, {args.steps} "
        f"steps of batch {args.batch}; loss = PDE residual + {args.row_scale:g}² × "
        f"initial/boundary rows (no data); "
        f"wall time {(time.time() - t_start) / 60:.1f} min\n\n"
        "| model | test rel L2 | s / step (median) | expert solves not converged |\n"
        "|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"- MoE / single HC rel L2 = {moe_r['rel_l2'] / single['rel_l2']:.2f} (target ≤ 0.6); "
        f"MoE / soft rel L2 = {moe_r['rel_l2'] / soft['rel_l2']:.2f} (target ≤ 0.1); "
        f"MoE / single HC step time = {moe_r['step_s'] / single['step_s']:.2f} (target ≤ 0.6)\n")
    print(section)
    if not args.no_write:
        append_results(section)


if __name__ == "__main__":
    main()
