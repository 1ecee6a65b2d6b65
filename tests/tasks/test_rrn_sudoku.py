"""Recurrent relational networks on Sudoku: the exact solver and the puzzle generator, Sudoku
files as other tools write them (the RRN paper's CSV, Kaggle's with a header and '.' blanks),
the RRN's defining properties, node-level graph sets in the graph job (API and CLI), bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from sciml.datasets import (
    GraphClassificationData,
    load_graph_file,
    puzzle_givens,
    read_sudoku_file,
    sudoku,
    sudoku_graphs,
)
from sciml.solvers.sudoku import (
    PEERS,
    check_grid,
    count_solutions,
    generate_puzzle,
    generate_puzzles,
    solve_sudoku,
    sudoku_edges,
)

import sciml
from sciml.cli import main
from sciml.errors import ConfigError, DataError
from sciml.models import RRN, RRNConfig

pytestmark = pytest.mark.usefixtures("one_thread")

# a 17-given puzzle (Royle's list) and its solution, checked by hand against the rules
HARD = "000000010400000000020000000000050407008000300001090000300400200050100000000806000"


def _grid(text: str) -> list[int]:
    return [0 if c == "." else int(c) for c in text]


def test_the_solver_solves_a_17_given_puzzle_and_counts_solutions():
    p = _grid(HARD)
    s = solve_sudoku(p)
    assert s is not None and 0 not in s
    check_grid(s)
    assert all(q in (0, v) for q, v in zip(p, s, strict=True))
    assert count_solutions(p, 2) == 1
    assert count_solutions([0] * 81, 3) == 3  # the empty grid: many
    # row 1 holds 1-8, column 1 holds 9 lower down: cell (1, 1) has no candidate left
    bad = [0] + list(range(1, 9)) + [9] + [0] * 71
    assert count_solutions(bad) == 0 and solve_sudoku(bad) is None
    with pytest.raises(ValueError, match="digit 5 twice"):
        count_solutions([5, 5] + [0] * 79)


def test_generated_puzzles_have_one_solution_and_the_asked_givens():
    rng = np.random.default_rng(0)
    for givens in (26, 30, 34):
        puzzle, solution = generate_puzzle(givens, rng)
        assert sum(v != 0 for v in puzzle) == givens
        assert count_solutions(puzzle, 2) == 1 and solve_sudoku(puzzle) == solution
    # puzzle k depends only on (seed, k): cutting the stream differently gives the same puzzles
    a, sa = generate_puzzles(6, 28, 30, seed=3)
    b, sb = generate_puzzles(3, 28, 30, seed=3, start=3)
    assert np.array_equal(a[3:], b) and np.array_equal(sa[3:], sb)
    assert [int((r != 0).sum()) for r in a] == [28, 29, 30, 28, 29, 30]
    with pytest.raises(ValueError, match="no Sudoku with fewer than 17"):
        generate_puzzle(16, rng)
    # below random removal's minimal puzzles (22-28 givens): the local search goes on
    puzzle, solution = generate_puzzle(21, np.random.default_rng(1))
    assert sum(v != 0 for v in puzzle) == 21 and count_solutions(puzzle, 2) == 1
    assert all(q in (0, v) for q, v in zip(puzzle, solution, strict=True))


def test_the_sudoku_graph_and_its_features():
    e = sudoku_edges()
    assert e.shape == (2, 1620)
    assert all(sorted(e[1][e[0] == i].tolist()) == PEERS[i] for i in (0, 40, 80))
    p, s = generate_puzzles(2, 30, 30, seed=1)
    a = sudoku_graphs(p, s)
    x, y = a["x"], a["y"]
    assert x.shape == (162, 28) and torch.equal(x.sum(1), torch.full((162,), 3.0))
    assert torch.equal(x[:, :10].argmax(1), torch.from_numpy(p.reshape(-1).astype(np.int64)))
    assert torch.equal(x[80, 10:], torch.eye(18)[8] + torch.eye(18)[17])  # row 9, column 9
    given = torch.from_numpy(p.reshape(-1) != 0)
    assert bool((y[given] == -1).all())
    assert torch.equal(y[~given] + 1, torch.from_numpy(s.reshape(-1)[~given.numpy()]).long())
    assert puzzle_givens(x).tolist() == [30, 30]


def _write_files(folder, p, s):
    """The RRN paper's CSV (puzzle,solution, no header) and Kaggle's (a header, '.' blanks)."""
    text = lambda g: "".join(str(int(v)) for v in g)  # noqa: E731
    (folder / "rrn.csv").write_text("".join(f"{text(q)},{text(a)}\n"
                                            for q, a in zip(p, s, strict=True)))
    (folder / "kaggle.csv").write_text("quizzes,solutions\n" + "".join(
        f"{text(q).replace('0', '.')},{text(a)}\n" for q, a in zip(p, s, strict=True)))


def test_sudoku_files_of_other_tools_read_the_same(tmp_path):
    p, s = generate_puzzles(12, 26, 32, seed=2)
    _write_files(tmp_path, p, s)
    for name in ("rrn.csv", "kaggle.csv"):
        q, a = read_sudoku_file(tmp_path / name)
        assert np.array_equal(q, p) and np.array_equal(a, s)
    d = sudoku(path=str(tmp_path / "rrn.csv"))
    assert d.level == "node" and d.n_graphs == 12 and d.n_classes == 9
    assert d.class_names == [str(k) for k in range(1, 10)]


@pytest.mark.parametrize("line, message", [
    ("123,456", "line 2, puzzle: a grid has 81 characters, got 3"),
    ("{q},{other}", "line 2: cell \\d+ \\(row \\d, column \\d\\) is given as \\d but the "
     "solution has"),
    ("{q},{sol_zero}", "line 2: the solution has an empty cell"),
    ("{dup},{sol}", "line 2, puzzle: digit"),
    ("{q}", "line 2: expected puzzle,solution, got 1 field"),
])
def test_bad_sudoku_lines_are_named(tmp_path, line, message):
    p, s = generate_puzzles(2, 30, 30, seed=4)
    t = lambda g: "".join(str(int(v)) for v in g)  # noqa: E731
    q, sol = t(p[1]), t(s[1])
    k = next(i for i in range(81) if p[1][i] == 0)
    dup = q[:k] + str(next(int(v) for v in (p[1][PEERS[k]]) if v)) + q[k + 1:]
    (tmp_path / "f.csv").write_text(f"{t(p[0])},{t(s[0])}\n" + line.format(
        q=q, sol=sol, other=t(s[0]), sol_zero="0" + sol[1:], dup=dup) + "\n")
    with pytest.raises(DataError, match=message):
        read_sudoku_file(tmp_path / "f.csv")


def _rrn(steps: int = 3) -> RRN:
    torch.manual_seed(0)
    return RRN(RRNConfig(hidden=8, steps=steps, mlp_layers=2), 28, 9).eval()


def test_rrn_messages_equal_an_mlp_on_the_concatenated_states():
    """The split first layer is f([h_i, h_j]) of the paper, computed per node."""
    m = _rrn()
    h = torch.randn(81, 8)
    src, dst = torch.from_numpy(sudoku_edges())
    w = torch.cat([m.message.send.weight, m.message.receive.weight], 1)
    first = torch.relu(torch.cat([h[src], h[dst]], 1) @ w.T + m.message.send.bias)
    assert torch.allclose(m.message(h, src, dst), m.message.rest(first), atol=1e-6)


def test_rrn_is_equivariant_and_keeps_puzzles_apart_and_runs_more_steps():
    m = _rrn()
    p, s = generate_puzzles(3, 28, 28, seed=5)
    a = sudoku_graphs(p, s)
    x, ei = a["x"], a["edge_index"]
    together = m(x, ei)
    one = sudoku_graphs(p[1:2], s[1:2])
    assert torch.allclose(m(one["x"], one["edge_index"]), together[81:162], atol=1e-5)
    perm = torch.randperm(243, generator=torch.Generator().manual_seed(0))
    inverse = torch.argsort(perm)
    assert torch.allclose(m(x[perm], inverse[ei]), together[perm], atol=1e-5)
    outs = m.step_logits(x, ei, steps=7)
    assert len(outs) == 7 and torch.allclose(outs[2], together)  # the first 3 steps unchanged
    loss = m.step_loss(x, ei, a["y"])
    lab = a["y"] >= 0
    want = torch.stack([torch.nn.functional.cross_entropy(o[lab], a["y"][lab])
                        for o in m.step_logits(x, ei)]).mean()
    assert torch.allclose(loss, want)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        RRNConfig(steps=0)


def _recipe(*more: str):
    return sciml.load_recipe("sudoku-rrn", ["train.tensorboard=false", "model.hidden=16",
                                            "model.steps=4", "train.max_epochs=3", *more])


def test_rrn_learns_sudoku_constraints_and_solves_files_from_the_cli(tmp_path, capsys):
    p, s = generate_puzzles(40, 30, 34, seed=7)
    _write_files(tmp_path, p, s)
    data = sudoku(n_puzzles=300, min_givens=30, max_givens=34, seed=1, root=str(tmp_path / "c"))
    report = sciml.fit(_recipe("train.max_epochs=12"), run_dir=tmp_path / "run", data=data,
                       progress=False)
    # chance is 1/9; the constraints alone (no digit twice among a cell's peers) leave 2-3
    # candidates per empty cell at these givens
    assert report["test"]["test/accuracy"] > 0.2
    assert 0 <= report["test"]["test/exact"] <= 1 and report["test_graphs"] == 30
    run = tmp_path / "run"
    assert main(["predict", str(run), "--input", str(tmp_path / "kaggle.csv")]) == 0
    rows = list(csv.DictReader(open(run / "predictions" / "solutions.csv")))
    assert len(rows) == 40
    for row, q in zip(rows, p, strict=True):
        filled = _grid(row["solution"])
        assert 0 not in filled and all(v in (0, f) for v, f in zip(q, filled, strict=True))
    nodes = list(csv.DictReader(open(run / "predictions" / "predictions.csv")))
    assert len(nodes) == 40 * 81 and nodes[81]["graph"] == "1" and nodes[81]["node"] == "0"
    assert main(["eval", str(run), "--data", str(tmp_path / "rrn.csv")]) == 0
    on_file = sciml.evaluate(run, data=tmp_path / "rrn.csv")
    assert on_file["test_graphs"] == 40
    assert on_file["test_labelled_nodes"] == int((p == 0).sum())
    (tmp_path / "broken.csv").write_text("12,34\n")
    assert main(["predict", str(run), "--input", str(tmp_path / "broken.csv")]) == 2
    assert "broken.csv, line 1, puzzle: a grid has 81 characters" in capsys.readouterr().err


def test_node_level_sets_of_ones_own_in_the_graph_job(tmp_path):
    """A PyG list with a class per node (-1: unlabelled) is read as a node-level set, and a
    GraphSAGE with no read-out classifies its nodes; a graph-level model is refused by name."""
    from torch_geometric.data import Data

    g = torch.Generator().manual_seed(0)
    graphs = []
    for _ in range(60):
        n = int(torch.randint(5, 9, (1,), generator=g))
        x = torch.randn(n, 3, generator=g)
        y = (x[:, 0] > 0).long()
        y[0] = -1
        ei = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
        graphs.append(Data(x=x, edge_index=torch.cat([ei, ei.flip(0)], 1), y=y).to_dict())
    torch.save(graphs, tmp_path / "nodes.pt")
    d = load_graph_file(tmp_path / "nodes.pt")
    assert d.level == "node" and d.n_graphs == 60 and int((d.y == -1).sum()) == 60
    recipe = sciml.load_recipe("clique-hopfield", [
        f"data={{name: graph_file, options: {{path: {tmp_path / 'nodes.pt'}}}}}",
        "model.readout=none", "train.max_epochs=30", "train.tensorboard=false",
        "model.n_layers=1", "model.conv=sage"])
    report = sciml.fit(recipe, run_dir=tmp_path / "r", data=d, progress=False)
    assert report["test"]["test/accuracy"] > 0.8
    written = json.loads((tmp_path / "r" / "report.json").read_text())
    assert written["test"]["test/exact"] == report["test"]["test/exact"]  # graphs all right
    with pytest.raises(ConfigError, match="has a class per node, the model gives one per graph"):
        sciml.fit(sciml.load_recipe("clique-hopfield", ["train.max_epochs=1"]),
                  run_dir=tmp_path / "bad", data=d, progress=False)
    with pytest.raises(ConfigError, match="has a class per graph, the model gives one per node"):
        sciml.fit(sciml.load_recipe("sudoku-rrn", ["train.max_epochs=1"]),
                  run_dir=tmp_path / "bad2", progress=False,
                  data=sciml.datasets.planted_clique(n_graphs=20))
    with pytest.raises(DataError, match="y must have one class per node"):
        GraphClassificationData("t", d.x, d.edge_index, d.graph_index, d.y[:-1], d.train_idx,
                                d.val_idx, d.test_idx, 2, level="node")


def test_bad_sudoku_options_are_named(tmp_path):
    with pytest.raises(ConfigError, match="min_givens <= max_givens"):
        sudoku(min_givens=30, max_givens=20)
    with pytest.raises(DataError, match="no such file"):
        sudoku(path=str(tmp_path / "missing.csv"))
