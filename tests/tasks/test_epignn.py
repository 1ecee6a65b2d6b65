"""EpiGNN and the interval algebra: the composition table derived by enumeration against the
algebra's laws, the generated graphs' labels recomputed from their edges, EpiGNN with the true
table is algebraic closure (every test graph right), the graph job with typed edges from the API
and the CLI (an npz written with numpy), bad input."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from sciml.datasets import relation_paths
from sciml.solvers.relation_algebra import (
    CONVERSE,
    INTERVAL_RELATIONS,
    interval_composition,
    interval_relation,
    path_mask,
)

import sciml
from sciml.cli import main
from sciml.errors import ConfigError, DataError
from sciml.models import RGCN, EpiGNN, EpiGNNConfig, RGCNConfig
from sciml.tasks.graph import GraphSet, collate_graphs

pytestmark = pytest.mark.usefixtures("one_thread")

R = INTERVAL_RELATIONS


def _set(mask: int) -> set[str]:
    return {R[i] for i in range(13) if mask >> i & 1}


def test_the_derived_composition_table_obeys_the_algebra():
    c = interval_composition()
    assert int(c.sum()) == 409  # Allen's table: 409 atomic entries over 169 cells
    assert interval_relation((0, 1), (2, 3)) == R.index("b")
    assert interval_relation((1, 2), (0, 3)) == R.index("d")
    for r in range(13):
        assert c[0, r].sum() == 1 and c[0, r, r] and c[r, 0, r]  # eq is the identity
        for s in range(13):  # (r ∘ s)˘ = s˘ ∘ r˘
            assert {CONVERSE[t] for t in np.nonzero(c[r, s])[0]} == set(
                np.nonzero(c[CONVERSE[s], CONVERSE[r]])[0])
    idx = R.index
    assert _set(path_mask([idx("b"), idx("b")])) == {"b"}
    assert _set(path_mask([idx("m"), idx("m")])) == {"b"}
    assert _set(path_mask([idx("o"), idx("o")])) == {"b", "m", "o"}
    assert _set(path_mask([idx("d"), idx("di")])) == set(R)


def _paths(ei: np.ndarray, types: np.ndarray, head: int, tail: int) -> list[list[int]]:
    out, stack = [], [(head, [])]
    while stack:
        v, rels = stack.pop()
        if v == tail:
            out.append(rels)
            continue
        for e in np.nonzero(ei[0] == v)[0]:
            stack.append((int(ei[1, e]), rels + [int(types[e])]))
    return out


@pytest.fixture(scope="module")
def small():
    return relation_paths(n_per_cell=3, test_lengths=(2, 5, 8), seed=1)


def test_each_graph_entails_exactly_its_label(small):
    d = small
    assert d.level == "graph" and d.n_edge_types == 13 and d.n_classes == 13
    for g in range(0, d.n_graphs, 7):
        x, ei = d.graph(g)
        ea, eb = int(d.edge_ptr[g]), int(d.edge_ptr[g + 1])
        types = d.edge_type[ea:eb].numpy()
        head, tail = int(x[:, 0].argmax()), int(x[:, 1].argmax())
        paths = _paths(ei.numpy(), types, head, tail)
        assert len(paths) == int(d.graph_info["paths"][g])
        assert {len(p) for p in paths} == {int(d.graph_info["length"][g])}
        inter = -1
        for p in paths:
            inter &= path_mask(p)
        assert inter == 1 << int(d.y[g])
    lengths = set(d.graph_info["length"][d.train_idx].tolist())
    assert lengths <= {2, 3, 4} and 8 in set(d.graph_info["length"][d.test_idx].tolist())


def _true_table_model() -> EpiGNN:
    """EpiGNN with one facet of the 13 relations, p_r one-hot and A the algebra's table."""
    c = torch.from_numpy(interval_composition())
    m = EpiGNN(EpiGNNConfig(facets=1, dim=13, steps=9), 3, 13, 13)
    with torch.no_grad():
        m.rel.copy_(torch.where(torch.eye(13, dtype=torch.bool), 0.0, -1e4)[:, None, :])
        m.table.copy_(torch.where(c[1:, 1:].permute(2, 0, 1), 0.0, -1e4)[None])
    return m.eval()


