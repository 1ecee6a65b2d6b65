"""Our PINN against DeepXDE's PINN on DeepXDE's Burgers example: same network, points and budget.

Problem (Raissi et al. 2019; DeepXDE ``examples/pinn_forward/Burgers.py``):
u_t + u u_x = (0.01/π) u_xx on x ∈ [−1, 1], t ∈ [0, 0.99], u(x, 0) = −sin πx, u(±1, t) = 0.
Reference: DeepXDE's ``Burgers.npz`` (x 256 × t 100) from /work/shared/data/pde.

Both sides, as in DeepXDE's example: MLP 2 → 20 × 3 (tanh, Glorot normal, zero biases) → 1,
float32; 2540 residual points from the Hammersley set; 80 boundary and 160 initial points,
which are residual points as well (Raissi et al.; DeepXDE's ``TimePDE``); loss = sum over terms
of the mean squared misfit (unit weights); Adam (lr 1e-3) for ``--adam`` steps, then
``torch.optim.LBFGS`` (lr 1, strong Wolfe, memory 100, tolerance_grad 1e-8, tolerance_change 0,
at most 1.25 loss evaluations per iteration, calls of ≤ 1000 iterations) for ``--lbfgs``
iterations, full batch. Remaining differences: our network scales (x, t) to [−1, 1]² first (as
Raissi et al.'s code; DeepXDE feeds raw inputs), our boundary points are a time grid at both
ends and our initial points an x grid (DeepXDE: random ends, Hammersley times and x).

Each implementation is trained for every seed of ``--seeds`` (one fresh process for DeepXDE per
seed, interleaved with ours so both see the same machine load); reported: training seconds
(imports and evaluation excluded) and relative L2 on the reference grid per seed, and their
medians. Both run with one torch thread. Target (issue 4): our median relative L2 and median
time ≤ DeepXDE's, in the same run.

    bash benchmarks/setup_deepxde_env.sh
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pinn_vs_deepxde.py [--adam 3000 --lbfgs 2000
        --seeds 0 1 2 3 4]

Recorded through ``benchmarks/_record.py`` (log entry in benchmarks/RESULTS.md, JSON record,
results page) unless ``--no-record``: the median error ratio and the median time ratio, each
against the target ≤ 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

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


def run_ours(args: argparse.Namespace, seed: int) -> dict:
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
    cfg = FitConfig(n_x=2540, n_t=1, collocation="hammersley", n_boundary=40, n_initial=160,
                    residual_at_data=True, adam_steps=args.adam, lr=1e-3,
                    lbfgs_steps=args.lbfgs, lbfgs_chunk=1000, lbfgs_history=100,
                    lbfgs_eval_factor=1.25, lbfgs_tolerance_grad=1e-8,
                    lbfgs_tolerance_change=0.0, checkpoint_every=0, seed=seed)
    torch.manual_seed(seed)
    model = build_physics_model("pinn", {"width": 20, "depth": 3}, problem)
    objective = make_objective(model, problem, cfg)
    t0 = time.perf_counter()
    history = fit_physics_informed(model, objective, cfg)
    seconds = time.perf_counter() - t0
    x, t, ref = load_reference(DATA)
    pred = objective.predict(model, x, t)
    return {"rel_l2": rel_l2(pred, ref), "seconds": seconds, "loss": history[-1]["train/loss"],
            "params": sum(p.numel() for p in model.parameters())}


def run_deepxde(args: argparse.Namespace, seed: int) -> dict:
    """DeepXDE's Burgers example with this budget (runs inside the DeepXDE environment)."""
    import deepxde as dde
    import torch

    torch.set_num_threads(1)
    dde.config.set_random_seed(seed)
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


def _median(rows: list[dict], key: str) -> float:
    return float(np.median([r[key] for r in rows]))


