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

Each implementation is trained for every seed of ``--seeds`` in a fresh process of its own
environment (interleaved, so both see the same machine load); reported per seed and as medians:
training seconds (imports and evaluation excluded), relative L2 on the reference grid, the
L-BFGS iterations made (a fit whose L-BFGS stops within 50 iterations has *stalled*) and the
process's peak resident memory. Both run with one torch thread. Our residual derivatives are
``--derivatives`` (``autograd``: nested reverse mode as DeepXDE, the default; ``jet``: carried
forward through the MLP, :class:`sciml.physics.Jet`). ``--profile`` adds the top operators of one of
our loss-and-gradient evaluations under each derivative mode (and their times) to the log.

Budgets and targets:
  - default, Adam 3000 + L-BFGS 2000 (issue 4): median rel L2 and median time ≤ DeepXDE's;
  - ``--example``: DeepXDE's own budget, Adam 15 000 then L-BFGS up to 15 000 iterations
    (issue 24): median time ≤ 0.5× DeepXDE's, median rel L2 ≤ DeepXDE's, no seed of ours
    stalled in L-BFGS, peak memory ≤ DeepXDE's.

    bash benchmarks/setup_deepxde_env.sh
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pinn_vs_deepxde.py [--example] [--profile]
        [--adam 3000 --lbfgs 2000 --seeds 0 1 2 3 4]

The default takes about 12 minutes, ``--example`` about 40 (both with 5 seeds). Recorded
through ``benchmarks/_record.py`` (log entry in benchmarks/RESULTS.md, JSON record, results
page) unless ``--no-record``.
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
EXAMPLE_BUDGET = (15000, 15000)  # DeepXDE's Burgers example: Adam 15 000, L-BFGS maxiter 15 000
STALL = 50  # L-BFGS iterations: a fit that stops before this has stalled


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


def build_ours(args: argparse.Namespace, seed: int, derivatives: str | None = None):
    """Our PINN, objective and fit configuration for DeepXDE's Burgers example."""
    import torch

    from sciml.tasks import FitConfig, PhysicsProblem, build_physics_model, make_objective

    problem = PhysicsProblem("burgers", {"nu": NU, "initial": "-sin_pi"}, x_range=(-1.0, 1.0),
                             t_range=(0.0, 0.99), boundary="dirichlet")
    cfg = FitConfig(n_x=2540, n_t=1, collocation="hammersley", n_boundary=40, n_initial=160,
                    residual_at_data=True, adam_steps=args.adam, lr=1e-3,
                    lbfgs_steps=args.lbfgs, lbfgs_chunk=1000, lbfgs_history=100,
                    lbfgs_eval_factor=1.25, lbfgs_tolerance_grad=1e-8,
                    lbfgs_tolerance_change=0.0, checkpoint_every=0, seed=seed,
                    derivatives=derivatives or args.derivatives)
    torch.manual_seed(seed)
    model = build_physics_model("pinn", {"width": 20, "depth": 3}, problem)
    return model, make_objective(model, problem, cfg), cfg


def run_ours(args: argparse.Namespace, seed: int) -> dict:
    import torch

    from sciml.tasks import fit_physics_informed

    torch.set_num_threads(1)
    model, objective, cfg = build_ours(args, seed)
    t0 = time.perf_counter()
    history = fit_physics_informed(model, objective, cfg)
    seconds = time.perf_counter() - t0
    x, t, ref = load_reference(DATA)
    pred = objective.predict(model, x, t)
    lbfgs = [r for r in history if r["phase"] == "lbfgs"]
    return {"rel_l2": rel_l2(pred, ref), "seconds": seconds, "loss": history[-1]["train/loss"],
            "params": sum(p.numel() for p in model.parameters()),
            "lbfgs_iterations": int(lbfgs[-1]["lbfgs_iterations"]) if lbfgs else 0,
            "lbfgs_restarts": int(lbfgs[-1].get("lbfgs_restarts", 0)) if lbfgs else 0,
            "lbfgs_approximate_wolfe": int(lbfgs[-1].get("lbfgs_approximate_wolfe", 0))
            if lbfgs else 0,
            "derivatives": "jet" if objective.uses_jet(model) else "autograd",
            "peak_rss_mb": _record.peak_rss_mb()}