def test_with_the_algebras_table_epignn_is_algebraic_closure(small):
    d = small
    test = GraphSet(d.x, d.edge_index, d.node_ptr, d.edge_ptr, d.y, d.test_idx,
                    edge_type=d.edge_type)
    b = collate_graphs([test[i] for i in range(len(test))])
    with torch.no_grad():
        out = _true_table_model()(b["x"], b["edge_index"], b["graph_index"], b["edge_type"])
    assert bool((out.argmax(1) == b["y"]).all())  # paths of 8 edges too: nothing learned
    a = EpiGNN(EpiGNNConfig(), 3, 13, 13).composition()
    torch.testing.assert_close(a.sum(1), torch.ones(4, 8, 8))  # each A[f, :, i, j] sums to 1
    torch.testing.assert_close(a[:, :, 0, 3], torch.eye(8)[3].expand(4, 8))


def test_models_keep_graphs_apart_and_name_a_bad_query(small):
    d = small
    test = GraphSet(d.x, d.edge_index, d.node_ptr, d.edge_ptr, d.y, d.test_idx[:5],
                    edge_type=d.edge_type)
    items = [test[i] for i in range(5)]
    b = collate_graphs(items)
    torch.manual_seed(0)
    for m in (EpiGNN(EpiGNNConfig(), 3, 13, 13), RGCN(RGCNConfig(hidden=8, n_layers=3), 3, 13,
                                                      13)):
        together = m(b["x"], b["edge_index"], b["graph_index"], b["edge_type"])
        one = collate_graphs(items[2:3])
        alone = m(one["x"], one["edge_index"], one["graph_index"], one["edge_type"])
        torch.testing.assert_close(alone[0], together[2], atol=1e-5, rtol=1e-5)
    x = b["x"].clone()
    x[b["graph_index"] == 3, 1] = 0.0
    with pytest.raises(DataError, match="graph 3 has 0 tail node"):
        m(x, b["edge_index"], b["graph_index"], b["edge_type"])


def test_the_job_with_typed_edges_from_the_api_and_the_cli(tmp_path, capsys, small):
    d = small
    recipe = sciml.load_recipe("intervals-epignn", ["train.max_epochs=3", "train.tensorboard=false",
                                                    "train.batch_size=64"])
    report = sciml.fit(recipe, run_dir=tmp_path / "run", data=d, progress=False)
    assert 0 <= report["test"]["test/accuracy"] <= 1
    run = tmp_path / "run"
    ids = d.test_idx[:6]
    test = GraphSet(d.x, d.edge_index, d.node_ptr, d.edge_ptr, d.y, ids, edge_type=d.edge_type)
    b = collate_graphs([test[i] for i in range(len(test))])
    np.savez(tmp_path / "mine.npz", x=b["x"].numpy(), edge_index=b["edge_index"].numpy(),
             graph_index=b["graph_index"].numpy(), edge_type=b["edge_type"].numpy(),
             y=b["y"].numpy())
    assert main(["predict", str(run), "--input", str(tmp_path / "mine.npz")]) == 0
    rows = list(csv.DictReader(open(run / "predictions" / "predictions.csv")))
    assert len(rows) == 6 and all(r["label"] in R for r in rows)
    assert main(["eval", str(run), "--data", str(tmp_path / "mine.npz")]) == 0
    np.savez(tmp_path / "untyped.npz", x=b["x"].numpy(), edge_index=b["edge_index"].numpy(),
             graph_index=b["graph_index"].numpy())
    assert main(["predict", str(run), "--input", str(tmp_path / "untyped.npz")]) == 2
    assert "need edge_type" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="reads edge types; the data 'planted_clique' has none"):
        sciml.fit(sciml.load_recipe("intervals-epignn", ["train.max_epochs=1"]),
                  run_dir=tmp_path / "bad", data=sciml.datasets.planted_clique(n_graphs=20),
                  progress=False)
    with pytest.raises(ConfigError, match="train_lengths must be a list of integers"):
        relation_paths(train_lengths=[])