def section(ours: list[dict], dde: list[dict], seeds: list[int], args: argparse.Namespace,
            wall: float) -> tuple[str, list[dict]]:
    """The log section and the page's two comparisons (median error, median time)."""
    t_ratio = _median(ours, "seconds") / _median(dde, "seconds")
    e_ratio = _median(ours, "rel_l2") / _median(dde, "rel_l2")
    met = t_ratio <= 1.0 and e_ratio <= 1.0
    lines = [
        f"- wall {wall / 60:.1f} min; one torch thread each; "
        f"DeepXDE {dde[0].get('version')} (PyTorch backend); load average "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg()) + " at the end (shared cores)",
        f"- budget: Adam {args.adam} steps (lr 1e-3) then L-BFGS {args.lbfgs} iterations "
        "(memory 100, strong Wolfe, ≤ 1.25 evaluations per iteration, tolerance_grad 1e-8, "
        "tolerance_change 0); MLP 2-20-20-20-1 tanh, Glorot normal, float32; 2540 Hammersley "
        "residual points + 80 boundary + 160 initial points (also residual points); seeds "
        + ", ".join(map(str, seeds)),
        "", "| seed | sciml s | sciml rel L2 | sciml loss | DeepXDE s | DeepXDE rel L2 | "
        "DeepXDE loss |", "|---|---|---|---|---|---|---|",
    ]
    for seed, o, d in zip(seeds, ours, dde, strict=True):
        lines.append(f"| {seed} | {o['seconds']:.0f} | {o['rel_l2']:.3e} | {o['loss']:.2e} | "
                     f"{d['seconds']:.0f} | {d['rel_l2']:.3e} | {d['loss']:.2e} |")
    lines += [
        f"| median | {_median(ours, 'seconds'):.0f} | {_median(ours, 'rel_l2'):.3e} | "
        f"{_median(ours, 'loss'):.2e} | {_median(dde, 'seconds'):.0f} | "
        f"{_median(dde, 'rel_l2'):.3e} | {_median(dde, 'loss'):.2e} |", "",
        f"- parameters: sciml {ours[0]['params']}, DeepXDE {dde[0]['params']}",
        f"- median time ratio ours/DeepXDE = {t_ratio:.2f}, median rel L2 ratio = "
        f"{e_ratio:.2f}; target (both ≤ 1): {'met' if met else 'not met'}",
    ]
    setting = f"Adam {args.adam} + L-BFGS {args.lbfgs}, {len(seeds)} seeds"
    comps = [
        _record.comparison("pinn_vs_deepxde.rel_l2", "Burgers: median rel L2, sciml / DeepXDE",
                           _median(ours, "rel_l2"), _median(dde, "rel_l2"),
                           anchor_name="DeepXDE", target=("ratio", "<=", 1.0), setting=setting),
        _record.comparison("pinn_vs_deepxde.time", "Burgers: median training seconds, sciml / "
                           "DeepXDE", _median(ours, "seconds"), _median(dde, "seconds"),
                           unit="s", anchor_name="DeepXDE", target=("ratio", "<=", 1.0),
                           setting=setting)]
    return "\n".join(lines) + "\n", comps


def run_deepxde_process(args: argparse.Namespace, seed: int) -> dict:
    """One DeepXDE training in a fresh process of the DeepXDE environment."""
    env = {**os.environ, "DDE_BACKEND": "pytorch", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(DDE_PYTHON), __file__, "--worker", "deepxde", "--adam",
                           str(args.adam), "--lbfgs", str(args.lbfgs), "--seeds", str(seed)],
                          env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"DeepXDE worker failed (exit {proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--adam", type=int, default=3000)
    p.add_argument("--lbfgs", type=int, default=2000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--worker", choices=["deepxde"], help=argparse.SUPPRESS)
    _record.add_record_args(p)
    args = p.parse_args()
    if args.adam < 0 or args.lbfgs < 0:
        p.error(f"--adam and --lbfgs must be >= 0, got {args.adam} and {args.lbfgs}")
    if args.worker == "deepxde":
        print("RESULT " + json.dumps(run_deepxde(args, args.seeds[0])))
        return 0
    if not DDE_PYTHON.is_file():
        print(f"DeepXDE environment missing ({DDE_PYTHON}); run benchmarks/setup_deepxde_env.sh",
              file=sys.stderr)
        return 1
    run = _record.start("pinn_vs_deepxde", args)
    t0 = time.perf_counter()
    ours, dde = [], []
    for seed in args.seeds:
        try:
            dde.append(run_deepxde_process(args, seed))
        except RuntimeError as err:
            print(err, file=sys.stderr)
            return 1
        print(f"seed {seed}  DeepXDE     rel L2 {dde[-1]['rel_l2']:.3e}  "
              f"train {dde[-1]['seconds']:.0f} s", flush=True)
        ours.append(run_ours(args, seed))
        print(f"seed {seed}  sciml PINN  rel L2 {ours[-1]['rel_l2']:.3e}  "
              f"train {ours[-1]['seconds']:.0f} s", flush=True)
    print(f"median      DeepXDE rel L2 {_median(dde, 'rel_l2'):.3e} in "
          f"{_median(dde, 'seconds'):.0f} s; sciml {_median(ours, 'rel_l2'):.3e} in "
          f"{_median(ours, 'seconds'):.0f} s")
    body, comps = section(ours, dde, args.seeds, args, time.perf_counter() - t0)
    run.record("PINN vs DeepXDE (Burgers, ν = 0.01/π), medians over seeds", body, comps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
