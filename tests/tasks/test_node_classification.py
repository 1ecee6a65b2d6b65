"""Node classification: the Planetoid reader on the real files, the job from the API and the CLI."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from sciml.datasets import load_planetoid

import sciml
from sciml.cli import main
from sciml.errors import ConfigError, DataError

pytestmark = pytest.mark.usefixtures("one_thread")

PLANETOID = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "graphs" / "planetoid"
if not PLANETOID.is_dir():
    pytest.skip(f"real sample data folder {PLANETOID} is not present", allow_module_level=True)


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory, monkeypatch):
    """A data cache of this module's own (the reader copies the raw files into it)."""
    monkeypatch.setenv("SCIML_DATA", str(tmp_path_factory.getbasetemp() / "planetoid-cache"))


def test_the_public_splits_of_cora_and_citeseer():
    cora = load_planetoid("cora", PLANETOID)
    assert (cora.n_nodes, cora.edge_index.shape[1], cora.x.shape[1], cora.n_classes) == \
        (2708, 10556, 1433, 7)
    assert [int(m.sum()) for m in (cora.train_mask, cora.val_mask, cora.test_mask)] == \
        [140, 500, 1000]
    assert torch.bincount(cora.y[cora.train_mask]).tolist() == [20] * 7  # 20 per class
    rows = cora.x.sum(1)
    assert torch.allclose(rows[rows > 0], torch.ones(int((rows > 0).sum())))  # row-normalised
    raw = load_planetoid("Cora", PLANETOID, normalize_features=False)
    assert set(raw.x.unique().tolist()) <= {0.0, 1.0}  # bag of words
    cite = load_planetoid("CiteSeer", PLANETOID)
    assert (cite.n_nodes, cite.n_classes, int(cite.train_mask.sum())) == (3327, 6, 120)


def test_missing_damaged_and_unknown_files_are_named(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"planetoid name must be one of \['citeseer', 'cora'\]"):
        load_planetoid("pubmed", PLANETOID)
    copy = tmp_path / "raw"
    shutil.copytree(PLANETOID, copy)
    (copy / "ind.cora.graph").unlink()
    # a fresh cache, so that the files must come from the folder
    monkeypatch.setenv("SCIML_DATA", str(tmp_path / "cache"))
    with pytest.raises(DataError, match=r"ind.cora.graph: missing \(the Planetoid files"):
        load_planetoid("cora", copy)
    shutil.copy(PLANETOID / "ind.cora.graph", copy / "ind.cora.graph")
    data = bytearray((copy / "ind.cora.x").read_bytes())
    data[100] ^= 0xFF
    (copy / "ind.cora.x").write_bytes(bytes(data))
    monkeypatch.setenv("SCIML_DATA", str(tmp_path / "cache2"))
    with pytest.raises(DataError, match=r"ind.cora.x: sha256 differs"):
        load_planetoid("cora", copy)


def _recipe(name="cora-gcn", epochs=200, extra=()):
    return sciml.load_recipe(name, [f"data.options.root={PLANETOID}", f"train.max_epochs={epochs}",
                                    "train.tensorboard=false", *extra])


def test_gcn_reaches_the_papers_accuracy_on_cora(tmp_path):
    """Kipf and Welling report 81.5 % on Cora's public split (mean of runs); seed 0 here."""
    report = sciml.fit(_recipe(), run_dir=tmp_path / "gcn", progress=False)
    assert report["test"]["test/accuracy"] >= 0.79
    assert report["test_nodes"] == 1000 and report["model"] == "gcn"
    assert (tmp_path / "gcn" / "confusion.png").is_file()


@pytest.mark.parametrize("name", ["cora-gat", "cora-sage", "citeseer-gcn"])
def test_the_other_recipes_train(tmp_path, name):
    report = sciml.fit(_recipe(name, epochs=15), run_dir=tmp_path / "r", progress=False)
    assert 0.3 < report["test"]["test/accuracy"] <= 1.0


def test_the_command_line_fit_eval_predict_and_compare(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["fit", "cora-gcn", "--run-dir", str(run), "--quiet", "--set",
            f"data.options.root={PLANETOID}", "--set", "train.max_epochs=20", "--set",
            "train.tensorboard=false"]
    assert main(args) == 0
    assert "test/accuracy" in capsys.readouterr().out
    assert main(["eval", str(run)]) == 0
    # a graph of one's own with the same features: the first 300 nodes of Cora
    cora = load_planetoid("cora", PLANETOID)
    keep = (cora.edge_index < 300).all(0)
    graph = tmp_path / "mine.npz"
    np.savez(graph, x=cora.x[:300].numpy(), edge_index=cora.edge_index[:, keep].numpy())
    assert main(["predict", str(run), "--input", str(graph)]) == 0
    rows = list(csv.DictReader(open(run / "predictions" / "predictions.csv")))
    assert len(rows) == 300 and set(rows[0]) == {"node", "class"} | {f"p_{c}" for c in range(7)}
    assert sum(float(rows[5][f"p_{c}"]) for c in range(7)) == pytest.approx(1.0, abs=1e-5)
    # PyG's raw bag-of-words features (what Planetoid(...)[0].x holds) are row-normalised as
    # the training features were: the same probabilities
    raw = load_planetoid("cora", PLANETOID, normalize_features=False)
    np.savez(tmp_path / "raw.npz", x=raw.x[:300].numpy(), edge_index=cora.edge_index[:, keep])
    assert main(["predict", str(run), "--input", str(tmp_path / "raw.npz"), "--out",
                 str(tmp_path / "raw-pred")]) == 0
    raw_rows = list(csv.DictReader(open(tmp_path / "raw-pred" / "predictions.csv")))
    assert [r["class"] for r in raw_rows] == [r["class"] for r in rows]
    assert all(float(a["p_0"]) == pytest.approx(float(b["p_0"]), rel=1e-4, abs=1e-6)
               for a, b in zip(raw_rows, rows, strict=True))
    # the run still predicts its own graph as before (the cached normalisation was not kept)
    before = sciml.load_run(run).evaluate(write=False)["test"]
    assert before == json_report(run)["test"]
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros((5, 10), np.float32), edge_index=np.zeros((2, 0), np.int64))
    assert main(["predict", str(run), "--input", str(bad)]) == 2
    assert "x must be (nodes, 1433)" in capsys.readouterr().err
    # node representations of two runs compared layer by layer
    report = sciml.compare(run, run)
    assert report["pairs"] and all(p["linear_cka"] == pytest.approx(1.0, abs=1e-6)
                                   for p in report["pairs"] if p["linear_cka"] is not None)


def json_report(run: Path) -> dict:
    import json

    return json.loads((run / "report.json").read_text())
