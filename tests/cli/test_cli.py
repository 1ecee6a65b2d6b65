"""The `sciml` command: listing, errors as one line, and a fit → eval → predict round trip."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from sciml.cli import main

QUICK = ["--set", "train.max_epochs=2", "--set", "data.options.n_steps=400",
         "--set", "data.options.n_nodes=12", "--set", "train.batch_size=32", "--quiet"]


def test_list_shows_recipes_models_datasets(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("los-dcrnn", "gpvar-tts", "dcrnn", "persistence", "gpvar", "los"):
        assert name in out


def test_console_entry_point_unknown_recipe_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "sciml", "fit", "no-such-recipe"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "unknown recipe 'no-such-recipe'" in lines[0] and "los-dcrnn" in lines[0]


@pytest.mark.parametrize("override, expected", [
    ("model.hiden_size=3", "unknown key model.hiden_size"),
    ("train.max_epoch=3", "unknown key train.max_epoch"),
    ("data.options.nodes=3", "unknown key data.options.nodes"),
    ("model.name=transformerx", "unknown model 'transformerx'"),
    ("colour=red", "unknown recipe key colour"),
])
def test_unknown_keys_are_errors_naming_them(override, expected, capsys, tmp_path):
    code = main(["fit", "gpvar-tts", "--set", override, "--run-dir", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r" / "checkpoints").exists()


def test_fit_eval_predict_round_trip(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["fit", "gpvar-tts", "--run-dir", str(run), *QUICK]) == 0
    out = capsys.readouterr().out
    assert "test/mae" in out
    for name in ("recipe.yaml", "report.json", "metrics.csv", "forecast.png",
                 "checkpoints/best.pt", "checkpoints/last.pt"):
        assert (run / name).is_file(), name
    assert main(["eval", str(run)]) == 0
    assert "test/mae@3" in capsys.readouterr().out

    # A CSV of the last 12 steps of the generated series, sensors as columns.
    import sciml
    from sciml.tasks import ForecastingJob, load_series, node_names

    job = ForecastingJob(sciml.load_recipe(run / "recipe.yaml"))
    series = load_series(job.data_cfg)
    names = node_names(series)
    frame = pd.DataFrame(series.values[-12:, :, 0].numpy(), columns=names)
    csv = tmp_path / "input.csv"
    frame.to_csv(csv, index=False)
    assert main(["predict", str(run), "--input", str(csv), "--output", str(tmp_path / "p")]) == 0
    pred = pd.read_csv(tmp_path / "p" / "forecast.csv")
    assert list(pred.columns[1:]) == names
    assert len(pred) == job.data_cfg.horizon
    assert (tmp_path / "p" / "forecast.nc").is_file()

    # Malformed input: text in a numeric column → one-line error naming file, line and column.
    frame = frame.astype(object)
    frame.iloc[5, 2] = "abc"
    frame.to_csv(csv, index=False)
    assert main(["predict", str(run), "--input", str(csv), "--output", str(tmp_path / "q")]) == 2
    err = capsys.readouterr().err
    assert "input.csv" in err and "line 7" in err and names[2] in err
    assert not (tmp_path / "q" / "forecast.csv").exists()

    # Same folder, different recipe → refused rather than mixing two runs.
    assert main(["fit", "gpvar-tts", "--run-dir", str(run), *QUICK,
                 "--set", "model.hidden_size=8"]) == 2
    assert "different recipe" in capsys.readouterr().err


def test_horizon_longer_than_series_is_one_line_error(tmp_path, capsys):
    code = main(["fit", "gpvar-tts", "--run-dir", str(tmp_path / "r"), *QUICK,
                 "--set", "data.horizon=5000"])
    assert code == 2
    err = capsys.readouterr().err
    assert "horizon" in err and "5000" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r" / "checkpoints").exists()


def test_diverging_loss_is_reported_not_trained_on(tmp_path, capsys):
    code = main(["fit", "gpvar-tts", "--run-dir", str(tmp_path / "r"), *QUICK,
                 "--set", "train.optimizer={name: sgd, lr: 1.0e+30}"])
    assert code == 2
    err = capsys.readouterr().err
    assert ("nan" in err.lower() or "non-finite" in err.lower()) and "epoch" in err
    leftovers = [p.name for p in (tmp_path / "r").rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers


def test_torchrun_two_processes_fit(tmp_path):
    """`torchrun -m sciml fit` with gloo on CPU: one report, written by rank 0."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={port}", "-m", "sciml", "fit", "gpvar-tts",
           "--run-dir", str(tmp_path / "run"), *QUICK]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("run folder:") == 1
    assert (tmp_path / "run" / "report.json").is_file()
    assert (tmp_path / "run" / "checkpoints" / "best.pt").is_file()


def test_threads_option_and_environment(monkeypatch, capsys):
    import torch

    from sciml.cli._main import build_parser, configure_threads
    from sciml.errors import ConfigError

    # --threads before or after the command
    assert build_parser().parse_args(["--threads", "3", "list"]).threads == 3
    assert build_parser().parse_args(["list", "--threads", "3"]).threads == 3
    assert build_parser().parse_args(["fit", "x", "--threads", "2"]).threads == 2
    before = torch.get_num_threads()
    try:
        configure_threads(1)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("SCIML_THREADS", "abc")
        with pytest.raises(ConfigError, match="SCIML_THREADS='abc'"):
            configure_threads(None)
        assert main(["eval", "no-such-run", "--threads", "0"]) == 2  # the folder, checked first
        assert "no-such-run" in capsys.readouterr().err
        monkeypatch.delenv("SCIML_THREADS")
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        torch.set_num_threads(2)
        monkeypatch.setattr("os.getloadavg", lambda: (5.0, 5.0, 5.0))
        monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
        configure_threads(None)  # both cores busy: one thread
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