def profile_ours(args: argparse.Namespace, evals: int = 20) -> str:
    """The top operators of our loss-and-gradient evaluation under each derivative mode, with
    the median time per evaluation (after a warm-up), as a log section."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(1)
    lines, times = [], {}
    for mode in ("autograd", "jet"):
        model, objective, _ = build_ours(args, 0, derivatives=mode)

        def step(model=model, objective=objective) -> None:
            model.zero_grad(set_to_none=True)
            sum(objective.losses(model).values()).backward()

        for _ in range(10):
            step()
        rounds = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(evals):
                step()
            rounds.append((time.perf_counter() - t0) / evals)
        times[mode] = float(np.median(rounds))
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(evals):
                step()
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8)
        lines += [f"Top operators, derivatives = {mode} ({evals} evaluations, "
                  f"{times[mode] * 1e3:.2f} ms each):", "", "```", table.strip(), "```", ""]
    lines.insert(0, f"- one loss-and-gradient evaluation: jet {times['jet'] * 1e3:.2f} ms, "
                    f"autograd {times['autograd'] * 1e3:.2f} ms "
                    f"({times['jet'] / times['autograd']:.2f}x)\n")
    return "\n".join(lines)


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
    state = model.opt.state_dict()["state"]
    iterations = int(state[0]["n_iter"]) if state else 0
    return {"rel_l2": rel_l2(pred, ref), "seconds": seconds,
            "loss": float(np.sum(losshistory.loss_train[-1])),
            "params": sum(p.numel() for p in net.parameters()), "version": dde.__version__,
            "lbfgs_iterations": iterations, "peak_rss_mb": _record.peak_rss_mb()}


def _median(rows: list[dict], key: str) -> float:
    return float(np.median([r[key] for r in rows]))


def _stalled(rows: list[dict], budget: int) -> int:
    return sum(1 for r in rows if r["lbfgs_iterations"] < min(STALL, budget))


def section(ours: list[dict], dde: list[dict], seeds: list[int], args: argparse.Namespace,
            wall: float, profile: str = "") -> tuple[str, list[dict]]:
    """The log section and the page's comparisons (median error and time; at DeepXDE's
    example budget also stalls and peak memory)."""
    t_ratio = _median(ours, "seconds") / _median(dde, "seconds")
    e_ratio = _median(ours, "rel_l2") / _median(dde, "rel_l2")
    example = (args.adam, args.lbfgs) == EXAMPLE_BUDGET
    t_target = 0.5 if example else 1.0
    met = t_ratio <= t_target and e_ratio <= 1.0
    stalled = (_stalled(ours, args.lbfgs), _stalled(dde, args.lbfgs))
    lines = [
        f"- wall {wall / 60:.1f} min; one torch thread each, one process per fit; "
        f"DeepXDE {dde[0].get('version')} (PyTorch backend); load average "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg()) + " at the end (shared cores)",
        f"- budget: Adam {args.adam} steps (lr 1e-3) then L-BFGS {args.lbfgs} iterations "
        "(memory 100, strong Wolfe, ≤ 1.25 evaluations per iteration, tolerance_grad 1e-8, "
        "tolerance_change 0)" + (" = DeepXDE's example" if example else "")
        + "; MLP 2-20-20-20-1 tanh, Glorot normal, float32; 2540 Hammersley "
        "residual points + 80 boundary + 160 initial points (also residual points); seeds "
        + ", ".join(map(str, seeds)),
        f"- our derivatives: {ours[0].get('derivatives', 'autograd')} (--derivatives "
        f"{args.derivatives})",
        "", "| seed | sciml s | sciml rel L2 | sciml loss | sciml L-BFGS its | sciml MB | "
        "DeepXDE s | DeepXDE rel L2 | DeepXDE loss | DeepXDE L-BFGS its | DeepXDE MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for seed, o, d in zip(seeds, ours, dde, strict=True):
        lines.append(f"| {seed} | {o['seconds']:.0f} | {o['rel_l2']:.3e} | {o['loss']:.2e} | "
                     f"{o['lbfgs_iterations']} | {o['peak_rss_mb']:.0f} | "
                     f"{d['seconds']:.0f} | {d['rel_l2']:.3e} | {d['loss']:.2e} | "
                     f"{d['lbfgs_iterations']} | {d['peak_rss_mb']:.0f} |")
    lines += [
        f"| median | {_median(ours, 'seconds'):.0f} | {_median(ours, 'rel_l2'):.3e} | "
        f"{_median(ours, 'loss'):.2e} | {_median(ours, 'lbfgs_iterations'):.0f} | "
        f"{_median(ours, 'peak_rss_mb'):.0f} | {_median(dde, 'seconds'):.0f} | "
        f"{_median(dde, 'rel_l2'):.3e} | {_median(dde, 'loss'):.2e} | "
        f"{_median(dde, 'lbfgs_iterations'):.0f} | {_median(dde, 'peak_rss_mb'):.0f} |", "",
        f"- parameters: sciml {ours[0]['params']}, DeepXDE {dde[0]['params']}",
        f"- stalled in L-BFGS (< {STALL} iterations): sciml {stalled[0]}, DeepXDE "
        f"{stalled[1]} of {len(seeds)} seeds; restarts of our L-BFGS where torch's would have "
        "stopped (line search at step 0 or no descent direction), per seed: "
        + ", ".join(str(o.get("lbfgs_restarts", 0)) for o in ours)
        + "; steps taken on the slope (approximate Wolfe) where the steepest-descent line search "
          "ended at step 0 too, per seed: "
        + ", ".join(str(o.get("lbfgs_approximate_wolfe", 0)) for o in ours),
        f"- median time ratio ours/DeepXDE = {t_ratio:.2f} (target ≤ {t_target:g}), median rel "
        f"L2 ratio = {e_ratio:.2f} (target ≤ 1): {'met' if met else 'not met'}",
    ]
    if profile:
        lines += ["", profile]
    setting = f"Adam {args.adam} + L-BFGS {args.lbfgs}, {len(seeds)} seeds"
    prefix = "pinn_vs_deepxde.example" if example else "pinn_vs_deepxde"
    budget = " (DeepXDE's example budget)" if example else ""
    comps = [
        _record.comparison(f"{prefix}.rel_l2", f"Burgers{budget}: median rel L2, sciml / "
                           "DeepXDE", _median(ours, "rel_l2"), _median(dde, "rel_l2"),
                           anchor_name="DeepXDE", target=("ratio", "<=", 1.0), setting=setting),
        _record.comparison(f"{prefix}.time", f"Burgers{budget}: median training seconds, "
                           "sciml / DeepXDE", _median(ours, "seconds"), _median(dde, "seconds"),
                           unit="s", anchor_name="DeepXDE", target=("ratio", "<=", t_target),
                           setting=setting)]
    if example:
        comps += [
            _record.comparison(f"{prefix}.stalled", f"Burgers{budget}: seeds stalled in "
                               f"L-BFGS (< {STALL} iterations)", stalled[0], stalled[1],
                               anchor_name="DeepXDE", ratio=None, target=("sciml", "<=", 0),
                               setting=setting),
            _record.comparison(f"{prefix}.peak_rss", f"Burgers{budget}: median peak "
                               "resident memory of a fit's process", _median(ours, "peak_rss_mb"),
                               _median(dde, "peak_rss_mb"), unit="MB", anchor_name="DeepXDE",
                               target=("ratio", "<=", 1.0), setting=setting)]
    return "\n".join(lines) + "\n", comps


def run_worker(which: str, args: argparse.Namespace, seed: int) -> dict:
    """One training in a fresh process: DeepXDE in its environment, ours in this one."""
    python = DDE_PYTHON if which == "deepxde" else Path(sys.executable)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if which == "deepxde":
        env["DDE_BACKEND"] = "pytorch"
    proc = subprocess.run([str(python), __file__, "--worker", which, "--adam", str(args.adam),
                           "--lbfgs", str(args.lbfgs), "--seeds", str(seed),
                           "--derivatives", args.derivatives],
                          env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{which} worker failed (exit {proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--adam", type=int, default=3000)
    p.add_argument("--lbfgs", type=int, default=2000)
    p.add_argument("--example", action="store_true",
                   help="DeepXDE's example budget: Adam 15000, L-BFGS 15000 (issue 24)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--derivatives", choices=["autograd", "jet"], default="autograd",
                   help="our residual derivatives (train.derivatives)")
    p.add_argument("--profile", action="store_true",
                   help="log the top operators of our loss evaluation, autograd and jet")
    p.add_argument("--worker", choices=["deepxde", "sciml"], help=argparse.SUPPRESS)
    _record.add_record_args(p)
    args = p.parse_args()
    if args.example:
        args.adam, args.lbfgs = EXAMPLE_BUDGET
    if args.adam < 0 or args.lbfgs < 0:
        p.error(f"--adam and --lbfgs must be >= 0, got {args.adam} and {args.lbfgs}")
    if args.worker:
        fit = run_deepxde if args.worker == "deepxde" else run_ours
        print("RESULT " + json.dumps(fit(args, args.seeds[0])))
        return 0
    if not DDE_PYTHON.is_file():
        print(f"DeepXDE environment missing ({DDE_PYTHON}); run benchmarks/setup_deepxde_env.sh",
              file=sys.stderr)
        return 1
    run = _record.start("pinn_vs_deepxde", args)
    t0 = time.perf_counter()
    profile = profile_ours(args) if args.profile else ""
    if profile:
        print(profile.splitlines()[0], flush=True)
    ours, dde = [], []
    for seed in args.seeds:
        try:
            dde.append(run_worker("deepxde", args, seed))
            print(f"seed {seed}  DeepXDE     rel L2 {dde[-1]['rel_l2']:.3e}  "
                  f"train {dde[-1]['seconds']:.0f} s  L-BFGS {dde[-1]['lbfgs_iterations']}",
                  flush=True)
            ours.append(run_worker("sciml", args, seed))
        except RuntimeError as err:
            print(err, file=sys.stderr)
            return 1
        print(f"seed {seed}  sciml PINN  rel L2 {ours[-1]['rel_l2']:.3e}  "
              f"train {ours[-1]['seconds']:.0f} s  L-BFGS {ours[-1]['lbfgs_iterations']}",
              flush=True)
    print(f"median      DeepXDE rel L2 {_median(dde, 'rel_l2'):.3e} in "
          f"{_median(dde, 'seconds'):.0f} s; sciml {_median(ours, 'rel_l2'):.3e} in "
          f"{_median(ours, 'seconds'):.0f} s")
    body, comps = section(ours, dde, args.seeds, args, time.perf_counter() - t0, profile)
    run.record("PINN vs DeepXDE (Burgers, ν = 0.01/π), medians over seeds", body, comps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
