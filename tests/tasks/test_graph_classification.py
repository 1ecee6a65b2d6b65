"""Graph classification: the read-outs' invariances, readers of other tools' files (the TU text
format, PyG's ``Data.to_dict()`` lists, npz), the job from the API and the CLI, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sciml.datasets import GraphClassificationData, load_graph_file, load_tu, planted_clique

import sciml
from sciml.cli import main
from sciml.errors import ConfigError, DataError
from sciml.models import READOUTS
from sciml.registry import MODELS
from sciml.tasks.graph import GraphClassificationTask, collate_graphs

pytestmark = pytest.mark.usefixtures("one_thread")


def _model(readout: str, conv: str = "gcn"):
    torch.manual_seed(0)
    return MODELS.build("graph_gnn", {"readout": readout, "conv": conv, "hidden": 8,
                                      "heads": 2, "queries": 2}, in_channels=2,
                        out_channels=3).eval()


@pytest.mark.parametrize("readout", [r for r in READOUTS if r != "none"])
@pytest.mark.parametrize("conv", ["gcn", "sage", "gat"])
def test_logits_ignore_node_order_and_the_rest_of_the_batch(readout, conv):
    data = planted_clique(n_graphs=12, seed=1)
    model = _model(readout, conv)
    graphs = [data.graph(i) for i in range(5)]
    batch = collate_graphs([{"x": x, "edge_index": ei} for x, ei in graphs])
    together = model(batch["x"], batch["edge_index"], batch["graph_index"])
    for i, (x, ei) in enumerate(graphs):
        alone = model(x, ei, torch.zeros(len(x), dtype=torch.long))
        assert torch.allclose(alone[0], together[i], atol=1e-5)
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(i))
        inverse = torch.argsort(perm)  # node perm[k] of the original is node k of the copy
        shuffled = model(x[perm], inverse[ei], torch.zeros(len(x), dtype=torch.long))
        assert torch.allclose(shuffled, alone, atol=1e-5)


def _write_tu(folder: Path, name: str = "TOY", n_graphs: int = 40, seed: int = 0) -> None:
    """Files as the TU collection ships them: 1-based ids, labels -1 / 1, node labels."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    edges, indicator, node_labels, labels, base = [], [], [], [], 1
    for g in range(1, n_graphs + 1):
        n = int(rng.integers(4, 9))
        cls = 1 if g % 2 else -1
        for i in range(n):  # a path; class 1 graphs carry node label 7 on every node
            node_labels.append(7 if cls == 1 else int(rng.integers(0, 3)))
            indicator.append(g)
            if i:
                edges += [(base + i - 1, base + i), (base + i, base + i - 1)]
        labels.append(cls)
        base += n
    (folder / f"{name}_A.txt").write_text("".join(f"{a}, {b}\n" for a, b in edges))
    (folder / f"{name}_graph_indicator.txt").write_text("".join(f"{g}\n" for g in indicator))
    (folder / f"{name}_graph_labels.txt").write_text("".join(f"{c}\n" for c in labels))
    (folder / f"{name}_node_labels.txt").write_text("".join(f"{c}\n" for c in node_labels))


def test_the_tu_reader_reads_the_collections_text_files(tmp_path):
    _write_tu(tmp_path / "TOY" / "raw")
    data = load_tu("TOY", tmp_path)
    assert data.n_graphs == 40 and data.class_names == ["-1", "1"]
    assert data.n_features == 4  # node labels 0, 1, 2, 7 one-hot
    assert int(data.y[0]) == 1 and int(data.y[1]) == 0  # graph 1 has label 1 (odd ids)
    x0, ei0 = data.graph(0)
    assert int(ei0.min()) == 0 and int(ei0.max()) == len(x0) - 1
    assert len(data.train_idx) + len(data.val_idx) + len(data.test_idx) == 40
    assert "node labels one-hot (4)" in data.meta["features"]


def test_the_tu_reader_names_the_bad_line(tmp_path):
    _write_tu(tmp_path)
    (tmp_path / "TOY_A.txt").write_text("1, 2\n2; 1\n")
    with pytest.raises(DataError, match=r"TOY_A.txt, line 2: expected integers"):
        load_tu("TOY", tmp_path)
    _write_tu(tmp_path)
    labels = (tmp_path / "TOY_graph_labels.txt").read_text().splitlines()
    (tmp_path / "TOY_graph_labels.txt").write_text("\n".join(labels[:-1]) + "\n")
    with pytest.raises(DataError, match="39 label line.* for 40 graphs"):
        load_tu("TOY", tmp_path)
    _write_tu(tmp_path)
    (tmp_path / "TOY_A.txt").write_text("1, 2\n2, 999\n")
    with pytest.raises(DataError, match=r"TOY_A.txt, line 2: node id outside"):
        load_tu("TOY", tmp_path)
    with pytest.raises(DataError, match="graphkerneldatasets/MUTAG.zip"):
        load_tu("MUTAG", tmp_path)


