"""ParetoGNN: the min-norm (MGDA) weights against an exact solver, the combined step equals the
weighted task gradients, the encoder never sees a label, every pretext task trains, and the
recipe on Cora's real files."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

import sciml
from sciml.models import ParetoGNN, ParetoGNNConfig, min_norm_weights

pytestmark = pytest.mark.usefixtures("one_thread")

PLANETOID = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "graphs" / "planetoid"


def _exact(m: torch.Tensor) -> torch.Tensor:
    """min αᵀMα on the simplex by trying every support (α_S ∝ M_S⁻¹ 1 where feasible)."""
    k, best = m.shape[0], None
    for r in range(1, k + 1):
        for s in itertools.combinations(range(k), r):
            ms = m[list(s)][:, list(s)]
            try:
                a = torch.linalg.solve(ms, torch.ones(r, dtype=m.dtype))
            except RuntimeError:
                continue
            if bool((a < -1e-12).any()) or float(a.sum()) <= 0:
                continue
            a = a / a.sum()
            alpha = torch.zeros(k, dtype=m.dtype)
            alpha[list(s)] = a
            cost = float(alpha @ m @ alpha)
            if best is None or cost < best[0]:
                best = (cost, alpha)
    return best[1]


def test_min_norm_weights_match_an_exact_solver():
    g = torch.Generator().manual_seed(0)
    for k in (2, 3, 4, 5):
        for _ in range(10):
            grads = torch.randn(k, 6, generator=g, dtype=torch.float64)
            grads = grads / grads.norm(dim=1, keepdim=True)
            m = grads @ grads.T
            alpha = min_norm_weights(m, iters=2000, tol=1e-12)
            assert abs(float(alpha.sum()) - 1) < 1e-9 and bool((alpha >= -1e-12).all())
            exact = _exact(m)
            assert float(alpha @ m @ alpha) <= float(exact @ m @ exact) + 1e-6
            d = m @ alpha  # KKT: no task gradient has a smaller product with the direction
            assert float(d.min()) >= float(alpha @ d) - 1e-4
    opposite = torch.tensor([[1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(min_norm_weights(opposite), torch.tensor([0.5, 0.5],
                                                                         dtype=torch.float64))


def _graph(n: int = 60, f: int = 12):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(n, f, generator=g)
    src = torch.randint(n, (240,), generator=g)
    dst = torch.randint(n, (240,), generator=g)
    ei = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)
    return x, ei, torch.randint(3, (n,), generator=g)


def test_the_mgda_step_follows_the_weighted_task_gradients_and_no_label_reaches_the_encoder():
    x, ei, y = _graph()
    torch.manual_seed(0)
    model = ParetoGNN(ParetoGNNConfig(hidden=16, out=8, tasks=("link", "dgi", "recon",
                                                                 "infonce")), 12, 3)
    params = list(model.encoder.parameters())
    torch.manual_seed(5)
    losses = model.pretext_losses(x, ei)
    assert set(losses) == {"link", "dgi", "recon", "infonce"}
    assert all(bool(torch.isfinite(v)) for v in losses.values())
    combined = model.combine(losses)
    alpha = model.last_weights
    assert abs(sum(alpha.values()) - 1) < 1e-6
    got = torch.autograd.grad(combined, params, retain_graph=True)
    for i, p in enumerate(params):
        want = sum(alpha[n] * torch.autograd.grad(losses[n], [p], retain_graph=True)[0]
                   for n in losses)
        torch.testing.assert_close(got[i], want, rtol=1e-4, atol=1e-6)
    model.zero_grad()
    terms = dict(model.graph_local_losses(x, ei, y, torch.ones(60, dtype=torch.bool)))
    terms["probe"].backward()
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0 for p in params)
    assert float(model.probe.weight.grad.abs().sum()) > 0
    plain = ParetoGNN(ParetoGNNConfig(hidden=16, out=8, weighting="sum"), 12, 3)
    torch.manual_seed(5)
    parts = plain.pretext_losses(x, ei)
    assert torch.allclose(plain.combine(parts), sum(parts.values()))
    with pytest.raises(ValueError, match="tasks must be distinct names"):
        ParetoGNNConfig(tasks=("link", "gossip"))


@pytest.mark.skipif(not PLANETOID.is_dir(), reason="real Planetoid files not present")
def test_the_recipe_learns_coras_classes_without_labels_in_the_encoder(tmp_path, monkeypatch):
    monkeypatch.setenv("SCIML_DATA", str(tmp_path / "cache"))
    recipe = sciml.load_recipe("cora-paretognn", [f"data.options.root={PLANETOID}",
                                                  "train.max_epochs=40",
                                                  "train.tensorboard=false"])
    report = sciml.fit(recipe, run_dir=tmp_path / "run", progress=False)
    assert report["test"]["test/accuracy"] > 0.35  # 7 classes: chance 0.14 to 0.30
    import csv

    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert {"train/pretext", "train/probe"} <= set(rows[0])
    assert float(rows[-1]["train/pretext"]) < float(rows[0]["train/pretext"])
