"""Sets of small graphs with one class per graph (graph classification), or a class per node
(node classification over many graphs: ``level="node"``, e.g. the cells of Sudoku puzzles).

A data set is stored the way PyG's ``InMemoryDataset`` and the TU collection store one: the nodes
of all graphs concatenated, a graph id per node, the edges with global node ids.

- ``planted_clique`` (generated): Erdős–Rényi graphs of 20-40 nodes (edge probability 0.15),
  half of them with a planted clique of 5 nodes; features per node: a constant and its degree
  / 10. The class (clique or not) is a property of a few nodes, which a mean read-out dilutes:
  the read-out test of ``benchmarks/hopfield.py``.
- ``tu``: a data set of the TU collection (Morris et al., *TUDataset*, 2020) in its text format,
  as https://chrsmrrs.github.io/datasets/ ships it and PyG's ``TUDataset`` reads it:
  ``{NAME}_A.txt`` (one edge ``i, j`` per line, 1-based node ids), ``{NAME}_graph_indicator.txt``
  (the 1-based graph id of each node), ``{NAME}_graph_labels.txt`` (one label per graph), and
  optionally ``{NAME}_node_labels.txt`` (one-hot encoded) and ``{NAME}_node_attributes.txt``
  (comma-separated floats). Without either node file every node has the single feature 1.
- ``graph_file``: your own graphs in ``.npz`` / ``.pt`` (optionally with ``edge_type``, one
  integer type per edge, for models of typed edges): either concatenated arrays ``x``,
  ``edge_index``, ``graph_index`` (or PyG's name ``batch``), ``y``; or, ``.pt`` only, a list of
  per-graph dicts with ``x``, ``edge_index`` and ``y`` (what ``torch.save([g.to_dict() for g in
  dataset], path)`` writes from a PyG data set). ``y`` with one entry per node (and not one per
  graph) makes a node-level set; there ``-1`` marks a node without a label.
- ``sudoku`` (:mod:`sciml.datasets._sudoku`): generated puzzles, or your own file of puzzles and
  solutions, as graphs of 81 cells with a digit to find per empty cell.

Splits: arrays ``train_idx`` / ``val_idx`` / ``test_idx`` (graph ids) where the file has them;
otherwise a random split by ``split`` fractions (default 0.8 / 0.1 / 0.1) with ``split_seed``,
stratified by class for graph-level sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sciml.errors import ConfigError, DataError

__all__ = ["GraphClassificationData", "planted_clique", "load_tu", "load_graph_file",
           "graphs_from_list", "read_graph_set", "check_graph_set", "graph_level", "TU_URL"]

TU_URL = "https://www.chrsmrrs.com/graphkerneldatasets/{name}.zip"


def check_graph_set(x: Tensor, edge_index: Tensor, graph_index: Tensor, where: str) -> int:
    """Check concatenated graphs (shapes, graph ids non-decreasing from 0 with every graph
    non-empty, edges inside one graph, finite features); return the number of graphs. Errors
    name ``where`` and the node, edge or graph."""
    if x.dim() != 2 or x.shape[0] < 1:
        raise DataError(f"{where}: x must be (nodes, features), got {tuple(x.shape)}")
    n = x.shape[0]
    if graph_index.shape != (n,):
        raise DataError(f"{where}: graph_index must have one graph id per node ({n}), got "
                        f"shape {tuple(graph_index.shape)}")
    gi = graph_index
    if int(gi.min()) < 0 or bool((gi[1:] < gi[:-1]).any()):
        raise DataError(f"{where}: graph_index must be non-decreasing graph ids from 0 "
                        "(the nodes of each graph together, graphs in order)")
    n_graphs = int(gi.max()) + 1
    sizes = torch.bincount(gi, minlength=n_graphs)
    if bool((sizes == 0).any()):
        raise DataError(f"{where}: graph {int((sizes == 0).nonzero()[0])} has no node")
    ei = edge_index
    if ei.dim() != 2 or ei.shape[0] != 2:
        raise DataError(f"{where}: edge_index must be (2, E), got {tuple(ei.shape)}")
    if ei.numel():
        if int(ei.min()) < 0 or int(ei.max()) >= n:
            raise DataError(f"{where}: edge_index refers to nodes outside 0..{n - 1}")
        cross = gi[ei[0]] != gi[ei[1]]
        if bool(cross.any()):
            k = int(cross.nonzero()[0])
            raise DataError(f"{where}: edge {k} joins node {int(ei[0, k])} of graph "
                            f"{int(gi[ei[0, k]])} to node {int(ei[1, k])} of graph "
                            f"{int(gi[ei[1, k]])}")
    if not bool(torch.isfinite(x).all()):
        node = int((~torch.isfinite(x)).any(1).nonzero()[0])
        raise DataError(f"{where}: node {node} (graph {int(gi[node])}) has non-finite features")
    return n_graphs


@dataclass
class GraphClassificationData:
    """Graphs with a class each, and the train / validation / test graph ids.

    Attributes:
        name: The data set.
        x: Node features of all graphs, concatenated ``(N, F)`` (float32).
        edge_index: Directed edges ``(2, E)`` with global node ids, each within one graph.
        graph_index: The graph of each node ``(N,)``, non-decreasing, every graph non-empty.
        y: The class of each graph ``(G,)`` (int64, 0 … ``n_classes`` − 1); with
            ``level="node"`` the class of each node ``(N,)``, ``-1`` where a node has no label.
        train_idx, val_idx, test_idx: Graph ids of each split (int64).
        n_classes: Number of classes.
        class_names: The file's label of each class (TU labels are often -1 / 1).
        meta: How the data were made or read (source, features, split rule).
        level: ``"graph"`` (a class per graph) or ``"node"`` (a class per node).
        edge_type: The type of each edge ``(E,)`` (int64, 0 … ``n_edge_types`` − 1), for
            models of typed edges (relations: ``epignn``, ``rgcn``), or None.
        n_edge_types: Number of edge types (0 without ``edge_type``).
        graph_info: Per-graph facts ``{name: (G,) tensor}`` for reports by group (e.g. the
            path length of ``relation_paths``); not used in training.
    """

    name: str
    x: Tensor
    edge_index: Tensor
    graph_index: Tensor
    y: Tensor
    train_idx: Tensor
    val_idx: Tensor
    test_idx: Tensor
    n_classes: int
    class_names: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    level: str = "graph"
    edge_type: Tensor | None = None
    n_edge_types: int = 0
    graph_info: dict[str, Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = self.name
        n_graphs = check_graph_set(self.x, self.edge_index, self.graph_index, where)
        gi, ei = self.graph_index, self.edge_index
        sizes = torch.bincount(gi, minlength=n_graphs)
        if self.level not in ("graph", "node"):
            raise DataError(f"{where}: level must be 'graph' or 'node', got {self.level!r}")
        node = self.level == "node"
        want = self.x.shape[0] if node else n_graphs
        if self.y.shape != (want,):
            what = f"node ({want})" if node else f"graph ({want})"
            raise DataError(f"{where}: y must have one class per {what}, got shape "
                            f"{tuple(self.y.shape)}")
        lo = -1 if node else 0
        if int(self.y.min()) < lo or int(self.y.max()) >= self.n_classes:
            raise DataError(f"{where}: classes must lie in 0..{self.n_classes - 1}"
                            + (" (-1: no label)" if node else ""))
        if self.n_classes < 2:
            source = f" ({self.meta['source']})" if self.meta.get("source") else ""
            raise DataError(f"{where}{source}: every {self.level} has the same class; "
                            "classification needs at least 2")
        for split in ("train_idx", "val_idx", "test_idx"):
            idx = getattr(self, split)
            if idx.dim() != 1 or (idx.numel() and (int(idx.min()) < 0
                                                    or int(idx.max()) >= n_graphs)):
                raise DataError(f"{where}: {split} must be graph ids in 0..{n_graphs - 1}")
        if not self.train_idx.numel():
            raise DataError(f"{where}: no training graph")
        if node and not bool((self.y[torch.isin(gi, self.train_idx)] >= 0).any()):
            raise DataError(f"{where}: no labelled node in the training graphs")
        if not self.class_names:
            self.class_names = [str(c) for c in range(self.n_classes)]
        if self.edge_type is not None:
            et = self.edge_type
            if et.shape != (ei.shape[1],):
                raise DataError(f"{where}: edge_type must have one type per edge "
                                f"({ei.shape[1]}), got shape {tuple(et.shape)}")
            if et.numel() and (int(et.min()) < 0 or int(et.max()) >= self.n_edge_types):
                raise DataError(f"{where}: edge types must lie in 0..{self.n_edge_types - 1}")
        for k, v in self.graph_info.items():
            if v.shape[:1] != (n_graphs,):
                raise DataError(f"{where}: graph_info[{k!r}] must have one entry per graph")
        # node and edge offsets of each graph (edges sorted by graph once)
        order = torch.argsort(gi[ei[0]], stable=True) if ei.numel() else torch.zeros(0).long()
        self.edge_index = ei[:, order]
        if self.edge_type is not None:
            self.edge_type = self.edge_type[order]
        self.node_ptr = torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)])
        edge_counts = torch.bincount(gi[self.edge_index[0]], minlength=n_graphs) \
            if ei.numel() else torch.zeros(n_graphs, dtype=torch.long)
        self.edge_ptr = torch.cat([torch.zeros(1, dtype=torch.long), edge_counts.cumsum(0)])

    @property
    def n_graphs(self) -> int:
        return int(self.node_ptr.shape[0]) - 1

    @property
    def n_features(self) -> int:
        return int(self.x.shape[1])

    def graph(self, i: int) -> tuple[Tensor, Tensor]:
        """Node features ``(n_i, F)`` and edges ``(2, e_i)`` (local node ids) of graph ``i``."""
        a, b = int(self.node_ptr[i]), int(self.node_ptr[i + 1])
        ea, eb = int(self.edge_ptr[i]), int(self.edge_ptr[i + 1])
        return self.x[a:b], self.edge_index[:, ea:eb] - a


def stratified_split(y: Tensor, fractions: tuple[float, float, float], seed: int
                     ) -> tuple[Tensor, Tensor, Tensor]:
    """Graph ids of train / validation / test: each class shuffled and cut by ``fractions``."""
    g = torch.Generator().manual_seed(seed)
    parts: list[list[Tensor]] = [[], [], []]
    for c in torch.unique(y):
        ids = (y == c).nonzero().flatten()
        ids = ids[torch.randperm(len(ids), generator=g)]
        n_train = int(round(fractions[0] * len(ids)))
        n_val = int(round(fractions[1] * len(ids)))
        parts[0].append(ids[:n_train])
        parts[1].append(ids[n_train:n_train + n_val])
        parts[2].append(ids[n_train + n_val:])
    return tuple(torch.sort(torch.cat(p)).values for p in parts)  # type: ignore[return-value]


def _check_split(split: Any) -> tuple[float, float, float]:
    if (not isinstance(split, (list, tuple)) or len(split) != 3
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                       for v in split) or not abs(sum(split) - 1) < 1e-6 or not split[0] > 0):
        raise ConfigError(f"split must be three fractions (train, validation, test) that sum to "
                          f"1 with a training fraction > 0, got {split!r}")
    return float(split[0]), float(split[1]), float(split[2])


def _labels(raw: Tensor, node: bool = False) -> tuple[Tensor, list[str]]:
    """Arbitrary integer labels (TU's -1 / 1, 1 / 2, ...) → 0 … C − 1 and their names. Node
    labels (``node``) are class ids already, ``-1`` where a node has none: kept as they are,
    named by their numbers."""
    if node:
        if int(raw.min()) < -1:
            raise DataError(f"node labels must be class ids >= 0 or -1 (no label), got "
                            f"{int(raw.min())}")
        n = int(raw.max()) + 1
        return raw.long(), [str(c) for c in range(max(n, 0))]
    values, y = torch.unique(raw, return_inverse=True)
    return y.long(), [str(int(v)) for v in values]


def planted_clique(n_graphs: int = 1000, min_nodes: int = 20, max_nodes: int = 40,
                   p: float = 0.15, clique: int = 5, seed: int = 0,
                   split: tuple[float, float, float] = (0.8, 0.1, 0.1)
                   ) -> GraphClassificationData:
    """Random graphs, half of them with a planted ``clique`` (see the module text)."""
    if not (isinstance(n_graphs, int) and n_graphs >= 10):
        raise ConfigError(f"n_graphs must be an integer >= 10, got {n_graphs!r}")
    if not (isinstance(min_nodes, int) and isinstance(max_nodes, int)
            and 2 <= clique <= min_nodes <= max_nodes):
        raise ConfigError("need integers 2 <= clique <= min_nodes <= max_nodes, got "
                          f"clique={clique!r}, min_nodes={min_nodes!r}, max_nodes={max_nodes!r}")
    if not 0 <= p <= 1:
        raise ConfigError(f"p must be an edge probability in [0, 1], got {p!r}")
    fractions = _check_split(split)
    g = torch.Generator().manual_seed(seed)
    xs, eis, owner, labels, offset = [], [], [], [], 0
    for k in range(n_graphs):
        nodes = int(torch.randint(min_nodes, max_nodes + 1, (1,), generator=g))
        a = (torch.rand(nodes, nodes, generator=g) < p).triu(1)
        label = int(torch.randint(0, 2, (1,), generator=g))
        if label:
            c = torch.randperm(nodes, generator=g)[:clique]
            a[c[:, None], c[None, :]] = True
            a = a.triu(1)
        a = a | a.T
        deg = a.sum(1, keepdim=True).float()
        xs.append(torch.cat([torch.ones(nodes, 1), deg / 10], 1))
        eis.append(a.nonzero().T + offset)
        owner.append(torch.full((nodes,), k))
        labels.append(label)
        offset += nodes
    y = torch.tensor(labels)
    tr, va, te = stratified_split(y, fractions, seed)
    return GraphClassificationData(
        "planted_clique", torch.cat(xs), torch.cat(eis, 1).long(), torch.cat(owner), y,
        tr, va, te, 2, ["no clique", "clique"],
        {"source": f"generated (seed {seed}): G({min_nodes}-{max_nodes}, {p}), clique of "
                   f"{clique} in class 1", "features": "1, degree / 10",
         "split": f"stratified {fractions} (seed {seed})"})


# ------------------------------------------------------------------------------- TU format
def _read_rows(path: Path, dtype: type, width: int | None = None) -> np.ndarray:
    """The comma-separated numbers of a TU text file, one row per line; errors name the line."""
    rows = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            text = line.strip()
            if not text:
                continue
            try:
                row = [dtype(v) for v in text.replace(" ", "").split(",")]
            except ValueError:
                kind = "integers" if dtype is int else "numbers"
                raise DataError(f"{path}, line {i}: expected {kind} separated by commas, got "
                                f"{text[:60]!r}") from None
            if width is not None and len(row) != width:
                raise DataError(f"{path}, line {i}: expected {width} value(s), got {len(row)}")
            rows.append(row)
    if not rows:
        raise DataError(f"{path}: empty file")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise DataError(f"{path}: rows of different lengths {sorted(widths)}")
    return np.asarray(rows, dtype=np.float64 if dtype is float else np.int64)


def _tu_folder(name: str, root: str | Path) -> Path:
    root = Path(root).expanduser()
    for folder in (root / name / "raw", root / name, root):
        if (folder / f"{name}_A.txt").is_file():
            return folder
    raise DataError(f"{root}: no {name}_A.txt (in {root}, {root / name} or {root / name / 'raw'})."
                    f" The TU data sets are served as zip files at "
                    f"{TU_URL.format(name=name)}; unzip one into this folder")


def load_tu(name: str, root: str | Path, split: tuple[float, float, float] = (0.8, 0.1, 0.1),
            split_seed: int = 0) -> GraphClassificationData:
    """A TU data set from its text files (see the module text)."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"tu: name must be the data set's name (e.g. MUTAG), got {name!r}")
    if root is None:
        raise ConfigError(f"tu: root must be the folder with {name}_A.txt (downloading is not "
                          f"built; the files are at {TU_URL.format(name=name)})")
    fractions = _check_split(split)
    folder = _tu_folder(name, root)
    f = {k: folder / f"{name}_{k}.txt" for k in ("A", "graph_indicator", "graph_labels",
                                                  "node_labels", "node_attributes")}
    for k in ("graph_indicator", "graph_labels"):
        if not f[k].is_file():
            raise DataError(f"{folder}: missing {f[k].name}")
    edges = _read_rows(f["A"], int, 2)
    indicator = _read_rows(f["graph_indicator"], int, 1)[:, 0]
    graph_labels = _read_rows(f["graph_labels"], int, 1)[:, 0]
    n = len(indicator)
    if int(indicator.min()) != 1:
        raise DataError(f"{f['graph_indicator']}: graph ids start at 1 in the TU format, got "
                        f"{int(indicator.min())}")
    if int(indicator.max()) != len(graph_labels):
        raise DataError(f"{f['graph_labels']}: {len(graph_labels)} label line(s) for "
                        f"{int(indicator.max())} graphs in {f['graph_indicator'].name}")
    if int(edges.min()) < 1 or int(edges.max()) > n:
        line = int(np.nonzero((edges < 1).any(1) | (edges > n).any(1))[0][0]) + 1
        raise DataError(f"{f['A']}, line {line}: node id outside 1..{n} (the nodes of "
                        f"{f['graph_indicator'].name})")
    feats, described = [], []
    if f["node_labels"].is_file():
        nl = _read_rows(f["node_labels"], int)[:, 0]
        if len(nl) != n:
            raise DataError(f"{f['node_labels']}: {len(nl)} line(s) for {n} nodes")
        values, inv = np.unique(nl, return_inverse=True)
        feats.append(np.eye(len(values))[inv])
        described.append(f"node labels one-hot ({len(values)})")
    if f["node_attributes"].is_file():
        na = _read_rows(f["node_attributes"], float)
        if len(na) != n:
            raise DataError(f"{f['node_attributes']}: {len(na)} line(s) for {n} nodes")
        feats.append(na)
        described.append(f"node attributes ({na.shape[1]})")
    if not feats:
        feats, described = [np.ones((n, 1))], ["none in the files: the constant 1"]
    y, names = _labels(torch.from_numpy(graph_labels))
    tr, va, te = stratified_split(y, fractions, split_seed)
    return GraphClassificationData(
        name, torch.from_numpy(np.concatenate(feats, 1)).float(),
        torch.from_numpy(edges.T - 1).long().contiguous(),
        torch.from_numpy(indicator - 1).long(), y, tr, va, te, len(names), names,
        {"source": str(folder), "format": "TU text files", "features": ", ".join(described),
         "split": f"stratified {fractions} (seed {split_seed})"})


# ------------------------------------------------------------------------------- own files
def graphs_from_list(items: list, where: str) -> dict[str, Tensor]:
    """Per-graph dicts (``x``, ``edge_index``[, ``y``]) → concatenated arrays."""
    xs, eis, owner, ys, types, offset = [], [], [], [], [], 0
    for k, item in enumerate(items):
        if not isinstance(item, dict) or "x" not in item or "edge_index" not in item:
            raise DataError(f"{where}: graph {k} must be a dict with x and edge_index (as "
                            f"PyG's Data.to_dict() gives), got {type(item).__name__}")
        x = torch.as_tensor(item["x"])
        x = x[:, None] if x.dim() == 1 else x
        ei = torch.as_tensor(item["edge_index"]).long()
        if ei.dim() != 2 or ei.shape[0] != 2:
            raise DataError(f"{where}: graph {k}: edge_index must be (2, E), got "
                            f"{tuple(ei.shape)}")
        if ei.numel() and (int(ei.min()) < 0 or int(ei.max()) >= x.shape[0]):
            raise DataError(f"{where}: graph {k}: edge_index refers to nodes outside "
                            f"0..{x.shape[0] - 1}")
        xs.append(x.float())
        eis.append(ei + offset)
        if item.get("edge_type") is not None:
            types.append(torch.as_tensor(item["edge_type"]).long().reshape(-1))
        owner.append(torch.full((x.shape[0],), k))
        if "y" in item and item["y"] is not None:
            ys.append(torch.as_tensor(item["y"]).reshape(-1))
        offset += x.shape[0]
    if not xs:
        raise DataError(f"{where}: no graph")
    widths = {x.shape[1] for x in xs}
    if len(widths) != 1:
        raise DataError(f"{where}: graphs have different feature widths {sorted(widths)}")
    out = {"x": torch.cat(xs), "edge_index": torch.cat(eis, 1), "graph_index": torch.cat(owner)}
    if types:
        if len(types) != len(xs):
            raise DataError(f"{where}: {len(types)} of {len(xs)} graphs have edge_type")
        out["edge_type"] = torch.cat(types)
    if ys:
        if len(ys) != len(xs):
            raise DataError(f"{where}: {len(ys)} of {len(xs)} graphs have y")
        per_node = all(len(y) == len(x) for y, x in zip(ys, xs, strict=True)) \
            and any(len(x) > 1 for x in xs)
        if not per_node:
            bad = [k for k, y in enumerate(ys) if len(y) != 1]
            if bad:
                raise DataError(f"{where}: graph {bad[0]}: y must be one class for the graph or "
                                f"one per node ({len(xs[bad[0]])}), got {len(ys[bad[0]])} "
                                "value(s)")
        out["y"] = torch.cat(ys)
    return out


def read_graph_set(path: Path, need_y: bool) -> dict[str, Tensor]:
    """``x``, ``edge_index``, ``graph_index`` [, ``y``, split ids] from ``.npz`` or ``.pt``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: torch.from_numpy(np.asarray(f[k])) for k in f.files}
        elif path.suffix == ".pt":
            obj = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(obj, (list, tuple)):
                arrays = graphs_from_list(list(obj), str(path))
            elif isinstance(obj, dict):
                arrays = {k: torch.as_tensor(v) for k, v in obj.items()
                          if isinstance(v, (Tensor, np.ndarray, list))}
            else:
                raise DataError(f"{path}: expected a dict of arrays or a list of graphs, got "
                                f"{type(obj).__name__}")
        else:
            raise DataError(f"{path}: unsupported format {path.suffix!r} (use .npz or .pt)")
    except (ValueError, OSError, RuntimeError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: cannot read ({e})") from e
    if "graph_index" not in arrays and "batch" in arrays:
        arrays["graph_index"] = arrays.pop("batch")
    keys = ("x", "edge_index", "graph_index") + (("y",) if need_y else ())
    for k in keys:
        if k not in arrays:
            raise DataError(f"{path}: missing key {k} (a graph-set file has x, edge_index, "
                            f"graph_index (or batch){', y' if need_y else ''})")
    x = arrays["x"]
    arrays["x"] = (x[:, None] if x.dim() == 1 else x).float()
    for k in ("edge_index", "graph_index", "y", "train_idx", "val_idx", "test_idx"):
        if k in arrays:
            arrays[k] = arrays[k].long().reshape(-1) if k != "edge_index" else arrays[k].long()
    return arrays


def graph_level(y: Tensor, n_nodes: int, n_graphs: int, level: str, where: str) -> str:
    """``"graph"`` or ``"node"``: as asked, or (``"auto"``) by the length of ``y``."""
    if level not in ("auto", "graph", "node"):
        raise ConfigError(f"level must be auto, graph or node, got {level!r}")
    want = {"graph": n_graphs, "node": n_nodes}
    if level == "auto":
        level = "graph" if len(y) == n_graphs else "node" if len(y) == n_nodes else ""
        if not level:
            raise DataError(f"{where}: y has {len(y)} value(s): neither one per graph "
                            f"({n_graphs}) nor one per node ({n_nodes})")
    elif len(y) != want[level]:
        raise DataError(f"{where}: level {level}: y must have {want[level]} value(s) (one per "
                        f"{level}), got {len(y)}")
    return level


def load_graph_file(path: str | Path, split: tuple[float, float, float] = (0.8, 0.1, 0.1),
                    split_seed: int = 0, name: str | None = None, level: str = "auto"
                    ) -> GraphClassificationData:
    """Your own graphs from ``.npz`` / ``.pt`` (see the module text); ``level``: ``auto`` (a
    class per graph or per node, by the length of ``y``), ``graph`` or ``node``."""
    if path is None:
        raise ConfigError("graph_file: path is required (an .npz or .pt file of graphs)")
    fractions = _check_split(split)
    path = Path(path).expanduser()
    a = read_graph_set(path, need_y=True)
    n_graphs = int(a["graph_index"].max()) + 1 if a["graph_index"].numel() else 0
    level = graph_level(a["y"], a["x"].shape[0], n_graphs, level, str(path))
    y, names = _labels(a["y"], node=level == "node")
    given = [k for k in ("train_idx", "val_idx", "test_idx") if k in a]
    if given and len(given) != 3:
        raise DataError(f"{path}: has {', '.join(given)} but not all of train_idx, val_idx, "
                        "test_idx")
    if given:
        tr, va, te = a["train_idx"], a["val_idx"], a["test_idx"]
        rule = "the file's train_idx / val_idx / test_idx"
    elif level == "node":
        tr, va, te = stratified_split(torch.zeros(n_graphs, dtype=torch.long), fractions,
                                      split_seed)
        rule = f"random {fractions} of the graphs (seed {split_seed})"
    else:
        tr, va, te = stratified_split(y, fractions, split_seed)
        rule = f"stratified {fractions} (seed {split_seed})"
    typed = {}
    if "edge_type" in a:
        et = a["edge_type"].long().reshape(-1)
        typed = {"edge_type": et, "n_edge_types": int(et.max()) + 1 if et.numel() else 0}
    return GraphClassificationData(
        name or path.stem, a["x"], a["edge_index"], a["graph_index"], y, tr, va, te,
        len(names), names, {"source": str(path), "split": rule}, level, **typed)


def _register() -> None:
    from sciml.registry import DATASETS

    @dataclass(frozen=True)
    class PlantedCliqueConfig:
        """Options of ``planted_clique``: ``n_graphs``, ``min_nodes``, ``max_nodes``, edge
        probability ``p``, ``clique`` size, ``seed`` (graphs and split), ``split`` fractions."""

        n_graphs: int = 1000
        min_nodes: int = 20
        max_nodes: int = 40
        p: float = 0.15
        clique: int = 5
        seed: int = 0
        split: tuple = (0.8, 0.1, 0.1)

    @dataclass(frozen=True)
    class TUConfig:
        """Options of ``tu``: ``name`` (e.g. MUTAG), ``root`` (the folder with its text files),
        ``split`` fractions and ``split_seed``."""

        name: str = "MUTAG"
        root: str | None = None
        split: tuple = (0.8, 0.1, 0.1)
        split_seed: int = 0

    @dataclass(frozen=True)
    class GraphFileConfig:
        """Options of ``graph_file``: ``path`` (.npz / .pt), ``split`` fractions and
        ``split_seed`` (unless the file has train_idx / val_idx / test_idx), ``name``, ``level``
        (auto, graph or node: a class per graph or per node)."""

        path: str | None = None
        split: tuple = (0.8, 0.1, 0.1)
        split_seed: int = 0
        name: str | None = None
        level: str = "auto"

    def build_clique(cfg: PlantedCliqueConfig) -> GraphClassificationData:
        return planted_clique(cfg.n_graphs, cfg.min_nodes, cfg.max_nodes, cfg.p, cfg.clique,
                              cfg.seed, tuple(cfg.split))

    def build_tu(cfg: TUConfig) -> GraphClassificationData:
        return load_tu(cfg.name, cfg.root, tuple(cfg.split), cfg.split_seed)

    def build_file(cfg: GraphFileConfig) -> GraphClassificationData:
        return load_graph_file(cfg.path, tuple(cfg.split), cfg.split_seed, cfg.name,
                               cfg.level)

    build_clique.__doc__, build_tu.__doc__ = planted_clique.__doc__, load_tu.__doc__
    build_file.__doc__ = load_graph_file.__doc__
    for name, cfg, fn in (("planted_clique", PlantedCliqueConfig, build_clique),
                          ("tu", TUConfig, build_tu), ("graph_file", GraphFileConfig, build_file)):
        if name not in DATASETS:
            DATASETS.register(name, cfg)(fn)


_register()
