"""The pointer job: recipe → point sets and their exact answers (convex hull, Delaunay
triangulation, travelling salesman), a pointer network → run folder with the paper's measures.

Mini-batch training over sets (padded to the longest set of the batch), teacher-forced cross
entropy of the answers. Metrics, on greedy answers (:meth:`PointerNet.decode`):

- ``loss``: the teacher-forced cross entropy per answer step;
- ``exact``: answers equal to the reference (a tour in either direction from any start, and
  triangles in any order, count as equal);
- ``convex_hull``: ``area_coverage``, the area of the answered polygon over the true hull's
  (Vinyals et al.'s "area"), and ``failure``, the fraction of answers that are not a simple
  polygon (counted with coverage 0);
- ``delaunay``: ``triangle_coverage``, the fraction of true triangles answered;
- ``tsp``: ``length_ratio``, answered tour length over the reference's (exact up to 13 points,
  2-opt above).

The test sets can be larger than the training sets (``data.options.test_n``): the paper's
question whether a network trained on small inputs answers larger ones. ``sciml predict RUN
--input points.npz`` (``points`` ``(G, n, 2)``) writes ``predictions.csv`` (the answer of each
set as indices, and its tour length or polygon area).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from sciml.data import atomic_write
from sciml.datasets import PointSetData, read_point_sets
from sciml.errors import DataError
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, build_data, input_file
from sciml.train import AbstractTask, TrainerConfig

__all__ = ["PointerJob", "PointerTask", "PointSets", "collate_point_sets", "score_answer",
           "PointerDataConfig", "PointerEvalConfig"]


class PointSets(torch.utils.data.Dataset):
    """Sets ``ids`` of a :class:`PointSetData`: ``points`` ``(n, 2)`` and ``target`` ``(L,)``."""

    def __init__(self, points: Tensor, point_ptr: Tensor, targets: Tensor, target_ptr: Tensor,
                 ids: Tensor) -> None:
        self.points, self.point_ptr, self.targets, self.target_ptr = (points, point_ptr, targets,
                                                                      target_ptr)
        self.ids = ids.long()

    @classmethod
    def of(cls, d: dict[str, Any], ids: Tensor) -> PointSets:
        return cls(d["points"], d["point_ptr"], d["targets"], d["target_ptr"], ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        g = int(self.ids[i])
        a, b = int(self.point_ptr[g]), int(self.point_ptr[g + 1])
        c, d = int(self.target_ptr[g]), int(self.target_ptr[g + 1])
        return {"points": self.points[a:b], "target": self.targets[c:d]}


def collate_point_sets(items: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Sets padded to the batch's largest: ``points`` ``(B, n, 2)``, ``lengths`` ``(B,)`` and
    (where the items have them) ``targets`` ``(B, L)`` padded with -1."""
    lengths = torch.tensor([len(it["points"]) for it in items])
    n = int(lengths.max())
    points = torch.zeros(len(items), n, items[0]["points"].shape[1])
    for k, it in enumerate(items):
        points[k, :len(it["points"])] = it["points"]
    batch = {"points": points, "lengths": lengths}
    if all("target" in it for it in items):
        width = max(len(it["target"]) for it in items)
        targets = torch.full((len(items), width), -1, dtype=torch.long)
        for k, it in enumerate(items):
            targets[k, :len(it["target"])] = it["target"]
        batch["targets"] = targets
    return batch


def _segments_cross(p: np.ndarray, q: np.ndarray, r: np.ndarray, s: np.ndarray) -> bool:
    def orient(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
        return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))

    return (orient(p, q, r) * orient(p, q, s) < 0) and (orient(r, s, p) * orient(r, s, q) < 0)


def _simple_polygon(pts: np.ndarray, seq: list[int]) -> bool:
    k = len(seq)
    if k < 3 or len(set(seq)) != k:
        return False
    q = pts[seq]
    for i in range(k):
        for j in range(i + 2, k):
            if i == 0 and j == k - 1:
                continue  # neighbouring edges through vertex 0
            if _segments_cross(q[i], q[(i + 1) % k], q[j], q[(j + 1) % k]):
                return False
    return True


def score_answer(problem: str, points: np.ndarray, answer: list[int], reference: list[int]
                 ) -> dict[str, float]:
    """The measures of one answer against its reference (see the module text)."""
    from sciml.solvers.point_tasks import canonical_tour, polygon_area, tour_length

    if problem == "convex_hull":
        simple = _simple_polygon(points, answer)
        cover = polygon_area(points, answer) / polygon_area(points, reference) if simple else 0.0
        return {"exact": float(answer == reference), "area_coverage": cover,
                "failure": float(not simple)}
    if problem == "delaunay":
        tri = {tuple(sorted(answer[i:i + 3])) for i in range(0, len(answer) - 2, 3)}
        ref = {tuple(reference[i:i + 3]) for i in range(0, len(reference), 3)}
        return {"exact": float(tri == ref), "triangle_coverage": len(tri & ref) / len(ref)}
    valid = sorted(answer) == list(range(len(points)))
    ratio = tour_length(points, answer) / tour_length(points, reference) if valid else np.nan
    return {"exact": float(valid and canonical_tour(answer) == canonical_tour(reference)),
            "length_ratio": ratio}


