"""Regression fixture: one forward pass (field, physics loss, LM iterations) of PI-HC-MoE and
PI-SC on the two original problems (diffusion–sorption, Navier–Stokes), and the job's initial
states and reference solutions, pinned to tests/references/hc_moe_forward.json.

tests/references/hc_runs/ holds two run folders (recipe, report, best checkpoint) written by
the same code: a diffusion–sorption hc_moe and a Navier–Stokes pi_sc, 2 training steps each.

The fixture was written by the code before the models took their PDE from the recipe
(``python tests/models/test_hc_moe_regression.py --write``), so a refactor that changes the
numbers of the existing problems fails here.
"""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import sciml
import sciml.models  # noqa: F401  (registers the models)
from sciml.physics import ConstraintSolveWarning
from sciml.registry import MODELS

FIXTURE = Path(__file__).resolve().parents[1] / "references" / "hc_moe_forward.json"
RUNS = FIXTURE.parent / "hc_runs"
SMALL = {"backbone": {"width": 8, "n_layers": 1, "levels": 2}}
DS = {"grid_shape": [16, 11], "t_final": 500.0}
NS = {"grid_shape": [8, 8, 5], "t_final": 0.5}
CASES = {
    "hc_moe ds bdf2": ("hc_moe", {"n_points": 64, "on_fail": "warn", "time_scheme": "bdf2",
                                  "row_scale": 500.0, **SMALL}, DS),
    "hc_moe ds global own-loss": ("hc_moe", {"n_points": 64, "on_fail": "warn",
                                             "warm_start": "global", "expert_loss": True,
                                             **SMALL}, DS),
    "hc_moe ns": ("hc_moe", {"problem": "navier_stokes", "nu": 1e-3, "n_points": 64,
                             "on_fail": "warn", "row_scale": 5.0, **SMALL}, NS),
    "pi_sc ds": ("pi_sc", {"row_scale": 5.0, **SMALL}, DS),
    "pi_sc ns": ("pi_sc", {"problem": "navier_stokes", **SMALL}, NS),
}


def _initial(sizes: dict) -> torch.Tensor:
    space = sizes["grid_shape"][:-1]
    if len(space) == 1:
        return torch.linspace(0.05, 0.15, 2)[:, None].expand(2, space[0]).contiguous()
    return torch.randn(1, *space, generator=torch.Generator().manual_seed(1))


def _forward(name: str, values: dict, sizes: dict) -> dict:
    torch.manual_seed(0)
    model = MODELS.build(name, values, **sizes)
    u0 = _initial(sizes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        u = model(u0, torch.Generator().manual_seed(0)) if name == "hc_moe" else model(u0)
    pde, rows = model.physics_loss(u, u0)
    out = {"u": u.detach().flatten().tolist(), "pde": pde.item(), "rows": rows.item()}
    if name == "hc_moe":
        out["iterations"] = model.last_info.iterations.flatten().tolist()
    return out


def _data() -> dict:
    from sciml.tasks import HardConstraintProblem, problem_data

    out = {}
    for key, spec in (("ds", HardConstraintProblem(n_x=16, n_t=11, n_train=2, n_test=1)),
                      ("ns", HardConstraintProblem(problem="navier_stokes", n_x=8, n_t=5,
                                                   t_final=0.5, n_train=2, n_test=1))):
        train, _ = problem_data(spec, "train")
        test, ref = problem_data(spec, "test")
        out[key] = {"train": train.flatten().tolist(), "test": test.flatten().tolist(),
                    "ref": ref.flatten().tolist()}
    return out


def snapshot() -> dict:
    with torch.random.fork_rng():
        torch.set_num_threads(1)
        return {"models": {case: _forward(*args) for case, args in CASES.items()},
                "data": _data()}


def _close(got: list, want: list, rtol: float, what: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, what
    scale = max(float(np.abs(want).max()), 1e-12)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


def test_forward_passes_and_data_of_the_original_problems_are_unchanged(one_thread):
    want = json.loads(FIXTURE.read_text())
    got = snapshot()
    for case, ref in want["models"].items():
        new = got["models"][case]
        _close(new["u"], ref["u"], 1e-4, f"{case}: u")
        for key in ("pde", "rows"):
            _close([new[key]], [ref[key]], 1e-4, f"{case}: {key} loss")
        if "iterations" in ref:
            assert new["iterations"] == ref["iterations"], case
    for key, ref in want["data"].items():
        for part in ("train", "test", "ref"):
            _close(got["data"][key][part], ref[part], 1e-10, f"data {key} {part}")


@pytest.mark.parametrize("name", ["diffusion-sorption-hcmoe", "navier-stokes-hcmoe"])
def test_run_folders_written_before_keep_loading_and_evaluating(one_thread, tmp_path, name):
    from sciml.models import load_model
    from sciml.tasks import HardConstraintJob

    run = RUNS / name
    model = load_model(run / "checkpoints" / "best.pt")
    assert model.config.problem == yaml.safe_load((run / "recipe.yaml").read_text())[
        "problem"]["problem"]
    shutil.copytree(run, tmp_path / name)
    HardConstraintJob(yaml.safe_load((run / "recipe.yaml").read_text()))  # still validates
    report = sciml.evaluate(tmp_path / name)
    want = json.loads((run / "report.json").read_text())["test"]["test/rel_l2"]
    assert report["test"]["test/rel_l2"] == pytest.approx(want, rel=1e-4)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/models/test_hc_moe_regression.py --write")
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(snapshot(), indent=None) + "\n")
    print(f"wrote {FIXTURE}")
