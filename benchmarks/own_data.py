"""A user's own files against the same data from Python: forecasting on a CSV gives the same
metrics through ``sciml fit`` as through ``sciml.fit(recipe, data=series)``.

The real LOS loop-detector speeds (../shared/data/timeseries: 207 sensors × 2016 five-minute
steps, T-GCN's files) are written the way a user's export looks: a ``date`` column of
5-minute stamps and one column per sensor id, and the adjacency with a header of sensor ids (in
another order than the values). ``sciml fit`` trains a time-then-space model on a recipe naming
these files (``data.name: csv``); the same recipe is trained through the Python API on a
``SpatioTemporal`` built directly from the arrays (not through the CSV reader). Both runs use
one thread; the comparison is each test metric's ratio, CLI / API (target: equal to 1e-6).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/own_data.py            # 3 epochs, ~2 min
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/own_data.py --quick    # 1 epoch, 60 sensors
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "timeseries"


def write_user_files(folder: Path, n_nodes: int) -> tuple[np.ndarray, np.ndarray, list[str],
                                                          pd.DatetimeIndex]:
    """The LOS files as a user's export: dates, sensor-id header; adjacency with a header."""
    speeds = pd.read_csv(SHARED / "los_speed.csv")
    ids = [str(c) for c in speeds.columns[:n_nodes]]
    values = speeds.to_numpy(np.float64)[:, :n_nodes]
    adj = pd.read_csv(SHARED / "los_adj.csv", header=None).to_numpy(np.float64)[:n_nodes,
                                                                                 :n_nodes]
    index = pd.date_range("2012-03-01", periods=len(values), freq="5min", name="date")
    pd.DataFrame(values, index=index, columns=ids).to_csv(folder / "speeds.csv")
    order = list(reversed(range(n_nodes)))
    pd.DataFrame(adj[np.ix_(order, order)], index=[ids[i] for i in order],
                 columns=[ids[i] for i in order]).to_csv(folder / "graph.csv")
    return values, adj, ids, index


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 epoch, 60 sensors (not recorded)")
    ap.add_argument("--epochs", type=int, default=3)
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if not (SHARED / "los_speed.csv").is_file():
        sys.exit(f"own_data.py: {SHARED / 'los_speed.csv'} is not present (../shared/data)")
    import torch
    from sciml.datasets import adjacency_to_edges

    import sciml
    from sciml.data import SpatioTemporal

    torch.set_num_threads(1)
    run = _record.start("own_data", args, quick=args.quick, argv=argv)
    n_nodes, epochs = (60, 1) if args.quick else (207, args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        values, adj, ids, index = write_user_files(folder, n_nodes)
        recipe = {
            "task": "forecasting",
            "data": {"name": "csv", "options": {"values": "speeds.csv", "adjacency": "graph.csv",
                                                "zeros_as_missing": True},
                     "window": 12, "horizon": 12, "val": 0.1, "test": 0.2},
            "model": {"name": "time_then_space", "hidden_size": 32},
            "train": {"max_epochs": epochs, "batch_size": 64, "tensorboard": False,
                      "optimizer": {"name": "adam", "lr": 0.003}},
            "eval": {"steps": [3, 6, 12]},
        }
        (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
        env = dict(os.environ, OMP_NUM_THREADS="1")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "sciml", "fit", "recipe.yaml", "--run-dir",
                               "cli", "--quiet"], cwd=folder, env=env, capture_output=True,
                              text=True)
        cli_seconds = time.perf_counter() - t0
        if proc.returncode:
            sys.exit(f"own_data.py: sciml fit failed: {proc.stderr.strip()[-500:]}")
        cli = json.loads((folder / "cli" / "report.json").read_text())
        mask = np.isfinite(values) & (values != 0)
        edge_index, edge_weight = adjacency_to_edges(adj)
        series = SpatioTemporal(np.where(mask, values, np.nan)[..., None], mask[..., None],
                                edge_index, edge_weight, time_index=index, node_ids=ids,
                                name="speeds")
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            t0 = time.perf_counter()
            api = sciml.fit(sciml.Recipe(recipe, name="own"), folder / "api", data=series,
                            progress=False)
            api_seconds = time.perf_counter() - t0
        finally:
            os.chdir(cwd)
    keys = ("test/mae", "test/rmse", "test/mape", "test/mae@12")
    rows = [(k, cli["test"][k], api["test"][k]) for k in keys]
    worst = max(abs(c / a - 1) for _, c, a in rows)
    body = "\n".join([
        f"- data: LOS speeds, {n_nodes} sensors × {len(values)} steps of 5 min (zeros missing), "
        "written as a user's CSV (date column, sensor-id header) and adjacency (id header, "
        "reversed order)",
        f"- model: time-then-space, hidden 32, {epochs} epochs, batch 64, Adam 3e-3, 1 thread; "
        f"sciml fit {cli_seconds:.0f} s (process, import included), sciml.fit {api_seconds:.0f} s",
        "",
        "| metric | CLI on the CSV files | API on arrays | CLI / API |",
        "|---|---|---|---|",
        *[f"| {k} | {c:.6g} | {a:.6g} | {c / a:.8f} |" for k, c, a in rows],
        "",
        f"- largest relative difference: {worst:.2e} (target ≤ 1e-6)",
    ])
    comps = [_record.comparison(
        "own_data.forecast_csv_vs_api",
        "forecasting on a user's CSV (LOS as a dated export) through `sciml fit` vs the same "
        "arrays through `sciml.fit(data=...)`: test MAE",
        cli["test"]["test/mae"], api["test"]["test/mae"], unit="mph", anchor_name="Python API",
        target="every metric equal within 1e-6", met=worst <= 1e-6,
        setting=f"{n_nodes} sensors, {epochs} epochs, 1 thread",
        note=f"largest relative difference over MAE, RMSE, MAPE, MAE@12: {worst:.1e}")]
    run.record("Own data: forecasting from a user's CSV vs the Python API", body, comps)


if __name__ == "__main__":
    main()