class PointerTask(AbstractTask):
    """Teacher-forced cross entropy; metrics of greedy answers (see the module text)."""

    def __init__(self, model: nn.Module, problem: str) -> None:
        super().__init__(model)
        self.problem = problem

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        return self.model.loss(batch["points"], batch["lengths"], batch["targets"])

    def answers(self, batch: dict[str, Tensor]) -> list[list[int]]:
        return self.model.decode(batch["points"], batch["lengths"])

    def metrics(self, batch: dict[str, Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
        points, lengths, targets = batch["points"], batch["lengths"], batch["targets"]
        logits = self.model(points, lengths, targets)
        y = self.model.answer_targets(targets)
        steps = (y >= 0).sum().to(logits.dtype)
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                               y.reshape(-1), ignore_index=-1, reduction="sum")
        out = {"loss": (ce, steps)}
        sums: dict[str, float] = {}
        counts: dict[str, float] = {}
        for k, ans in enumerate(self.answers(batch)):
            n = int(lengths[k])
            ref = [int(v) for v in targets[k][targets[k] >= 0]]
            for name, v in score_answer(self.problem, points[k, :n].double().numpy(), ans,
                                        ref).items():
                if np.isfinite(v):
                    sums[name] = sums.get(name, 0.0) + v
                    counts[name] = counts.get(name, 0.0) + 1
        for name in sums:
            out[name] = (torch.tensor(sums[name]), torch.tensor(counts[name]))
        return out

    def predict(self, batch: dict[str, Any]) -> list[list[int]]:
        """The greedy answer of every set."""
        return self.answers(batch)


@dataclass(frozen=True)
class PointerDataConfig:
    """Which point sets (``name``: point_sets) and their ``options``."""

    name: str = "point_sets"
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PointerEvalConfig:
    """Args: plot: write ``examples.png`` (a few test sets with the answer and the reference)."""

    plot: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.plot, bool):
            raise ValueError(f"plot must be true or false, got {self.plot!r}")


def _arrays(data: PointSetData) -> dict[str, Any]:
    return {"points": data.points, "point_ptr": data.point_ptr, "targets": data.targets,
            "target_ptr": data.target_ptr, "problem": data.problem}


@JOBS.register("pointer", help="point sets: answer with a sequence of input positions (pointer "
               "network: convex hull, Delaunay triangulation, travelling salesman)")
