"""Link prediction: the edge split, negatives, metrics, and the job from the API and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sciml.datasets import load_planetoid

import sciml
from sciml.cli import main
from sciml.errors import ConfigError, DataError
from sciml.tasks.graph import (
    LinkPredictionTask,
    average_precision,
    roc_auc,
    sample_non_edges,
    split_edges,
)

pytestmark = pytest.mark.usefixtures("one_thread")

PLANETOID = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "graphs" / "planetoid"


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SCIML_DATA", str(tmp_path_factory.getbasetemp() / "planetoid-cache"))


def _ring(n: int = 30) -> torch.Tensor:
    i = torch.arange(n)
    e = torch.stack([torch.cat([i, i]), torch.cat([(i + 1) % n, (i + 2) % n])])
    return torch.cat([e, e.flip(0)], dim=1)  # both directions, 2n undirected edges


def _ids(pairs: torch.Tensor, n: int) -> set[int]:
    lo, hi = pairs.min(0).values, pairs.max(0).values
    return set((lo * n + hi).tolist())


def test_split_partitions_the_edges_and_draws_true_non_edges():
    n, ei = 30, _ring()
    s = split_edges(ei, n, val=0.1, test=0.2, seed=3)
    parts = [_ids(s[k], n) for k in ("train_pos", "val_pos", "test_pos")]
    assert sum(map(len, parts)) == 60 and set().union(*parts) == _ids(ei, n)
    assert [len(p) for p in parts] == [42, 6, 12]
    assert all((s[k][0] < s[k][1]).all() for k in ("train_pos", "val_pos", "test_pos",
                                                   "val_neg", "test_neg"))
    neg_val, neg_test = _ids(s["val_neg"], n), _ids(s["test_neg"], n)
    assert len(neg_val) == 6 and len(neg_test) == 12 and not neg_val & neg_test
    assert not (neg_val | neg_test) & _ids(ei, n)
    # the encoder's graph: the training edges in both directions, nothing else
    assert s["graph"].shape[1] == 84 and _ids(s["graph"], n) == parts[0]
    again = split_edges(ei, n, val=0.1, test=0.2, seed=3)
    assert all(torch.equal(s[k], again[k]) for k in s)
    other = split_edges(ei, n, val=0.1, test=0.2, seed=4)
    assert not torch.equal(s["test_pos"], other["test_pos"])
    with pytest.raises(ValueError, match="val \\+ test < 1"):
        split_edges(ei, n, val=0.5, test=0.5)


def test_non_edges_avoid_the_forbidden_pairs_and_are_distinct():
    n = 12
    forbidden = torch.tensor(sorted(i * n + j for i in range(n) for j in range(i + 1, n)
                                    if (i + j) % 2 == 0))
    g = torch.Generator().manual_seed(0)
    pairs = sample_non_edges(n, 30, forbidden, g)
    ids = (pairs[0] * n + pairs[1]).tolist()
    assert len(set(ids)) == 30 and not set(ids) & set(forbidden.tolist())
    assert (pairs[0] < pairs[1]).all()
    with pytest.raises(DataError, match="cannot draw 40 non-edges"):
        sample_non_edges(n, 40, forbidden, g)  # 66 pairs, 30 of them forbidden


def test_auc_and_average_precision_against_their_definitions():
    torch.manual_seed(0)
    scores = torch.randn(40).round(decimals=1)  # ties included
    labels = (torch.rand(40) < 0.4).long()
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairwise = ((pos[:, None] > neg[None]).double() + 0.5 * (pos[:, None] == neg[None]).double())
    assert float(roc_auc(scores, labels)) == pytest.approx(float(pairwise.mean()))
    distinct = torch.randperm(40).double()
    order = torch.argsort(distinct, descending=True)
    hits = labels[order].double()
    precisions = [float(hits[: k + 1].mean()) for k in range(40) if hits[k] == 1]
    assert float(average_precision(distinct, labels)) == pytest.approx(np.mean(precisions))


def test_training_negatives_are_drawn_anew_and_reproducibly():
    n, ei = 30, _ring()
    s = split_edges(ei, n, seed=0)
    model = torch.nn.Linear(4, 3)
    x = torch.randn(n, 4)

    class Enc(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = model

        def forward(self, x, edge_index):
            return self.lin(x)

    batch = {"x": x, "edge_index": s["graph"], "pos": s["train_pos"], "all_edges": s["graph"]}
    a, b = LinkPredictionTask(Enc(), n, seed=1), LinkPredictionTask(Enc(), n, seed=1)
    first, second = a._negatives(batch), a._negatives(batch)
    assert not torch.equal(first, second) and int(a.draws) == 2
    torch.testing.assert_close(b._negatives(batch), first)  # same seed, same first draw
    assert not _ids(first, n) & _ids(s["graph"], n)


# --------------------------------------------------------------------------- the job
needs_planetoid = pytest.mark.skipif(not PLANETOID.is_dir(),
                                     reason=f"real sample data folder {PLANETOID} is absent")


def _recipe(name: str = "cora-gae", epochs: int = 200) -> sciml.Recipe:
    return sciml.load_recipe(name, [f"data.options.root={PLANETOID}",
                                    f"train.max_epochs={epochs}", "train.tensorboard=false"])


@needs_planetoid
def test_gae_on_cora_is_near_the_papers_auc(tmp_path):
    """Kipf and Welling's GAE: AUC 91.0, AP 92.0 on Cora (mean over splits); split 0 here."""
    report = sciml.fit(_recipe(), run_dir=tmp_path / "gae", progress=False)
    assert report["test"]["test/auc"] >= 0.86 and report["test"]["test/ap"] >= 0.86
    assert report["edges"] == {"train_pos": 4486, "val_pos": 264, "test_pos": 528}
    assert report["test_pairs"] == {"edges": 528, "non_edges": 528}
    assert (tmp_path / "gae" / "roc.png").is_file()


