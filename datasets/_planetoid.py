"""Citation graphs for node classification: Cora and CiteSeer with their public Planetoid splits.

Yang, Cohen, Salakhutdinov, *Revisiting Semi-Supervised Learning with Graph Embeddings*, ICML 2016
(the files of kimiyoung/planetoid ``data/``), as Kipf and Welling (ICLR 2017) and Veličković et
al. (ICLR 2018) use them: bag-of-words node features, one class per paper, 20 labelled nodes per
class for training, 500 for validation and 1000 for testing.

The files are Python pickles; they are read only through PyG's ``Planetoid`` reader (which
processes them offline once they are in ``<cache>/planetoid/<Name>/raw``). ``root`` names a
folder already holding ``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}`` (copied into the
cache after their SHA-256 is checked); without it the files are downloaded from the planetoid
repository, checked the same way.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from sciml.data import atomic_write, cache_dir, download, file_sha256
from sciml.errors import ConfigError, DataError

__all__ = ["NodeClassificationData", "load_planetoid", "PLANETOID_URL", "PLANETOID_NAMES",
           "FEATURE_TRANSFORMS", "row_sum_normalize"]

PLANETOID_URL = "https://github.com/kimiyoung/planetoid/raw/master/data"
PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer"}
_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_SHA256 = {
    "cora": {
        "x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
        "ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    },
    "citeseer": {
        "x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
        "tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
        "allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
        "y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
        "ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
        "ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
        "graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
        "test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    },
}


def row_sum_normalize(x: Tensor) -> Tensor:
    """Each row divided by its sum (rows summing to 0 are left at 0)."""
    return x / x.sum(1, keepdim=True).clamp_min(1e-12)


#: Feature transforms a node data set may declare, by name (None: the features as they are).
FEATURE_TRANSFORMS = {None: lambda x: x, "row_sum": row_sum_normalize}


@dataclass
class NodeClassificationData:
    """One graph with a class per node and its train / validation / test node masks.

    Attributes:
        name: The data set.
        x: Node features ``(N, F)`` (float32).
        y: Classes ``(N,)`` (int64, 0 … ``n_classes`` − 1).
        edge_index: Directed edges ``(2, E)`` (both directions of an undirected graph).
        train_mask, val_mask, test_mask: Boolean ``(N,)``.
        n_classes: Number of classes.
        feature_transform: What was done to the file's features to give ``x``: ``None``, or
            ``"row_sum"`` (each row divided by its sum, as the Planetoid papers; a trained run
            applies the same to the features given to predict).
    """

    name: str
    x: Tensor
    y: Tensor
    edge_index: Tensor
    train_mask: Tensor
    val_mask: Tensor
    test_mask: Tensor
    n_classes: int
    feature_transform: str | None = None

    def __post_init__(self) -> None:
        n = self.x.shape[0] if self.x.dim() == 2 else -1
        if n < 1:
            raise DataError(f"{self.name}: x must be (nodes, features), got {tuple(self.x.shape)}")
        for field in ("y", "train_mask", "val_mask", "test_mask"):
            v = getattr(self, field)
            if v.shape != (n,):
                raise DataError(f"{self.name}: {field} must have shape ({n},), got "
                                f"{tuple(v.shape)}")
        if self.edge_index.dim() != 2 or self.edge_index.shape[0] != 2:
            raise DataError(f"{self.name}: edge_index must be (2, E), got "
                            f"{tuple(self.edge_index.shape)}")
        if self.edge_index.numel() and (int(self.edge_index.min()) < 0
                                        or int(self.edge_index.max()) >= n):
            raise DataError(f"{self.name}: edge_index refers to nodes outside 0..{n - 1}")
        if not torch.isfinite(self.x).all():
            bad = int((~torch.isfinite(self.x)).any(1).nonzero()[0])
            raise DataError(f"{self.name}: node {bad} has non-finite features")
        if int(self.y.min()) < 0 or int(self.y.max()) >= self.n_classes:
            raise DataError(f"{self.name}: classes must lie in 0..{self.n_classes - 1}")
        if not bool(self.train_mask.any()):
            raise DataError(f"{self.name}: no training node")
        if self.feature_transform not in FEATURE_TRANSFORMS:
            raise DataError(f"{self.name}: feature_transform must be one of "
                            f"{list(FEATURE_TRANSFORMS)}, got {self.feature_transform!r}")

    @property
    def n_nodes(self) -> int:
        return int(self.x.shape[0])

    def __repr__(self) -> str:
        return (f"NodeClassificationData({self.name}: {self.n_nodes} nodes, "
                f"{self.edge_index.shape[1]} edges, {self.x.shape[1]} features, "
                f"{self.n_classes} classes; {int(self.train_mask.sum())} / "
                f"{int(self.val_mask.sum())} / {int(self.test_mask.sum())} train / val / test)")


def _raw_files(key: str, root: str | os.PathLike | None) -> Path:
    """The cache folder PyG's reader processes, holding the eight checked raw files."""
    base = cache_dir() / "planetoid"
    raw = base / PLANETOID_NAMES[key] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for part in _PARTS:
        fname = f"ind.{key}.{part}"
        dest, sha = raw / fname, _SHA256[key][part]
        if dest.is_file() and file_sha256(dest) == sha:
            continue
        if root is not None:
            src = Path(root) / fname
            if not src.is_file():
                raise DataError(f"{src}: missing (the Planetoid files of {key} are "
                                f"ind.{key}.{{{','.join(_PARTS)}}}, from {PLANETOID_URL})")
            if file_sha256(src) != sha:
                raise DataError(f"{src}: sha256 differs from the Planetoid release's (a "
                                f"damaged or other file)")
            with atomic_write(dest) as tmp:
                shutil.copyfile(src, tmp)
        else:
            download(f"{PLANETOID_URL}/{fname}", dest, sha256=sha)
    return base


