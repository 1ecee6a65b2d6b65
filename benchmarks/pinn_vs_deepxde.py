"""Our PINN against DeepXDE's PINN on DeepXDE's Burgers example: same network, points and budget.

Problem (Raissi et al. 2019; DeepXDE ``examples/pinn_forward/Burgers.py``):
u_t + u u_x = (0.01/π) u_xx on x ∈ [−1, 1], t ∈ [0, 0.99], u(x, 0) = −sin πx, u(±1, t) = 0.
Reference: DeepXDE's ``Burgers.npz`` (x 256 × t 100) from /work/shared/data/pde.

Both sides: MLP 2 → 20 × 3 (tanh, Glorot normal) → 1, float32, mean-squared residual + initial +
boundary losses with unit weights, 2540 residual points (Sobol here, DeepXDE's pseudo-random
sampler there), 80 boundary points, 160 initial points, L-BFGS memory 100, Adam (lr 1e-3)
for ``--adam`` steps then L-BFGS for ``--lbfgs`` iterations, full batch. Reported: training
seconds (imports and evaluation excluded) and relative L2 on the reference grid, measured in one
run: DeepXDE runs in a subprocess of the DeepXDE environment (benchmarks/setup_deepxde_env.sh)
with one thread, like ours. Target (issue 4): our PINN reaches the same or lower relative L2 in
the same or less time.

    bash benchmarks/setup_deepxde_env.sh
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pinn_vs_deepxde.py [--adam 2000 --lbfgs 1000]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "pde" / "Burgers.npz"
DDE_PYTHON = REPO / ".venv-deepxde" / "bin" / "python"
NU = 0.01 / math.pi


def load_reference(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (256,), t (100,), u (100, 256) from DeepXDE's Burgers.npz (keys x, t, usol)."""
    if not path.is_file():
        raise FileNotFoundError(f"reference solution {path} is missing (DeepXDE's Burgers.npz, "
                                "keys x, t, usol)")
    d = np.load(path)
    missing = {"x", "t", "usol"} - set(d.files)
    if missing:
        raise KeyError(f"{path}: missing keys {sorted(missing)}; found {d.files}")
    return d["x"][:, 0], d["t"][:, 0], d["usol"].T


def rel_l2(pred: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(pred - ref) / np.linalg.norm(ref))


def run_ours(args: argparse.Namespace) -> dict:
    import torch

    from sciml.tasks import (
        FitConfig,
        PhysicsProblem,
        build_physics_model,
        fit_physics_informed,
        make_objective,
    )

    torch.set_num_threads(1)
    problem = PhysicsProblem("burgers", {"nu": NU, "initial": "-sin_pi"}, x_range=(-1.0, 1.0),
                             t_range=(0.0, 0.99), boundary="dirichlet")
    cfg = FitConfig(n_x=127, n_t=20, collocation="sobol", n_boundary=40, n_initial=160,
                    adam_steps=args.adam, lr=1e-3, lbfgs_steps=args.lbfgs, lbfgs_chunk=100,
                    lbfgs_history=100, seed=args.seed)
    torch.manual_seed(args.seed)
    model = build_physics_model("pinn", {"width": 20, "depth": 3}, problem)
    objective = make_objective(model, problem, cfg)
    t0 = time.perf_counter()
    history = fit_physics_informed(model, objective, cfg)
    seconds = time.perf_counter() - t0
    x, t, ref = load_reference(DATA)
    pred = objective.predict(model, x, t)
    return {"rel_l2": rel_l2(pred, ref), "seconds": seconds, "loss": history[-1]["loss"],
            "params": sum(p.numel() for p in model.parameters())}


