"""`sciml compare` / `sciml.compare`: two trained runs' representations, layer by layer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import sciml
from sciml.analysis import _compare, kernel_cka, linear_cka
from sciml.cli import main
from sciml.errors import ConfigError
from tests.api.conftest import tiny_recipe

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two seeds of the tiny MgNO recipe and one of the tiny forecaster, trained once."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("compare")
    out = {}
    for key, family, seed in (("op0", "operator", 0), ("op1", "operator", 1),
                              ("fc0", "forecasting", 0), ("fc1", "forecasting", 1)):
        recipe = tiny_recipe(family).with_overrides([f"train.seed={seed}"])
        sciml.fit(recipe, run_dir=root / key, progress=False)
        out[key] = root / key
    return out


@pytest.mark.parametrize("key", ["op0", "fc0"])
def test_a_run_against_itself_is_one_on_every_paired_layer(runs, key):
    report = sciml.compare(runs[key], runs[key])
    assert report["paired_by"] == "layers of the same name"
    names = [x["name"] for x in report["layers_a"]]
    assert names[-1] == "output" and len(report["pairs"]) == len(names) >= 3
    m = np.array([[np.nan if v is None else v for v in row] for row in report["linear_cka"]])
    assert np.allclose(np.diag(m), 1.0, atol=1e-6)  # every layer recorded, compared to itself
    assert np.nanmax(m) <= 1 + 1e-6 and np.nanmin(m) >= -1e-9
    for p in report["pairs"]:
        assert p["linear_cka"] == pytest.approx(1.0, abs=1e-6)
        if "svcca" in p:  # every unit matched to itself
            assert p["svcca"] == pytest.approx(1.0, abs=1e-6)
            assert p["matched_correlation"] == pytest.approx(1.0, abs=1e-6)
    assert any("svcca" in p for p in report["pairs"])


def test_two_seeds_give_a_heat_map_and_the_files_together(runs, tmp_path):
    out = tmp_path / "cmp"
    report = sciml.compare(runs["op0"], runs["op1"], out=out, kernel=True, samples=2)
    assert sorted(p.name for p in out.iterdir()) == ["cka.png", "compare.json"]
    assert json.loads((out / "compare.json").read_text()) == json.loads(json.dumps(report))
    assert report["samples"] == 2
    n_a, n_b = len(report["layers_a"]), len(report["layers_b"])
    for key in ("linear_cka", "kernel_cka"):
        assert len(report[key]) == n_a and all(len(r) == n_b for r in report[key])
        vals = [v for r in report[key] for v in r if v is not None]
        assert vals and all(-1e-9 <= v <= 1 + 1e-9 for v in vals)
    # nothing half-written beside the folder, and a second run replaces both files
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]
    sciml.compare(runs["op0"], runs["op1"], out=out, layers=["output"])
    again = json.loads((out / "compare.json").read_text())
    assert "kernel_cka" not in again and [x["name"] for x in again["layers_a"]] == ["output"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]


def test_the_cka_values_are_those_of_the_activations(runs):
    """The report's CKA equals sciml.analysis on activations recorded by hand."""
    run = sciml.load_run(runs["op0"])
    other = sciml.load_run(runs["op1"])
    eval_data, _ = run.eval_data()
    report = sciml.compare(runs["op0"], runs["op1"], layers=["lifting", "output"], kernel=True)
    acts = {}
    for tag, r in (("a", run), ("b", other)):
        with _compare._recording(r.model, ["lifting", "output"]) as rec, torch.no_grad():
            ds, _ = r.job.test_samples(eval_data, r.spec)
            batch = torch.utils.data.default_collate([ds[i] for i in range(len(ds))])
            r.task.metrics(batch)
        acts[tag] = {k: v[0].reshape(v[0].shape[0], -1).double().numpy() for k, v in rec.items()}
    for i, na in enumerate(["lifting", "output"]):
        for j, nb in enumerate(["lifting", "output"]):
            assert report["linear_cka"][i][j] == pytest.approx(
                linear_cka(acts["a"][na], acts["b"][nb]), abs=2e-6)
            assert report["kernel_cka"][i][j] == pytest.approx(
                kernel_cka(acts["a"][na], acts["b"][nb]), abs=2e-6)