def test_a_pyg_list_and_an_npz_file_give_the_same_graphs(tmp_path):
    from torch_geometric.data import Data

    ref = planted_clique(n_graphs=20, seed=2)
    pyg = [Data(x=x, edge_index=ei, y=ref.y[i:i + 1]).to_dict()
           for i, (x, ei) in enumerate(ref.graph(i) for i in range(ref.n_graphs))]
    torch.save(pyg, tmp_path / "pyg.pt")
    np.savez(tmp_path / "mine.npz", x=ref.x.numpy(), edge_index=ref.edge_index.numpy(),
             batch=ref.graph_index.numpy(), y=ref.y.numpy())
    a, b = load_graph_file(tmp_path / "pyg.pt"), load_graph_file(tmp_path / "mine.npz")
    for d in (a, b):
        assert torch.equal(d.x, ref.x) and torch.equal(d.y, ref.y)
        assert torch.equal(d.graph_index, ref.graph_index)
        assert torch.equal(d.edge_index, ref.edge_index)
    assert torch.equal(a.train_idx, b.train_idx)  # the same stratified split


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(edge_index=np.array([[0], [len(a["x"]) - 1]])),
     "edge 0 joins node 0 of graph 0 to node .* of graph 9"),
    (lambda a: a["x"].__setitem__((3, 1), np.nan), "node 3 \\(graph 0\\) has non-finite"),
    (lambda a: a.pop("y"), "missing key y"),
    (lambda a: a.update(graph_index=a["graph_index"][::-1].copy()), "non-decreasing"),
    (lambda a: a.update(y=np.full_like(a["y"], 3)), "bad.npz\\): every graph has the same class"),
])
def test_bad_graph_files_name_the_problem(tmp_path, change, message):
    ref = planted_clique(n_graphs=10, seed=3)
    arrays = {"x": ref.x.numpy().copy(), "edge_index": ref.edge_index.numpy(),
              "graph_index": ref.graph_index.numpy(), "y": ref.y.numpy()}
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=message):
        load_graph_file(tmp_path / "bad.npz")


def _separable(n: int = 200) -> GraphClassificationData:
    """Class = whether the graph's nodes carry feature 1 or feature 0 (any read-out sees it)."""
    data = planted_clique(n_graphs=n, seed=4)
    x = torch.zeros(len(data.x), 2)
    x[torch.arange(len(x)), data.y[data.graph_index]] = 1.0
    return GraphClassificationData("separable", x, data.edge_index, data.graph_index, data.y,
                                   data.train_idx, data.val_idx, data.test_idx, 2)


def test_the_job_learns_and_a_killed_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    recipe = sciml.load_recipe("clique-hopfield", ["train.max_epochs=6", "train.tensorboard=false",
                                                   "model.hidden=8"])
    straight = sciml.fit(recipe, run_dir=tmp_path / "a", data=_separable(), progress=False)
    assert straight["test"]["test/accuracy"] >= 0.9
    assert straight["graphs"] == {"train": 160, "val": 20, "test": 20}
    forward, calls = GraphClassificationTask.forward, {"n": 0}

    def stop(self, batch):
        calls["n"] += 1
        if calls["n"] == 12:
            raise KeyboardInterrupt
        return forward(self, batch)

    monkeypatch.setattr(GraphClassificationTask, "forward", stop)
    with pytest.raises(KeyboardInterrupt):
        sciml.fit(recipe, run_dir=tmp_path / "b", data=_separable(), progress=False)
    monkeypatch.setattr(GraphClassificationTask, "forward", forward)
    resumed = sciml.fit(recipe, run_dir=tmp_path / "b", data=_separable(), progress=False)
    assert resumed["test"] == straight["test"]
    run = sciml.load_run(tmp_path / "a")
    assert run.evaluate(write=False)["test"]["test/accuracy"] == pytest.approx(
        straight["test"]["test/accuracy"])