class PointerJob(AbstractJob):
    """Pointer recipes: ``data`` (PointerDataConfig), ``model`` (``pointer_net``), ``train``
    (TrainerConfig; ``batch_size`` sets per step), ``eval`` (PointerEvalConfig)."""

    sections = ("data", "model", "train", "eval")
    configs = {"data": ("data_cfg", PointerDataConfig), "eval": ("eval_cfg", PointerEvalConfig),
               "train": ("train_cfg", TrainerConfig)}
    models = ("pointer_net",)
    data_kind = "a PointSetData (sciml.datasets.PointSetData)"
    collate_fn = staticmethod(collate_point_sets)
    data_cfg: PointerDataConfig
    eval_cfg: PointerEvalConfig
    train_cfg: TrainerConfig

    def load_data(self) -> PointSetData:
        return build_data(self.data_cfg.name, self.data_cfg.options, PointSetData,
                          "a collection of point sets")

    def check_data(self, data: Any) -> PointSetData:
        if not isinstance(data, PointSetData):
            raise TypeError(f"a pointer recipe takes {self.data_kind} as data, got "
                            f"{type(data).__name__}")
        return data

    def describe(self, data: PointSetData) -> dict[str, Any]:
        sizes = data.point_ptr.diff()

        def span(ids: Tensor) -> str:
            if not len(ids):
                return "-"
            s = sizes[ids]
            return f"{int(s.min())}-{int(s.max())}" if int(s.min()) != int(s.max()) \
                else str(int(s.min()))

        return {"name": data.name, "problem": data.problem, "n_sets": data.n_sets,
                "meta": {k: str(v) for k, v in data.meta.items()},
                "splits": {"train": int(len(data.train_idx)), "val": int(len(data.val_idx)),
                           "test": int(len(data.test_idx))},
                "points_per_set": {"train": span(data.train_idx), "test": span(data.test_idx)}}

    def splits(self, data: PointSetData) -> tuple[PointSets, PointSets | None]:
        if not len(data.train_idx):
            raise DataError(f"{data.name}: no training set (a file of points is test data: "
                            "sciml eval RUN --data FILE)")
        a = _arrays(data)
        return PointSets.of(a, data.train_idx), (PointSets.of(a, data.val_idx)
                                                 if len(data.val_idx) else None)

    def eval_data(self, data: PointSetData) -> dict[str, Any]:
        return {**_arrays(data), "test_idx": data.test_idx}

    def build_task(self, spec: dict[str, Any]) -> PointerTask:
        model = MODELS.build(self.model_name, self.model_values, where="model",
                             problem=spec["problem"], in_channels=2)
        return PointerTask(model, spec["problem"])

    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {"model": self.model_name, "data": spec["name"], "problem": spec["problem"],
                "sets": spec.get("splits"), "points_per_set": spec.get("points_per_set")}

    def test_samples(self, eval_data: dict[str, Any], spec: dict[str, Any]
                     ) -> tuple[PointSets, Any]:
        return PointSets.of(eval_data, eval_data["test_idx"]), collate_point_sets

    def test_report(self, task: PointerTask, eval_data: dict[str, Any], spec: dict[str, Any],
                    trainer: Any) -> dict[str, Any]:
        if not len(eval_data["test_idx"]):
            raise DataError(f"{spec['name']}: no test set")
        test, collate = self.test_samples(eval_data, spec)
        metrics = trainer.evaluate(task, test, collate_fn=collate, prefix="test")
        sizes = eval_data["point_ptr"].diff()[eval_data["test_idx"]]
        return {"test": metrics, "test_sets": int(len(test)),
                "test_points": f"{int(sizes.min())}-{int(sizes.max())}"}

    def plots(self, run_dir: Path, task: PointerTask, eval_data: dict[str, Any],
              spec: dict[str, Any]) -> None:
        if not self.eval_cfg.plot or not len(eval_data["test_idx"]):
            return
        from sciml.tasks.pointer._plots import plot_examples

        test = PointSets.of(eval_data, eval_data["test_idx"][:4])
        batch = collate_point_sets([test[i] for i in range(len(test))])
        task.eval()
        answers = task.predict(batch)
        sets = [(batch["points"][k, :int(batch["lengths"][k])].numpy(), answers[k],
                 [int(v) for v in batch["targets"][k] if v >= 0]) for k in range(len(answers))]
        plot_examples(spec["problem"], sets, run_dir / "examples.png",
                      f"{self.model_name} on {spec['name']}: test sets (answer solid, "
                      "reference dashed)")

    def read_input(self, path: Path, spec: dict[str, Any]) -> dict[str, Tensor]:
        path = input_file(path, "an .npz of point sets (points)")
        sets = read_point_sets(path)
        return collate_point_sets([{"points": torch.from_numpy(p).float()} for p in sets])

    def read_eval_file(self, path: Path, spec: dict[str, Any]) -> dict[str, Any]:
        """Point sets of a file, every one a test set; answers computed exactly."""
        from sciml.datasets import point_sets

        return self.eval_data(point_sets(spec["problem"], path=str(input_file(
            path, "an .npz of point sets (points)"))))

    def predict(self, task: PointerTask, spec: dict[str, Any], inputs: Any) -> list[list[int]]:
        """``{"points" (B, n, 2), "lengths" (B,)}`` (or ``points`` ``(n, 2)``: one set) → the
        answer of every set, as lists of indices."""
        points = torch.as_tensor(inputs["points"] if isinstance(inputs, dict) else inputs)
        points = points.float()
        if points.dim() == 2:
            points = points[None]
        if points.dim() != 3 or points.shape[2] != 2 or points.shape[1] < 3:
            raise DataError(f"points must be (sets, n >= 3, 2), got {tuple(points.shape)}")
        lengths = torch.as_tensor(inputs["lengths"]) if isinstance(inputs, dict) and \
            "lengths" in inputs else torch.full((points.shape[0],), points.shape[1])
        if not bool(torch.isfinite(points).all()):
            raise DataError("points must be finite")
        task.eval()
        return task.predict({"points": points, "lengths": lengths.long()})

    def write_prediction(self, out_dir: Path, inputs: Any, outputs: list[list[int]],
                         spec: dict[str, Any], source: str) -> list[Path]:
        from sciml.solvers.point_tasks import polygon_area, tour_length

        out = Path(out_dir) / "predictions.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        problem = spec["problem"]
        measure = {"tsp": "tour_length", "convex_hull": "area"}.get(problem)
        with atomic_write(out) as tmp, open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["set", "points", "answer"] + ([measure] if measure else []))
            for k, ans in enumerate(outputs):
                n = int(inputs["lengths"][k])
                pts = inputs["points"][k, :n].double().numpy()
                row = [k, n, " ".join(str(i) for i in ans)]
                if problem == "tsp":
                    row.append(f"{tour_length(pts, ans):.6g}")
                elif problem == "convex_hull":
                    row.append(f"{polygon_area(pts, ans):.6g}")
                w.writerow(row)
        return [out]
