"""Graphs, grids, meshes, spatiotemporal series, and their storage.

``Graph``, ``Batch``, ``Mesh`` and ``MeshGraph`` load torch_geometric (seconds of import time), so
they are imported on first use; everything else loads eagerly.
"""

from typing import TYPE_CHECKING, Any

from sciml.data._atomic import atomic_torch_save, atomic_write, write_json, write_yaml
from sciml.data._grid import Boundary, Grid
from sciml.data._scalers import (
    AbstractScaler,
    IdentityScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
    make_scaler,
)
from sciml.data._spatiotemporal import SpatioTemporal, infer_frequency
from sciml.data._storage import (
    DownloadError,
    cache_dir,
    content_hash,
    download,
    ensure_file,
    extract_archive,
    file_sha256,
    open_hdf5,
    read_hdf5,
    read_netcdf,
    write_hdf5,
    write_netcdf,
)
from sciml.data._windows import TemporalSplit, Windows, temporal_split

__all__ = [
    "Graph",
    "Batch",
    "Grid",
    "Boundary",
    "Mesh",
    "MeshGraph",
    "SpatioTemporal",
    "infer_frequency",
    "Windows",
    "TemporalSplit",
    "temporal_split",
    "AbstractScaler",
    "StandardScaler",
    "MinMaxScaler",
    "RobustScaler",
    "IdentityScaler",
    "make_scaler",
    "cache_dir",
    "content_hash",
    "file_sha256",
    "write_hdf5",
    "read_hdf5",
    "open_hdf5",
    "write_netcdf",
    "read_netcdf",
    "download",
    "ensure_file",
    "extract_archive",
    "DownloadError",
    "atomic_write",
    "atomic_torch_save",
    "write_json",
    "write_yaml",
]

_LAZY = {"Graph": "_graph", "Batch": "_graph", "Mesh": "_mesh", "MeshGraph": "_mesh"}

if TYPE_CHECKING:
    from sciml.data._graph import Batch, Graph
    from sciml.data._mesh import Mesh, MeshGraph


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"sciml.data.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sciml.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
