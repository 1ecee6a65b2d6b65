"""The hard-constraint job: recipe → PI-HC-MoE (or PI-SC) trained on the PDE residual → run folder.

Chalapathi, Du, Krishnapriyan, ICLR 2024. A recipe has ``problem``
(:class:`HardConstraintProblem`: any registered PDE with its grid, constraints and initial
states; passed to the model as its problem keys), ``model`` (``hc_moe`` or ``pi_sc`` + config),
``train`` (:class:`HardConstraintFit`). Training is physics-informed (PDE residual +
initial/boundary rows, no solution data); the test error is measured against the PDE's
reference solver (:mod:`sciml.tasks._hc_problems`). The run folder gets ``recipe.yaml``,
``checkpoints/best.pt`` (the final model), ``checkpoints/last.pt`` (written atomically every
``train.checkpoint_every`` steps: model, optimizer, both random generators, step and history, so
that ``sciml fit`` on the same folder resumes a killed run where it stopped), ``metrics.csv`` and
``report.json``.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import atomic_torch_save, write_hdf5
from sciml.errors import ConfigError, DataError, NonFiniteError
from sciml.models import HC_PROBLEM_KEYS, HardConstrainedOperator, load_model
from sciml.physics import ConstraintSolveWarning
from sciml.registry import MODELS, TASKS
from sciml.tasks._hc_problems import HardConstraintProblem, _plain, problem_data
from sciml.tasks._job import AbstractJob, write_csv, write_json, write_yaml

__all__ = ["HardConstraintJob", "HardConstraintProblem", "HardConstraintFit", "problem_data",
           "mean_relative_l2"]


@dataclasses.dataclass(frozen=True)
class HardConstraintFit:
    """Adam on the physics loss: ``steps``, ``batch``, ``lr`` (paper: 1e-3), ``seed``;
    ``clip_grad_norm``: clip the gradient's global norm (None: no clipping; default 1, as the
    reference code: on diffusion–sorption, 3 seeds, the single hard constraint reached rel L2
    0.066-0.088 with it and 0.64-1.78 without, benchmarks/RESULTS.md); ``checkpoint_every``:
    steps between resumable checkpoints (0: none)."""

    steps: int = 200
    batch: int = 2
    lr: float = 1e-3
    seed: int = 0
    clip_grad_norm: float | None = 1.0
    checkpoint_every: int = 50

    def __post_init__(self) -> None:
        for name in ("steps", "batch"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        v = self.checkpoint_every
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"checkpoint_every must be an integer >= 0, got {v!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        c = self.clip_grad_norm
        if c is not None and (isinstance(c, bool) or not isinstance(c, (int, float))
                              or not math.isfinite(c) or c <= 0):
            raise ValueError(f"clip_grad_norm must be a positive number or null, got {c!r}")


def mean_relative_l2(model: torch.nn.Module, u0: torch.Tensor, ref: torch.Tensor) -> float:
    """Mean over samples of the relative L2 error ‖u − u_ref‖ / ‖u_ref‖ of ``model(u0)``.

    Samples go one at a time in eval mode; a :class:`HardConstrainedOperator`'s point sampling
    is seeded by the sample index, so the number is reproducible.

    Shapes:
        u0: ``(n, *space)`` initial states; ref: ``(n, *space, n_t)`` reference solutions.
    """
    model.eval()
    errors = []
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        for i in range(len(u0)):
            x = u0[i:i + 1].float()
            if isinstance(model, HardConstrainedOperator):
                u = model(x, torch.Generator().manual_seed(i))
            else:
                u = model(x)
            errors.append(float((u - ref[i:i + 1]).norm() / ref[i:i + 1].norm()))
    return float(np.mean(errors))


@TASKS.register("hard_constraint",
                help="PI-HC-MoE / PI-SC trained on the PDE residual (any registered PDE)")
class HardConstraintJob(AbstractJob):
    """Hard-constraint recipes: ``problem``, ``model`` (hc_moe / pi_sc), ``train``."""

    sections = ("problem", "model", "train")
    configs = {"problem": ("problem", HardConstraintProblem),
               "train": ("fit_cfg", HardConstraintFit)}
    problem: HardConstraintProblem
    fit_cfg: HardConstraintFit

    def __init__(self, recipe: dict[str, Any]) -> None:
        super().__init__(recipe)
        if self.model_name not in ("hc_moe", "pi_sc"):
            raise ConfigError(f"model.name must be 'hc_moe' or 'pi_sc' for a hard_constraint "
                              f"recipe, got {self.model_name!r}")
        described = self.problem.model_values()             # the PDE, grid and constraints
        for key in HC_PROBLEM_KEYS:
            if key in self.model_values and key != "nu" \
                    and _plain(self.model_values[key]) != described.get(key):
                raise ConfigError(f"model.{key} {self.model_values[key]!r} differs from "
                                  f"problem.{key} {described.get(key)!r} (the problem section "
                                  f"describes the PDE)")
        self.model_values = {**self.model_values, **described}

    def build_model(self) -> torch.nn.Module:
        torch.manual_seed(self.fit_cfg.seed)
        return MODELS.build(self.model_name, self.model_values, where="model",
                            grid_shape=list(self.problem.grid_shape),
                            t_final=self.problem.final_time)

    def fit(self, run_dir: Path, resume: bool = True, progress: bool = True) -> dict[str, Any]:
        run_dir = Path(run_dir)
        write_yaml(run_dir / "recipe.yaml", self.recipe)
        model = self.build_model()
        train_u0, _ = problem_data(self.problem, "train")
        cfg = self.fit_cfg
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        rng = np.random.default_rng(cfg.seed)
        history: list[dict[str, Any]] = []
        start, seconds = 0, 0.0
        last = run_dir / "checkpoints" / "last.pt"
        if resume and last.is_file():
            state = torch.load(last, map_location="cpu", weights_only=True)
            model.load_state_dict(state["model"]["state_dict"])
            opt.load_state_dict(state["optimizer"])
            rng.bit_generator.state = state["numpy_rng"]
            torch.set_rng_state(state["torch_rng"])
            start, seconds, history = state["step"], state["seconds"], list(state["history"])
            if progress:
                print(f"resuming {run_dir} at step {start}", flush=True)
        batch = min(cfg.batch, len(train_u0))
        t0 = time.perf_counter()
        for step in range(start, cfg.steps):
            idx = torch.as_tensor(rng.choice(len(train_u0), size=batch, replace=False))
            u0 = train_u0[idx].float()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConstraintSolveWarning)   # counted below
                u = model(u0)
            pde, rows = model.physics_loss(u, u0)
            loss = pde + rows
            if not torch.isfinite(loss):
                raise NonFiniteError(f"non-finite physics loss at step {step} (pde "
                                     f"{pde.item()}, rows {rows.item()})")
            info = getattr(model, "last_info", None)
            unconverged = 0 if info is None else int((~info.converged).sum())
            opt.zero_grad()
            loss.backward()
            if cfg.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
            opt.step()
            row = {"step": step, "loss": loss.item(), "pde": pde.item(), "rows": rows.item(),
                   "unconverged_expert_solves": unconverged}
            history.append(row)
            if progress and (step % max(1, cfg.steps // 10) == 0):
                print(f"step {step} loss {row['loss']:.4g} (pde {row['pde']:.3g}, rows "
                      f"{row['rows']:.3g})", flush=True)
            done = step + 1
            if cfg.checkpoint_every and (done % cfg.checkpoint_every == 0 or done == cfg.steps):
                atomic_torch_save({"model": model.checkpoint(), "optimizer": opt.state_dict(),
                                   "numpy_rng": rng.bit_generator.state,
                                   "torch_rng": torch.get_rng_state(), "step": done,
                                   "seconds": seconds + time.perf_counter() - t0,
                                   "history": history}, last)
        seconds += time.perf_counter() - t0
        model.save(run_dir / "checkpoints" / "best.pt")
        write_csv(run_dir / "metrics.csv", history)
        return self._report(run_dir, model, {"fit_seconds": seconds,
                                             "final_loss": history[-1]["loss"]})

    def _report(self, run_dir: Path, model: torch.nn.Module, extra: dict[str, Any]
                ) -> dict[str, Any]:
        test_u0, ref = problem_data(self.problem, "test")
        report = {"model": self.model_name, "problem": dataclasses.asdict(self.problem),
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "test": {"test/rel_l2": mean_relative_l2(model, test_u0, ref)}, **extra}
        write_json(Path(run_dir) / "report.json", report)
        return report

    def _load(self, run_dir: Path) -> torch.nn.Module:
        path = Path(run_dir) / "checkpoints" / "best.pt"
        if not path.is_file():
            raise DataError(f"{run_dir}: no trained model at {path} (run `sciml fit` first)")
        return load_model(path)

    def evaluate(self, run_dir: Path) -> dict[str, Any]:
        return self._report(Path(run_dir), self._load(run_dir), {})

    def predict(self, run_dir: Path, input_path: Path, output: Path | None) -> list[Path]:
        """Input: ``.npy`` initial states ``(n, *space)``; output ``prediction.h5`` with u."""
        model = self._load(run_dir)
        input_path = Path(input_path)
        if not input_path.is_file():
            raise FileNotFoundError(f"no input file at {input_path}")
        try:
            u0 = np.load(input_path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(f"{input_path}: cannot read initial states ({e})") from e
        space = tuple(self.problem.grid_shape[:-1])
        if u0.shape[1:] != space or not np.isfinite(u0).all():
            raise DataError(f"{input_path}: expected finite initial states of shape "
                            f"(n, {', '.join(map(str, space))}), got {u0.shape}")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConstraintSolveWarning)
            u = model(torch.as_tensor(u0, dtype=torch.float32)).numpy()
        out = (Path(output) if output is not None else Path(run_dir) / "predictions")
        out = out / "prediction.h5"
        write_hdf5(out, {"initial": u0.astype(np.float64), "u": u.astype(np.float64)},
                   params={"run": str(run_dir), "input": str(input_path)})
        return [out]