def run_deepxde(args: argparse.Namespace) -> dict:
    """DeepXDE's Burgers example with this budget (runs inside the DeepXDE environment)."""
    import deepxde as dde
    import torch

    torch.set_num_threads(1)
    dde.config.set_random_seed(args.seed)
    geom = dde.geometry.Interval(-1, 1)
    geomtime = dde.geometry.GeometryXTime(geom, dde.geometry.TimeDomain(0, 0.99))

    def pde(x, y):
        dy_x = dde.grad.jacobian(y, x, i=0, j=0)
        dy_t = dde.grad.jacobian(y, x, i=0, j=1)
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        return dy_t + y * dy_x - NU * dy_xx

    bc = dde.icbc.DirichletBC(geomtime, lambda x: 0, lambda _, on_boundary: on_boundary)
    ic = dde.icbc.IC(geomtime, lambda x: -np.sin(np.pi * x[:, 0:1]),
                     lambda _, on_initial: on_initial)
    data = dde.data.TimePDE(geomtime, pde, [bc, ic], num_domain=2540, num_boundary=80,
                            num_initial=160)
    net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    t0 = time.perf_counter()
    model.compile("adam", lr=1e-3)
    model.train(iterations=args.adam, display_every=max(args.adam, 1), verbose=0)
    dde.optimizers.config.set_LBFGS_options(maxiter=args.lbfgs)
    # DeepXDE 1.x (PyTorch) derives its per-call iteration limit from maxiter once, at import
    # (min(1000, 15000)); without this a small maxiter would still run 1000 iterations.
    opts = dde.optimizers.config.LBFGS_options
    opts["iter_per_step"] = min(1000, opts["maxiter"])
    opts["fun_per_step"] = opts["maxfun"] * opts["iter_per_step"] // opts["maxiter"]
    model.compile("L-BFGS")
    losshistory, _ = model.train(display_every=max(args.lbfgs, 1), verbose=0)
    seconds = time.perf_counter() - t0
    x, t, ref = load_reference(DATA)
    xx, tt = np.meshgrid(x, t, indexing="xy")
    pred = model.predict(np.stack([xx.ravel(), tt.ravel()], 1)).reshape(len(t), len(x))
    return {"rel_l2": rel_l2(pred, ref), "seconds": seconds,
            "loss": float(np.sum(losshistory.loss_train[-1])),
            "params": sum(p.numel() for p in net.parameters()), "version": dde.__version__}


def append_results(ours: dict, dde: dict, args: argparse.Namespace, wall: float) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    t_ratio, e_ratio = ours["seconds"] / dde["seconds"], ours["rel_l2"] / dde["rel_l2"]
    met = t_ratio <= 1.0 and e_ratio <= 1.0
    lines = [
        "", "## PINN vs DeepXDE (Burgers, ν = 0.01/π)", "",
        f"- command: `python benchmarks/pinn_vs_deepxde.py {' '.join(sys.argv[1:])}`",
        f"- commit: {commit}",
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}; "
        f"wall {wall / 60:.1f} min",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, one torch thread each; "
        f"DeepXDE {dde.get('version')} (PyTorch backend); load average "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg()) + " at the end (shared cores)",
        f"- budget: Adam {args.adam} steps (lr 1e-3) then L-BFGS {args.lbfgs} iterations; MLP "
        "2-20-20-20-1 tanh; 2540 residual, 80 boundary, 160 initial points; L-BFGS memory 100",
        "", "| implementation | parameters | train s | rel L2 vs Burgers.npz | final loss |",
        "|---|---|---|---|---|",
        f"| sciml PINN | {ours['params']} | {ours['seconds']:.0f} | {ours['rel_l2']:.3e} | "
        f"{ours['loss']:.2e} |",
        f"| DeepXDE | {dde['params']} | {dde['seconds']:.0f} | {dde['rel_l2']:.3e} | "
        f"{dde['loss']:.2e} |", "",
        f"- time ratio ours/DeepXDE = {t_ratio:.2f}, rel L2 ratio = {e_ratio:.2f}; target (both "
        f"≤ 1): {'met' if met else 'not met'}",
    ]
    with open(REPO / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--adam", type=int, default=2000)
    p.add_argument("--lbfgs", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--worker", choices=["deepxde"], help=argparse.SUPPRESS)
    p.add_argument("--no-append", action="store_true")
    args = p.parse_args()
    if args.worker == "deepxde":
        print("RESULT " + json.dumps(run_deepxde(args)))
        return 0
    if not DDE_PYTHON.is_file():
        print(f"DeepXDE environment missing ({DDE_PYTHON}); run benchmarks/setup_deepxde_env.sh",
              file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    env = {**os.environ, "DDE_BACKEND": "pytorch", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(DDE_PYTHON), __file__, "--worker", "deepxde", "--adam",
                           str(args.adam), "--lbfgs", str(args.lbfgs), "--seed", str(args.seed)],
                          env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        print(proc.stdout[-2000:], proc.stderr[-4000:], file=sys.stderr)
        return 1
    dde = json.loads(lines[-1][len("RESULT "):])
    print(f"DeepXDE     rel L2 {dde['rel_l2']:.3e}  train {dde['seconds']:.0f} s", flush=True)
    ours = run_ours(args)
    print(f"sciml PINN  rel L2 {ours['rel_l2']:.3e}  train {ours['seconds']:.0f} s", flush=True)
    if not args.no_append:
        append_results(ours, dde, args, time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
