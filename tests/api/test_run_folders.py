"""Run-folder rules (resume, refuse, fresh, extend, unclaimed after an early failure), checkpoint
faults, self-contained and movable folders, and run folders written by earlier versions."""

from __future__ import annotations

import json
import os
import shutil
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import sciml
from sciml.errors import ConfigError, DataError
from tests.api.conftest import SHARED, tiny_recipe

pytestmark = pytest.mark.usefixtures("one_thread")

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "runs_v0"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny operator run, trained once for the tests that only read it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("runs") / "darcy"
    sciml.fit(tiny_recipe("operator"), run, progress=False)
    torch.set_num_threads(before)
    return run


def test_same_recipe_resumes_other_recipe_is_refused_fresh_restarts(tmp_path):
    recipe = tiny_recipe("operator")
    first = sciml.fit(recipe, tmp_path, progress=False)
    mtime = (tmp_path / "checkpoints" / "last.pt").stat().st_mtime_ns
    assert sciml.fit(recipe, tmp_path, progress=False)["test"] == first["test"]  # finished
    assert (tmp_path / "checkpoints" / "last.pt").stat().st_mtime_ns == mtime
    other = recipe.with_overrides(["model.width=16"])
    with pytest.raises(ConfigError, match=r"different recipe \(model.width: 8 there, 16 now\)"):
        sciml.fit(other, tmp_path, progress=False)
    (tmp_path / "notes.txt").write_text("mine")
    sciml.fit(other, tmp_path, fresh=True, progress=False)
    assert yaml.safe_load((tmp_path / "recipe.yaml").read_text())["model"]["width"] == 16
    assert (tmp_path / "notes.txt").read_text() == "mine"  # the user's files stay