@pytest.mark.parametrize("training", ["local", "backprop"])
def test_noprop_classifies_graphs_from_their_mean_node_features(tmp_path, training):
    """NoProp-DT in a second job family: each graph's mean node features, block-wise training."""
    recipe = sciml.load_recipe("clique-hopfield", [
        f"model={{name: noprop, steps: 4, hidden: 16, training: {training}}}",
        "train.max_epochs=20", "train.tensorboard=false",
        "train.optimizer={name: adamw, lr: 0.01}", "train.monitor=val/accuracy",
        "train.mode=max"])
    report = sciml.fit(recipe, run_dir=tmp_path / "r", data=_separable(), progress=False)
    assert report["test"]["test/accuracy"] >= 0.9
    rows = list(csv.DictReader(open(tmp_path / "r" / "metrics.csv")))
    assert ({"train/block_1", "train/block_4", "train/out"} <= set(rows[0])) == (
        training == "local")


def test_graph_classification_command_line_on_tu_files(tmp_path, capsys):
    _write_tu(tmp_path / "tu")
    run = tmp_path / "run"
    assert main(["fit", "clique-hopfield", "--run-dir", str(run), "--quiet", "--set",
                 f"data={{name: tu, options: {{name: TOY, root: {tmp_path / 'tu'}}}}}",
                 "--set", "train.max_epochs=15", "--set", "train.batch_size=8", "--set",
                 "train.tensorboard=false", "--set", "model.readout=sum"]) == 0
    assert "test/accuracy" in capsys.readouterr().out
    report = json.loads((run / "report.json").read_text())
    assert report["data"] == "TOY" and report["test_graphs"] == 4
    assert (run / "confusion.png").is_file()
    assert main(["eval", str(run)]) == 0
    # a PyG-written list of graphs with the TU features, classified by predict
    data = load_tu("TOY", tmp_path / "tu")
    from torch_geometric.data import Data

    torch.save([Data(x=x, edge_index=ei).to_dict() for x, ei in
                (data.graph(i) for i in range(6))], tmp_path / "new.pt")
    assert main(["predict", str(run), "--input", str(tmp_path / "new.pt")]) == 0
    rows = list(csv.DictReader(open(run / "predictions" / "predictions.csv")))
    # evaluation on a labelled file of one's own (TU labels -1 / 1, as the training files)
    np.savez(tmp_path / "labelled.npz", x=data.x.numpy(), edge_index=data.edge_index.numpy(),
             graph_index=data.graph_index.numpy(),
             y=np.array([int(data.class_names[c]) for c in data.y]))
    assert main(["eval", str(run), "--data", str(tmp_path / "labelled.npz")]) == 0
    on_file = sciml.evaluate(run, data=tmp_path / "labelled.npz")
    assert on_file["test_graphs"] == 40 and 0 <= on_file["test"]["test/accuracy"] <= 1
    np.savez(tmp_path / "odd.npz", x=data.x.numpy(), edge_index=data.edge_index.numpy(),
             graph_index=data.graph_index.numpy(), y=np.full(40, 5))
    assert main(["eval", str(run), "--data", str(tmp_path / "odd.npz")]) == 2
    assert "label 5 is not one of the run's classes [-1, 1]" in capsys.readouterr().err
    probs = sciml.load_run(run).predict(tmp_path / "new.pt")  # a path, read the same way
    assert probs.shape == (6, 2)
    assert [int(c) for c in probs.argmax(1)] == [int(r["class"]) for r in rows]
    assert [int(r["graph"]) for r in rows] == list(range(6))
    assert {r["label"] for r in rows} <= {"-1", "1"}
    assert all(abs(float(r["p_0"]) + float(r["p_1"]) - 1) < 1e-4 for r in rows)
    np.savez(tmp_path / "wide.npz", x=np.ones((5, 3)), edge_index=np.zeros((2, 0), int),
             graph_index=np.zeros(5, int))
    assert main(["predict", str(run), "--input", str(tmp_path / "wide.npz")]) == 2
    assert "x must be (nodes, 4)" in capsys.readouterr().err


@pytest.mark.parametrize("override, message", [
    ("model.readout=median", "readout must be one of"),
    ("data.options.split=[0.5, 0.5, 0.5]", "split must be three fractions"),
    ("model={name: gcn}", "graph_gnn"),
])
def test_bad_graph_recipes_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        sciml.fit(sciml.load_recipe("clique-hopfield", [override]), run_dir="/nonexistent/x",
                  progress=False)
