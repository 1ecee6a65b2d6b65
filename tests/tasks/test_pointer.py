"""Pointer networks: the exact answers (hull, Delaunay, TSP against brute force), the network's
defining properties (answers are input positions, any length, padding-free), the pointer job
from the API and the CLI on point files written with numpy, bad input."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest
import torch
from sciml.datasets import point_sets
from sciml.solvers.point_tasks import (
    canonical_tour,
    convex_hull_sequence,
    delaunay_triangles,
    polygon_area,
    tour_length,
    tsp_exact,
    tsp_two_opt,
)

import sciml
from sciml.cli import main
from sciml.errors import ConfigError, DataError
from sciml.models import PointerNet, PointerNetConfig
from sciml.tasks.pointer import collate_point_sets, score_answer

pytestmark = pytest.mark.usefixtures("one_thread")


def test_tsp_exact_is_the_shortest_tour_and_two_opt_is_close():
    rng = np.random.default_rng(0)
    for n in (4, 6, 8):
        p = rng.random((n, 2))
        best = min(tour_length(p, [0, *q]) for q in itertools.permutations(range(1, n)))
        t = tsp_exact(p)
        assert sorted(t) == list(range(n)) and t == canonical_tour(t)
        assert tour_length(p, t) == pytest.approx(best, rel=1e-12)
        assert tour_length(p, tsp_two_opt(p)) <= 1.1 * best
    assert canonical_tour([3, 1, 0, 2]) == [0, 1, 3, 2]
    with pytest.raises(ValueError, match="use tsp_two_opt"):
        tsp_exact(rng.random((14, 2)))


def test_hull_and_delaunay_answers_are_canonical_and_right():
    rng = np.random.default_rng(1)
    p = rng.random((30, 2))
    hull = convex_hull_sequence(p)
    assert hull[0] == min(hull)
    q = p[hull]  # counter-clockwise: every turn is to the left
    e = np.roll(q, -1, axis=0) - q
    f = np.roll(e, -1, axis=0)
    cross = e[:, 0] * f[:, 1] - e[:, 1] * f[:, 0]
    assert all(c > 0 for c in cross)
    tri = delaunay_triangles(p)
    assert (np.diff(tri, axis=1) > 0).all()
    for a, b, c in tri:  # no point inside any triangle's circumcircle
        A, B, C = p[a], p[b], p[c]
        d = 2 * (A[0] * (B[1] - C[1]) + B[0] * (C[1] - A[1]) + C[0] * (A[1] - B[1]))
        ux = ((A @ A) * (B[1] - C[1]) + (B @ B) * (C[1] - A[1]) + (C @ C) * (A[1] - B[1])) / d
        uy = ((A @ A) * (C[0] - B[0]) + (B @ B) * (A[0] - C[0]) + (C @ C) * (B[0] - A[0])) / d
        r2 = (A[0] - ux) ** 2 + (A[1] - uy) ** 2
        others = np.delete(p, [a, b, c], axis=0)
        assert (((others - [ux, uy]) ** 2).sum(1) >= r2 - 1e-12).all()
    hull_area = polygon_area(p, hull)
    assert score_answer("convex_hull", p, hull, hull) == {"exact": 1.0, "area_coverage": 1.0,
                                                         "failure": 0.0}
    bowtie = [hull[0], hull[2], hull[1], hull[3]]
    assert score_answer("convex_hull", p, bowtie, hull)["failure"] == 1.0
    assert 0 < polygon_area(p, hull[:4]) < hull_area


def _net(problem: str) -> PointerNet:
    torch.manual_seed(0)
    return PointerNet(PointerNetConfig(hidden=16), problem=problem).eval()


@pytest.mark.parametrize("problem", ["convex_hull", "tsp", "delaunay"])
def test_answers_point_at_inputs_of_any_length_whatever_the_padding(problem):
    net = _net(problem)
    g = torch.Generator().manual_seed(0)
    sets = [torch.rand(n, 2, generator=g) for n in (5, 12, 40)]
    batch = collate_point_sets([{"points": s} for s in sets])
    together = net.decode(batch["points"], batch["lengths"])
    for s, ans in zip(sets, together, strict=True):
        alone = net.decode(s[None], torch.tensor([len(s)]))[0]
        assert alone == ans  # the padding of the others changes nothing
        assert all(0 <= i < len(s) for i in ans)
        if problem == "tsp":
            assert sorted(ans) == list(range(len(s)))
        elif problem == "convex_hull":
            assert len(set(ans)) == len(ans) >= 3
        else:
            assert len(ans) % 3 == 0
    targets = torch.tensor([[0, 2, 1, -1], [3, 1, 0, 4]])
    logits = net(batch["points"][:2], batch["lengths"][:2], targets)
    assert logits.shape == (2, 5, 41)
    assert bool(torch.isinf(logits[0, :, 6:]).all())  # padding is never pointed at
    y = PointerNet.answer_targets(targets)
    assert y.tolist() == [[1, 3, 2, 0, -1], [4, 2, 1, 5, 0]]


def test_the_pointer_job_learns_hulls_and_answers_files_from_the_cli(tmp_path, capsys):
    data = point_sets("convex_hull", n_train=2000, n_val=50, n_test=50, n_min=5, n_max=20,
                      test_n=12, seed=0)
    recipe = sciml.load_recipe("hull-ptrnet", ["train.max_epochs=7", "train.tensorboard=false"])
    report = sciml.fit(recipe, run_dir=tmp_path / "run", data=data, progress=False)
    assert report["problem"] == "convex_hull" and report["test_points"] == "12-12"
    assert report["test"]["test/area_coverage"] > 0.7
    assert (tmp_path / "run" / "examples.png").is_file()
    rng = np.random.default_rng(5)
    np.savez(tmp_path / "mine.npz", points=rng.random((7, 15, 2)))
    run = tmp_path / "run"
    assert main(["predict", str(run), "--input", str(tmp_path / "mine.npz")]) == 0
    rows = list(csv.DictReader(open(run / "predictions" / "predictions.csv")))
    assert len(rows) == 7 and all(r["points"] == "15" for r in rows)
    answers = sciml.load_run(run).predict(tmp_path / "mine.npz")
    assert [" ".join(map(str, a)) for a in answers] == [r["answer"] for r in rows]
    assert main(["eval", str(run), "--data", str(tmp_path / "mine.npz")]) == 0
    on_file = sciml.evaluate(run, data=tmp_path / "mine.npz")
    assert on_file["test_sets"] == 7 and 0 <= on_file["test"]["test/area_coverage"] <= 1
    np.savez(tmp_path / "bad.npz", xy=rng.random((3, 5, 2)))
    assert main(["predict", str(run), "--input", str(tmp_path / "bad.npz")]) == 2
    assert "missing key points" in capsys.readouterr().err
    np.savez(tmp_path / "two.npz", points=rng.random((3, 2, 2)))
    assert main(["predict", str(run), "--input", str(tmp_path / "two.npz")]) == 2
    assert "set 0 has 2 point(s); at least 3" in capsys.readouterr().err


def test_bad_pointer_recipes_are_named():
    with pytest.raises(ConfigError, match="problem must be one of"):
        point_sets("sorting")
    with pytest.raises(ConfigError, match="tsp references are computed up to 100"):
        point_sets("tsp", n_train=1, test_n=200)
    with pytest.raises(ConfigError, match="hidden must be an integer"):
        sciml.fit(sciml.load_recipe("hull-ptrnet", ["model.hidden=0"]), run_dir="/nonexistent",
                  progress=False)
    with pytest.raises(DataError, match="no such file"):
        point_sets(path="/nonexistent/points.npz")
