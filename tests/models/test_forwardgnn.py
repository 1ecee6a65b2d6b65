"""ForwardGNN: layers trained on their own losses, virtual class nodes, reload and prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import sciml
from sciml.cli import main
from sciml.registry import MODELS

PLANETOID = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "graphs" / "planetoid"


def _graph(n: int = 30, classes: int = 3, features: int = 5):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, features, generator=g)
    a = (torch.rand(n, n, generator=g) < 0.15).triu(1)
    ei = (a | a.T).nonzero().T.contiguous()
    y = torch.randint(0, classes, (n,), generator=g)
    mask = torch.zeros(n, dtype=torch.bool)
    mask[:10] = True
    return x, ei, y, mask


@pytest.mark.parametrize("top_down", [False, True])
def test_each_layer_learns_from_its_own_loss_only(top_down):
    """The defining property: a layer's loss sends no gradient into any other layer."""
    torch.manual_seed(0)
    x, ei, y, mask = _graph()
    model = MODELS.build("forwardgnn", {"hidden": 8, "n_layers": 3, "top_down": top_down},
                         in_channels=5, out_channels=3)
    seen = []
    for name, loss in model.graph_local_losses(x, ei, y, mask):
        layer = int(name.split("_")[1]) - 1
        grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
        for (pname, _), g in zip(model.named_parameters(), grads, strict=True):
            mine = pname.startswith(f"convs.{layer}.")
            assert (g is not None and g.abs().sum() > 0) == mine, (name, pname)
        seen.append(layer)
    # the paper's alternating order with top-down signals: even layers, then odd ones
    assert seen == ([0, 2, 1] if top_down else [0, 1, 2])


def test_top_down_inputs_are_unit_rows_at_every_layer():
    """With top-down signals each layer's two inputs are scaled to unit rows (as the reference
    code scales them), the features and the top layer's label context included."""
    torch.manual_seed(0)
    x, ei, _, _ = _graph()
    x = x.abs() / x.abs().sum(1, keepdim=True)  # row-normalised features, norms well below 1
    model = MODELS.build("forwardgnn", {"hidden": 8, "n_layers": 2, "top_down": True},
                         in_channels=5, out_channels=3)
    seen = {}
    for i, conv in enumerate(model.convs):  # the input of the last call (the last sweep)
        conv.register_forward_pre_hook(lambda m, args, i=i: seen.__setitem__(i, args[0]))
    model(x, ei)
    for i, width in ((0, 5), (1, 8)):
        for part in (seen[i][:, :width], seen[i][:, width:]):
            norms = part.norm(dim=1)
            unit = (norms - 1).abs() < 1e-5
            assert bool((unit | (norms == 0)).all()) and unit.float().mean() > 0.5, (i, norms)


def test_class_nodes_join_only_the_training_nodes():
    x, ei, y, mask = _graph()
    model = MODELS.build("forwardgnn", {"hidden": 8, "n_layers": 2}, in_channels=5,
                         out_channels=3)
    for _ in model.graph_local_losses(x, ei, y, mask):
        pass
    feats, edges, context = model._augment(x, ei)
    assert feats.shape == (33, 5)
    added = edges[:, ei.shape[1]:]
    assert added.shape[1] == 20  # 10 training nodes, both directions
    src, dst = added
    to_class = dst >= 30
    assert set(src[to_class].tolist()) == set(range(10))
    assert torch.equal(dst[to_class] - 30, y[src[to_class]])
    # no label of a training node leaks into the top layer's context by default
    assert torch.allclose(context[:30], torch.full((30, 3), 1 / 3))
    # another graph: the class nodes keep no edges
    _, other_edges, _ = model._augment(x[:20], ei[:, (ei < 20).all(0)])
    assert other_edges.shape[1] == int((ei < 20).all(0).sum())


@pytest.mark.skipif(not PLANETOID.is_dir(), reason="real sample data folder absent")
def test_the_recipe_trains_reloads_and_predicts(tmp_path, one_thread, monkeypatch):
    monkeypatch.setenv("SCIML_DATA", str(tmp_path / "cache"))
    run = tmp_path / "run"
    report = sciml.fit(sciml.load_recipe("cora-forwardgnn", [
        f"data.options.root={PLANETOID}", "train.max_epochs=40", "train.tensorboard=false"]),
        run_dir=run, progress=False)
    assert report["test"]["test/accuracy"] > 0.4  # 0.78 after the recipe's 300 epochs
    again = sciml.load_run(run).evaluate(write=False)["test"]
    assert again["test/accuracy"] == pytest.approx(report["test"]["test/accuracy"])
    from sciml.datasets import load_planetoid

    cora = load_planetoid("cora", PLANETOID)
    keep = (cora.edge_index < 300).all(0)
    np.savez(tmp_path / "g.npz", x=cora.x[:300].numpy(), edge_index=cora.edge_index[:, keep])
    assert main(["predict", str(run), "--input", str(tmp_path / "g.npz")]) == 0


@pytest.mark.parametrize("values, message", [
    ({"conv": "gin"}, "conv must be 'gcn' or 'sage'"),
    ({"n_layers": 0}, "n_layers must be a positive integer"),
    ({"test_steps": 2}, "test_steps must be >= 3"),
])
def test_bad_config(values, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build("forwardgnn", values, in_channels=5, out_channels=3)