def test_all_svcca_is_the_paired_svcca_on_its_diagonal_and_one_against_itself(runs):
    """``all_svcca``: SVCCA between every pair of layers; the same-name entries equal the pairs'
    SVCCA, and a run against itself gives 1 on the diagonal."""
    report = sciml.compare(runs["op0"], runs["op1"], all_svcca=True)
    names_a = [x["name"] for x in report["layers_a"]]
    names_b = [x["name"] for x in report["layers_b"]]
    m = report["svcca"]
    assert len(m) == len(names_a) and all(len(r) == len(names_b) for r in m)
    for p in report["pairs"]:
        if "svcca" in p:
            assert m[names_a.index(p["a"])][names_b.index(p["b"])] == p["svcca"]
    off = [v for i, r in enumerate(m) for j, v in enumerate(r) if v is not None and i != j]
    assert off and all(0 <= v <= 1 + 1e-9 for v in off)
    itself = sciml.compare(runs["op0"], runs["op0"], all_svcca=True)["svcca"]
    assert all(itself[i][i] == pytest.approx(1.0, abs=1e-6) for i in range(len(itself))
               if itself[i][i] is not None)
    assert "svcca" not in sciml.compare(runs["op0"], runs["op1"], layers=["output"])


@pytest.mark.parametrize("wide", [True, False])
def test_gram_and_feature_forms_agree(wide):
    rng = np.random.default_rng(0)
    n = 12
    a = torch.from_numpy(rng.normal(size=(n, 40 if wide else 5)))
    b = torch.from_numpy(rng.normal(size=(n, 3)) @ rng.normal(size=(3, 7)) + 0.1 * rng.normal(
        size=(n, 7)))
    la = _compare._reduce("a", a, list(a.shape), -1, need_gram=False)
    lb = _compare._reduce("b", b, list(b.shape), -1, need_gram=False)
    assert (la.gram is not None) == wide and lb.x is not None
    assert _compare._linear_cka(la, lb) == pytest.approx(linear_cka(a, b), rel=1e-10)
    assert _compare._linear_cka(lb, la) == pytest.approx(linear_cka(b, a), rel=1e-10)


def test_the_rows_kept_are_the_same_draw_for_equal_counts():
    keep = _compare._rows(5000, 2000)
    assert len(keep) == 2000 and np.array_equal(keep, _compare._rows(5000, 2000))
    assert _compare._rows(100, 2000) is None


def test_layers_by_pattern_and_a_pattern_that_matches_nothing(runs):
    report = sciml.compare(runs["op0"], runs["op1"], layers=["layers.?"])
    assert [x["name"] for x in report["layers_a"]] == ["layers.0", "layers.1"]
    inside = sciml.compare(runs["op0"], runs["op1"], layers=["layers.*"])  # * crosses dots
    assert "layers.0.mg" in [x["name"] for x in inside["layers_a"]]
    with pytest.raises(ConfigError, match="no layer of MgNO matches nope.*lifting"):
        sciml.compare(runs["op0"], runs["op1"], layers=["nope"])


def test_runs_of_two_jobs_and_a_pinn_are_refused(runs, tmp_path):
    with pytest.raises(ConfigError, match="operator run .* forecasting run"):
        sciml.compare(runs["op0"], runs["fc0"])
    pinn = tmp_path / "pinn"
    sciml.fit(tiny_recipe("physics_informed"), run_dir=pinn, progress=False)
    with pytest.raises(ConfigError, match="no test samples"):
        sciml.compare(pinn, pinn)


def test_an_output_folder_with_other_files_is_refused_and_left_alone(runs, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="holds other files"):
        sciml.compare(runs["op0"], runs["op1"], out=out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_failed_plot_writes_nothing(runs, tmp_path, monkeypatch):
    def broken(report, path):
        raise RuntimeError("no plot")

    monkeypatch.setattr(_compare, "plot_cka", broken)
    with pytest.raises(RuntimeError, match="no plot"):
        sciml.compare(runs["op0"], runs["op1"], out=tmp_path / "cmp")
    assert list(tmp_path.iterdir()) == []


def test_the_command_line(runs, tmp_path, capsys):
    out = tmp_path / "fc"
    assert main(["compare", str(runs["fc0"]), str(runs["fc1"]), "--out", str(out),
                 "--samples", "20", "--layers", "*"]) == 0
    text = capsys.readouterr().out
    assert "linear CKA" in text and f"wrote {out / 'compare.json'}" in text
    report = json.loads((out / "compare.json").read_text())
    assert report["samples"] == 20 and report["model_a"] == "time_then_space"
    assert main(["compare", str(runs["fc0"]), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sciml: error:") and len(err.strip().splitlines()) == 1


def test_the_command_line_states_the_row_cap_of_the_analysis():
    from sciml.cli import _main

    assert _main.MAX_COMPARE_ROWS == _compare.MAX_ROWS