def test_extend_trains_a_finished_run_further(tmp_path):
    recipe = tiny_recipe("forecasting")
    sciml.fit(recipe, tmp_path, progress=False)
    with pytest.raises(ConfigError, match="different recipe"):
        sciml.fit(recipe.with_overrides(["model.hidden_size=4"]), tmp_path, extend=1,
                  progress=False)
    report = sciml.fit(recipe, tmp_path, extend=2, progress=False)
    assert report["epochs"] == 4
    stored = yaml.safe_load((tmp_path / "recipe.yaml").read_text())
    assert stored["train"]["max_epochs"] == 4 and stored["train"]["schedule_epochs"] == 2
    rows = (tmp_path / "metrics.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [1, 2, 3, 4]
    with pytest.raises(ConfigError, match="nothing to extend"):
        sciml.fit(recipe, tmp_path / "empty", extend=1, progress=False)


def test_a_fit_that_fails_before_its_first_step_leaves_no_claim(tmp_path):
    recipe = tiny_recipe("operator").with_overrides(["model.levels=9"])  # too deep for 17²
    with pytest.raises(ConfigError):
        sciml.fit(recipe, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "recipe.yaml").exists()
    # the folder is free for another recipe
    sciml.fit(tiny_recipe("operator"), tmp_path / "run", progress=False)


def test_fit_failing_in_its_first_step_leaves_no_claim(tmp_path, monkeypatch):
    from sciml.tasks import OperatorTask

    def boom(self, batch):
        raise RuntimeError("boom")

    monkeypatch.setattr(OperatorTask, "forward", boom)
    with pytest.raises(RuntimeError, match="boom"):
        sciml.fit(tiny_recipe("operator"), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_moved_folder_predicts_without_the_training_data(trained, tmp_path, monkeypatch):
    moved = tmp_path / "elsewhere"
    shutil.copytree(trained, moved)
    from sciml.tasks import OperatorJob

    def no_data(self):
        raise AssertionError("the training data were loaded")

    monkeypatch.setattr(OperatorJob, "load_data", no_data)
    run = sciml.load_run(moved)
    x = torch.rand(2, 1, 17, 17)
    torch.testing.assert_close(run.predict(x), sciml.load_run(trained).predict(x))


def test_eval_on_a_read_only_folder(trained, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    ro = tmp_path / "ro"
    shutil.copytree(trained, ro)
    (ro / "eval.json").unlink(missing_ok=True)
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.warns(UserWarning, match="read-only"):
            report = sciml.evaluate(ro)
        assert np.isfinite(report["test"]["test/rel_l2"])
        assert not (ro / "eval.json").exists()
    finally:
        ro.chmod(stat.S_IRWXU)


def test_eval_write_is_skipped_when_folder_is_not_writable(trained, tmp_path, monkeypatch):
    """As above for any user (root included): the run reports itself not writable."""
    from sciml.runs import RunFolder

    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    (copy / "eval.json").unlink(missing_ok=True)
    monkeypatch.setattr(RunFolder, "writable", lambda self: False)
    with pytest.warns(UserWarning, match="read-only"):
        sciml.evaluate(copy)
    assert not (copy / "eval.json").exists()
    assert json.loads((copy / "report.json").read_text())["model"] == "mgno"


def test_damaged_best_falls_back_to_last_and_truncated_last_is_one_line(trained, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    last = copy / "checkpoints" / "last.pt"
    best = copy / "checkpoints" / "best.pt"
    shutil.copy(last, best)
    best.write_bytes(best.read_bytes()[:200])  # truncated
    with pytest.warns(UserWarning, match=r"best.pt: cannot read checkpoint.*using .*last.pt"):
        run = sciml.load_run(copy)
    assert run.checkpoint.name == "last.pt"
    best.unlink()
    last.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match=r"last.pt: cannot read checkpoint") as info:
        sciml.load_run(copy)
    assert len(str(info.value).splitlines()) == 1
    torch.save({"weights": torch.zeros(2)}, last)  # a foreign file
    with pytest.raises(DataError, match="last.pt: not a sciml checkpoint"):
        sciml.load_run(copy)


def test_files_get_the_users_umask(trained):
    mask = os.umask(0)
    os.umask(mask)
    for name in ("report.json", "recipe.yaml", "checkpoints/last.pt", "data_spec.pt"):
        mode = stat.S_IMODE((trained / name).stat().st_mode)
        assert mode == 0o666 & ~mask, (name, oct(mode))


def test_full_disk_is_named(tmp_path, monkeypatch):
    import errno

    from sciml.data import write_json

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=r"no space left on device while writing .*out.json"):
        write_json(tmp_path / "out.json", {"a": 1})
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.mark.parametrize("family", ["forecasting", "operator", "physics_informed",
                                    "hard_constraint", "molecular", "nbody"])
def test_run_folders_of_the_previous_version_still_load(family, tmp_path, monkeypatch):
    """Folders written by sciml at a68fce5 (tests/fixtures/runs_v0): eval and predict work."""
    run = tmp_path / family
    shutil.copytree(V0 / family, run)
    if family == "molecular":  # the data file lay elsewhere on the machine that wrote it
        if not SHARED.is_dir():
            pytest.skip("no shared data folder")
        recipe = yaml.safe_load((run / "recipe.yaml").read_text())
        recipe["data"]["options"]["path"] = str(SHARED / "molecular" /
                                                "rmd17_aspirin_15frames.npz")
        (run / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    before = json.loads((run / "report.json").read_text())
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*instead")  # no fallback: checkpoints intact
        report = sciml.evaluate(run)
    common = sorted(set(report["test"]) & set(before["test"]))  # reports gained metrics since
    assert common
    assert {k: report["test"][k] for k in common} == pytest.approx(
        {k: before["test"][k] for k in common}, rel=1e-5, abs=1e-7)
    trained = sciml.load_run(run)
    inputs = {
        "forecasting": lambda: np.zeros((12, 12), np.float32),
        "operator": lambda: torch.rand(1, 1, 17, 17),
        "physics_informed": lambda: np.array([[0.5, 0.2]]),
        "hard_constraint": lambda: np.random.default_rng(0).random((1, 16)),
        "molecular": lambda: sciml.datasets.read_xyz(SHARED / "molecular" / "aspirin.xyz"),
        "nbody": lambda: {"pos": np.zeros((1, 5, 3)), "vel": np.ones((1, 5, 3)),
                          "charges": np.ones((1, 5))},
    }[family]()
    out = trained.predict(inputs)
    values = out["energy"] if isinstance(out, dict) else out
    assert np.isfinite(np.asarray(values)).all()


def test_a_recipe_from_python_resumes_its_stored_run(tmp_path):
    """Tuples in a Python recipe are lists once stored: the same recipe, not another."""
    recipe = dict(tiny_recipe("forecasting"))
    recipe["eval"] = {**recipe.get("eval", {}), "steps": (1, 3, 6)}
    first = sciml.fit(recipe, tmp_path, progress=False)
    assert sciml.fit(recipe, tmp_path, progress=False)["test"] == first["test"]
    recipe["train"] = {**recipe["train"], "optimizer": {"name": "adam", "lr": np.float64(0.01)}}
    with pytest.raises(ConfigError, match="not plain YAML"):
        sciml.fit(recipe, tmp_path, progress=False)