@needs_planetoid
def test_link_prediction_command_line(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["fit", "citeseer-gae", "--run-dir", str(run), "--quiet", "--set",
                 f"data.options.root={PLANETOID}", "--set", "train.max_epochs=10", "--set",
                 "train.tensorboard=false", "--set", "model={name: graphsage, hidden: 32}"]) == 0
    assert "test/auc" in capsys.readouterr().out
    assert main(["eval", str(run)]) == 0
    cite = load_planetoid("citeseer", PLANETOID)
    keep = (cite.edge_index < 200).all(0)
    pairs = np.array([[0, 1, 2], [5, 6, 7]])
    np.savez(tmp_path / "mine.npz", x=cite.x[:200].numpy(),
             edge_index=cite.edge_index[:, keep].numpy(), pairs=pairs)
    assert main(["predict", str(run), "--input", str(tmp_path / "mine.npz")]) == 0
    rows = list(csv.DictReader(open(run / "predictions" / "predictions.csv")))
    assert [(int(r["src"]), int(r["dst"])) for r in rows] == [(0, 5), (1, 6), (2, 7)]
    assert all(0 <= float(r["probability"]) <= 1 for r in rows)
    np.savez(tmp_path / "nopairs.npz", x=cite.x[:200].numpy(),
             edge_index=cite.edge_index[:, keep].numpy())
    assert main(["predict", str(run), "--input", str(tmp_path / "nopairs.npz")]) == 2
    assert "missing key pairs" in capsys.readouterr().err
    np.savez(tmp_path / "far.npz", x=cite.x[:200].numpy(),
             edge_index=cite.edge_index[:, keep].numpy(), pairs=np.array([[0], [500]]))
    assert main(["predict", str(run), "--input", str(tmp_path / "far.npz")]) == 2
    assert "pairs refer to nodes outside 0..199" in capsys.readouterr().err
    report = json.loads((run / "report.json").read_text())
    assert report["model"] == "graphsage" and 0.5 < report["test"]["test/auc"] <= 1


@needs_planetoid
def test_a_killed_link_prediction_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    straight = sciml.fit(_recipe(epochs=12), run_dir=tmp_path / "a", progress=False)
    forward, calls = LinkPredictionTask.forward, {"n": 0}

    def stop(self, batch):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return forward(self, batch)

    monkeypatch.setattr(LinkPredictionTask, "forward", stop)
    with pytest.raises(KeyboardInterrupt):
        sciml.fit(_recipe(epochs=12), run_dir=tmp_path / "b", progress=False)
    monkeypatch.setattr(LinkPredictionTask, "forward", forward)
    resumed = sciml.fit(_recipe(epochs=12), run_dir=tmp_path / "b", progress=False)
    assert resumed["test"] == straight["test"]


@pytest.mark.parametrize("key, value, message", [
    ("data.test", "0", "test must be > 0"),
    ("data.val", "0.95", "val \\+ test < 1"),
    ("objective.embedding", "0", "embedding must be a positive integer"),
])
def test_bad_link_recipes_name_the_key(key, value, message):
    with pytest.raises(ConfigError, match=message):
        sciml.fit(sciml.load_recipe("cora-gae", [f"{key}={value}"]), run_dir="/nonexistent/x",
                  progress=False)
