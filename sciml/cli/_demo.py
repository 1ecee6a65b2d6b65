"""``sciml demo``: one short recipe per capability, printing metrics and writing plots.

Each entry is a shipped recipe with overrides that keep it to a minute or two on 2 CPU cores.
Later capabilities add their entry to ``DEMOS``.
"""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["DEMOS", "run_demo"]

# (title, recipe, overrides for the demo, extra overrides for --quick)
DEMOS: list[tuple[str, str, list[str], list[str]]] = [
    (
        "Spatiotemporal forecasting: time-then-space GNN on generated GPVAR data",
        "gpvar-tts",
        ["train.max_epochs=15", "data.options.n_steps=2000", "train.batch_size=32"],
        ["train.max_epochs=1", "data.options.n_steps=600"],
    ),
    (
        "PDE surrogate: MgNO on generated 2-D Darcy flow (piecewise-constant coefficients)",
        "darcy-mgno",
        ["data.options={n_train: 200, n_test: 40, resolution: 33}", "model.width=16",
         "model.n_layers=4", "model.num_smooth=1", "train.max_epochs=15",
         "train.scheduler={name: onecycle, max_lr: 0.003}"],
        ["data.options={n_train: 16, n_test: 4, resolution: 17}", "train.max_epochs=1",
         "model.width=8"],
    ),
    (
        "Lagrangian PINN: periodic convection at β = 30 (where a plain PINN fails)",
        "convection-lpinn",
        ["problem.params.beta=30.0", "train.n_x=64", "train.n_t=32", "train.adam_steps=300",
         "train.lbfgs_steps=300"],
        ["train.n_x=16", "train.n_t=8", "train.adam_steps=20", "train.lbfgs_steps=20",
         "model.width=8", "eval.n_x=64", "eval.n_t=21"],
    ),
    (
        "Particles: PONITA forecasting a charged N-body system (frame 30 -> 40)",
        "nbody-ponita",
        ["data.options={n_train: 500, n_val: 100, n_test: 200}", "model.num_ori=8",
         "model.hidden_size=32", "model.n_layers=2", "model.basis_dim=32",
         "train.max_epochs=25", "train.scheduler={name: warmup_cosine, interval: epoch, "
         "warmup: 1}", "train.batch_size=50", "train.optimizer={name: adam, lr: 0.002}"],
        ["data.options={n_train: 40, n_val: 10, n_test: 10, n_steps: 1000, frame_in: 3, "
         "frame_out: 6}", "train.max_epochs=1", "model.hidden_size=8", "model.n_layers=1",
         "model.basis_dim=8"],
    ),
]


def run_demo(out: Path, quick: bool = False) -> int:
    import sciml

    out = Path(out)
    summary = []
    for title, recipe_name, overrides, quick_overrides in DEMOS:
        print(f"\n== {title}")
        t0 = time.perf_counter()
        recipe = sciml.load_recipe(recipe_name, overrides + (quick_overrides if quick else []))
        run_dir = out / recipe_name
        report = sciml.fit(recipe, run_dir, fresh=True, progress=not quick)
        seconds = time.perf_counter() - t0
        test = report.get("test", {})
        # MSE is shown as RMSE; MAPE is left out here (meaningless for series around zero).
        for key in sorted(k for k in test if not k.startswith(("test/mse", "test/mape"))):
            print(f"  {key:<22} {test[key]:.4f}")
        for key, value in report.items():
            if key.startswith("baseline_"):
                name = key[len("baseline_") :]
                print(f"  {name} baseline: test/mae {value.get('test/mae', float('nan')):.4f}")
        plots = sorted(str(p) for p in run_dir.glob("*.png"))
        print(f"  plots: {', '.join(plots)}   ({seconds:.0f} s)")
        summary.append((recipe_name, seconds))
    print("\ndemo finished: " + ", ".join(f"{n} {s:.0f} s" for n, s in summary))
    return 0
