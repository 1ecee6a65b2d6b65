"""Pointer networks on convex hull, Delaunay triangulation and planar TSP, trained on small
inputs and tested on larger ones, with the paper's measures.

Issue 22's pointer network (Vinyals, Fortunato, Jaitly, NeurIPS 2015) through the pointer job
(``hull-ptrnet`` with the options below), greedy answers restricted to valid ones. For each
problem one training on generated sets (uniform points in the unit square, exact answers from
``sciml.solvers.point_tasks``), then the test measures on fresh sets (another seed) of each test
size:

- convex hull (trained on 5-20 points; tested on 20 and 50): answers equal to the hull
  (accuracy), area coverage (answered polygon / hull; a non-simple polygon counts 0) and
  failures (the paper, trained on 5-50: 69.6 % / 99.9 % at n = 50);
- TSP (trained on 5-10 points with exact Held-Karp tours; tested on 10 against exact tours and
  on 20 against 2-opt tours): answered tour length / reference, against the nearest-neighbour
  tour's ratio (the simple anchor; the paper's 5-20-trained network was at 1.02 of optimal at
  n = 20 with beam search);
- Delaunay (trained on 5-10 points; tested on 5 and 10): accuracy and triangle coverage (the
  paper: 80.7 % / 93.0 % at n = 5, 22.6 % / 81.3 % at n = 10).

Rows of the page: hull area coverage at the training and at 2.5× the largest training size,
TSP tour length ratio against nearest neighbour's (target ratio ≤ 1: the learned tours beat the
greedy heuristic), Delaunay triangle coverage. The log says what the CPU budget reaches.

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/pointer_nets.py``
(about 40 minutes); ``--quick``: a few minutes, not recorded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402


def nearest_neighbour_ratio(data) -> float:
    """Mean ratio of the nearest-neighbour tour from point 0 to the reference tour."""
    from sciml.solvers.point_tasks import tour_length

    ratios = []
    for g in data.test_idx.tolist():
        pts, ref = data.item(g)
        p = pts.double().numpy()
        d = np.linalg.norm(p[:, None] - p[None], axis=-1)
        tour, left = [0], set(range(1, len(p)))
        while left:
            nxt = min(left, key=lambda j: d[tour[-1], j])
            tour.append(nxt)
            left.remove(nxt)
        ratios.append(tour_length(p, tour) / tour_length(p, ref.tolist()))
    return float(statistics.mean(ratios))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=20000)
    ap.add_argument("--n-test", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--problems", default="convex_hull,tsp,delaunay")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="2000 sets, 3 epochs (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.n_train, args.n_test, args.epochs, args.hidden = 2000, 100, 3, 64
    torch.set_num_threads(args.threads)
    from sciml.datasets import point_sets

    import sciml

    run = _record.start("pointer_nets", args, quick=args.quick, argv=argv)
    plan = {"convex_hull": ((5, 20), (20, 50)), "tsp": ((5, 10), (10, 20)),
            "delaunay": ((5, 10), (5, 10))}
    problems = [p for p in args.problems.split(",") if p]
    results: dict[str, dict[int, dict[str, float]]] = {}
    nn_ratio: dict[int, float] = {}
    lines = [f"- {args.n_train} training sets per problem (uniform in the unit square), "
             f"{args.n_test} fresh test sets per size; pointer network hidden {args.hidden}, "
             f"Adam 3e-3, batch 64, {args.epochs} epochs, lowest validation loss kept; greedy "
             f"answers restricted to valid ones; {args.threads} thread(s)", "",
             "| problem | trained on | tested on | accuracy | coverage / length ratio | "
             "failures |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for problem in problems:
            (lo, hi), tests = plan[problem]
            data = point_sets(problem, n_train=args.n_train, n_val=300, n_test=0, n_min=lo,
                              n_max=hi, seed=0)
            # the job needs a test split at fit time: the first test size, fresh sets
            first = point_sets(problem, n_train=1, n_val=0, n_test=args.n_test, n_min=lo,
                               n_max=hi, test_n=tests[0], seed=101)
            folder = Path(tmp) / problem
            recipe = sciml.load_recipe("hull-ptrnet", [
                f"data.options.problem={problem}", f"train.max_epochs={args.epochs}",
                f"model.hidden={args.hidden}", "train.tensorboard=false", "eval.plot=false"])
            sciml.fit(recipe, run_dir=folder, data=_with_tests(data, first), progress=False)
            results[problem] = {}
            for n in tests:
                fresh = point_sets(problem, n_train=1, n_val=0, n_test=args.n_test, n_min=lo,
                                   n_max=hi, test_n=n, seed=100 + n)
                rep = sciml.evaluate(folder, data=fresh)["test"]
                results[problem][n] = {k.split("/")[1]: v for k, v in rep.items()}
                if problem == "tsp":
                    nn_ratio[n] = nearest_neighbour_ratio(fresh)
                m = results[problem][n]
                main_measure = m.get("area_coverage", m.get("triangle_coverage",
                                                            m.get("length_ratio")))
                extra = f" (nearest neighbour {nn_ratio[n]:.4f})" if problem == "tsp" else ""
                fails = f"{m['failure']:.4f}" if "failure" in m else "–"
                lines.append(f"| {problem} | {lo}-{hi} | {n} | {m['exact']:.4f} | "
                             f"{main_measure:.4f}{extra} | {fails} |")
                print(lines[-1], flush=True)
    setting = f"{args.n_train} training sets, hidden {args.hidden}, {args.epochs} epochs"
    comps = []
    if "convex_hull" in results:
        for n in plan["convex_hull"][1]:
            m = results["convex_hull"][n]
            comps.append(_record.comparison(
                f"pointer_nets.hull_area_{n}", f"convex hull, {n} points (trained on 5-20): "
                "area coverage of the answered polygon, pointer network / true hull",
                m["area_coverage"], 1.0, anchor_name="true hull", setting=setting,
                note=f"accuracy {m['exact']:.3f}, failures {m['failure']:.3f}"))
    if "tsp" in results:
        for n in plan["tsp"][1]:
            m = results["tsp"][n]
            ref = "exact" if n <= 13 else "2-opt"
            comps.append(_record.comparison(
                f"pointer_nets.tsp_{n}", f"TSP, {n} points (trained on 5-10): tour length / the "
                f"{ref} tour, pointer network against nearest neighbour", m["length_ratio"],
                nn_ratio[n], anchor_name="nearest neighbour", target=("ratio", "<=", 1.0),
                setting=setting))
    if "delaunay" in results:
        for n in plan["delaunay"][1]:
            m = results["delaunay"][n]
            comps.append(_record.comparison(
                f"pointer_nets.delaunay_{n}", f"Delaunay, {n} points (trained on 5-10): "
                "triangle coverage, pointer network / all true triangles",
                m["triangle_coverage"], 1.0, anchor_name="true triangles", setting=setting,
                note=f"accuracy {m['exact']:.3f}"))
    run.record("Pointer networks: convex hull, TSP, Delaunay", "\n".join(lines), comps)


def _with_tests(data, tests):
    """``data``'s training and validation sets plus ``tests``' test sets, in one data set."""
    from sciml.datasets import PointSetData

    n_pts, n_tg = int(data.point_ptr[-1]), int(data.target_ptr[-1])
    g = data.n_sets
    return PointSetData(
        data.name, data.problem, torch.cat([data.points, tests.points]),
        torch.cat([data.point_ptr, tests.point_ptr[1:] + n_pts]),
        torch.cat([data.targets, tests.targets]),
        torch.cat([data.target_ptr, tests.target_ptr[1:] + n_tg]), data.train_idx,
        data.val_idx, tests.test_idx + g, {**data.meta, "test": tests.meta.get("test size")})


if __name__ == "__main__":
    main()