def load_planetoid(name: str = "cora", root: str | os.PathLike | None = None,
                   normalize_features: bool = True) -> NodeClassificationData:
    """Cora or CiteSeer with the public split (see the module text).

    Args:
        name: ``"cora"`` or ``"citeseer"`` (any case).
        root: A folder with the raw ``ind.<name>.*`` files; None downloads them into the cache.
        normalize_features: Divide each node's bag-of-words row by its sum, as Kipf and
            Welling's and Veličković et al.'s preprocessing does (rows of zeros stay zero).
    """
    key = str(name).lower()
    if key not in PLANETOID_NAMES:
        raise ConfigError(f"planetoid name must be one of {sorted(PLANETOID_NAMES)}, got "
                          f"{name!r}")
    base = _raw_files(key, root)
    from torch_geometric.datasets import Planetoid

    try:
        ds = Planetoid(str(base), PLANETOID_NAMES[key])
    except Exception as e:  # PyG's reader: say which files
        raise DataError(f"{base / PLANETOID_NAMES[key]}: PyG's Planetoid reader failed "
                        f"({type(e).__name__}: {e})") from e
    d = ds[0]
    x = d.x.float()
    if normalize_features:
        x = row_sum_normalize(x)
    return NodeClassificationData(
        name=PLANETOID_NAMES[key], x=x, y=d.y.long(), edge_index=d.edge_index.long(),
        train_mask=d.train_mask.bool(), val_mask=d.val_mask.bool(),
        test_mask=d.test_mask.bool(), n_classes=int(ds.num_classes),
        feature_transform="row_sum" if normalize_features else None)


def _register() -> None:
    from dataclasses import dataclass as _dc

    from sciml.registry import DATASETS

    @_dc(frozen=True)
    class PlanetoidConfig:
        """Options of the ``planetoid`` data set: ``name`` (cora, citeseer), ``root`` (a
        folder with the raw files; null downloads them into the cache), ``normalize_features``
        (row sums of one, as the papers)."""

        name: str = "cora"
        root: str | None = None
        normalize_features: bool = True

    def build(cfg: PlanetoidConfig) -> NodeClassificationData:
        return load_planetoid(cfg.name, cfg.root, cfg.normalize_features)

    build.__doc__ = load_planetoid.__doc__
    if "planetoid" not in DATASETS:
        DATASETS.register("planetoid", PlanetoidConfig)(build)


_register()
