"""A user's own graph time series from the command line: weekly counts of 20 regions written by
pandas (dates, a gap, missing cells) and an adjacency with node-id header, trained with ``sciml
fit`` on a recipe of its own (no validation split, Huber loss), then ``eval`` and ``predict``;
bad inputs to ``predict`` are one-line errors and write nothing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

import sciml
from sciml.cli import main

REGIONS = [f"region_{i}" for i in range(20)]
RECIPE = {
    "task": "forecasting",
    "data": {"name": "csv", "options": {"values": "cases.csv", "adjacency": "adjacency.csv"},
             "window": 8, "horizon": 4, "val": 0, "test": 0.2},
    "model": {"name": "time_then_space", "hidden_size": 16},
    "objective": {"loss": "huber", "huber_delta": 5.0},
    "train": {"max_epochs": 3, "batch_size": 16, "tensorboard": False, "seed": 0},
    "eval": {"steps": [1, 4], "plot_nodes": [0, 1]},
}


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the recipe names its files relative to where it runs
    rng = np.random.default_rng(0)
    index = pd.date_range("2020-01-05", periods=120, freq="W-SUN", name="date")
    season = 10 * (1 + np.sin(2 * np.pi * np.arange(120) / 52))[:, None]
    counts = rng.poisson(20 + season, (120, 20)).astype(float)
    frame = pd.DataFrame(counts, index=index, columns=REGIONS)
    frame.iloc[7, 3] = np.nan
    frame.drop(index[30]).to_csv(tmp_path / "cases.csv")
    adj = (rng.random((20, 20)) < 0.15) * rng.random((20, 20))
    pd.DataFrame(adj, index=REGIONS, columns=REGIONS).to_csv(tmp_path / "adjacency.csv")
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(RECIPE))
    return frame


def test_fit_eval_predict_from_the_users_files(tmp_path, files, capsys, one_thread):
    assert main(["fit", "recipe.yaml", "--run-dir", "run", "--quiet"]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["series"] == "cases" and report["freq"] == "W-SUN" and report["nodes"] == 20
    assert report["loss"] == "huber" and "no early stopping" in report["validation"]
    for key in ("test/mae", "test/rmse", "test/mape", "test/mae_scaled", "test/rmse_scaled"):
        assert np.isfinite(report["test"][key]), key
    assert report["test"]["test/mae"] < report["baseline_persistence"]["test/mae"] * 1.5
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()
    assert not (tmp_path / "run" / "checkpoints" / "best.pt").exists()  # nothing monitored
    assert main(["eval", "run"]) == 0
    assert json.loads((tmp_path / "run" / "eval.json").read_text())["test"] == \
        pytest.approx(report["test"], rel=1e-6)

    # The same data through the Python API give the same metrics.
    series = sciml.datasets.load_csv("cases.csv", adjacency="adjacency.csv")
    api = sciml.fit(sciml.load_recipe("recipe.yaml"), "api", data=series, progress=False)
    assert api["test"] == pytest.approx(report["test"], rel=1e-6)

    # Predict from the last 10 weeks, dates in the first column: 4 weeks stamped after them.
    files.tail(10).to_csv("last.csv")
    assert main(["predict", "run", "--input", "last.csv", "--output", "out"]) == 0
    out = pd.read_csv(tmp_path / "out" / "forecast.csv")
    assert list(out.columns) == ["time", "step", *REGIONS]
    assert list(out["time"]) == [str(files.index[-1] + pd.Timedelta(weeks=k)).split(" ")[0]
                                 for k in (1, 2, 3, 4)]
    assert (tmp_path / "out" / "forecast.nc").is_file()


@pytest.mark.parametrize("case, expected", [
    ("daily", r"daily.csv: the input's time stamps are D apart, but the model was trained on "
              r"W-SUN steps"),
    ("absurd", r"absurd.csv: line 6, column 'region_2': 1e\+30 is .* scales from the training"),
    ("inf", r"inf.csv: line 4, column 'region_0': inf is not finite"),
    ("duplicate", r"duplicate.csv: column 'region_1' appears 2 times"),
    ("short", r"short.csv: 5 rows, but the model needs 8; expected 20 columns named "
              r"'region_0'..'region_19'"),
    ("missing node", r"missing node.csv: columns do not match the trained model \(missing: "
                     r"\['region_19'\]"),
])
def test_bad_predict_inputs_are_one_line_errors_and_write_nothing(tmp_path, files, capsys, case,
                                                                  expected, one_thread):
    assert main(["fit", "recipe.yaml", "--run-dir", "run", "--quiet",
                 "--set", "train.max_epochs=1"]) == 0
    capsys.readouterr()
    frame = files.tail(10).copy()
    if case == "daily":
        frame.index = pd.date_range("2023-01-01", periods=10, freq="D", name="date")
    elif case == "absurd":
        frame.iloc[4, 2] = 1e30
    elif case == "inf":
        frame.iloc[2, 0] = np.inf
    elif case == "duplicate":
        frame.columns = [REGIONS[0], REGIONS[1], REGIONS[1], *REGIONS[3:]]
    elif case == "short":
        frame = frame.tail(5)
    elif case == "missing node":
        frame = frame.drop(columns=REGIONS[-1])
    frame.to_csv(tmp_path / f"{case}.csv")
    assert main(["predict", "run", "--input", f"{case}.csv", "--output", "out"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    import re

    assert re.search(expected, err), err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_mape_is_left_out_where_the_targets_cross_zero(tmp_path, one_thread):
    report = sciml.fit(sciml.load_recipe("gpvar-tts", [
        "data.options={n_steps: 400, n_nodes: 8}", "model.hidden_size=8", "train.max_epochs=1",
        "train.tensorboard=false"]), tmp_path, progress=False)
    assert not any("mape" in k for k in report["test"])
    assert not any("mape" in k for k in report["baseline_persistence"])
    assert "mape left out: the test targets touch or cross zero" in report["notes"][0]


def test_training_losses(tmp_path, files, one_thread):
    mse = sciml.fit(sciml.load_recipe("recipe.yaml", {"objective.loss": "mse",
                                                      "train.max_epochs": 1}),
                    "mse", progress=False)
    rows = (tmp_path / "mse" / "metrics.csv").read_text().splitlines()
    assert mse["loss"] == "mse" and len(rows) == 2
    with pytest.raises(sciml.errors.ConfigError, match="loss must be one of"):
        sciml.fit(sciml.load_recipe("recipe.yaml", {"objective.loss": "l1"}), "x",
                  progress=False)
