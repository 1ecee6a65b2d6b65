"""Readers of published PDE data formats: FNO's .mat, neuraloperator's .pt, PDEBench HDF5.

Every reader returns ``(x, y)`` float32 tensors in the channel-first layout of :class:`PDEData`:
operator data ``x (n, c_in, *spatial)``, ``y (n, c_out, *spatial)``; time-dependent data the first
frame ``x (n, c, *spatial)`` and the trajectory ``y (n, T, c, *spatial)``. A malformed file raises
:class:`DataError` naming the file and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sciml.data import open_hdf5
from sciml.errors import DataError

__all__ = ["load_fno_mat", "load_neuraloperator_pt", "load_pdebench_hdf5", "FNO_MAT_KEYS",
           "PDEBENCH_KINDS"]

#: Kind -> (input key, output key) of FNO's .mat files (Li et al., ICLR 2021).
FNO_MAT_KEYS = {"darcy": ("coeff", "sol"), "navier_stokes": ("a", "u"), "burgers": ("a", "u")}
#: Layouts :func:`load_pdebench_hdf5` reads.
PDEBENCH_KINDS = ("darcy", "burgers", "ns_incom", "groups")


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    return path


def _check_n_stride(n: int | None, stride: int) -> None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be None or an int >= 1, got {n!r}")
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride must be an int >= 1, got {stride!r}")


def _f32(a: np.ndarray) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _mat_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Variable name -> shape (MATLAB order) of a .mat file, without reading the data."""
    import h5py

    if h5py.is_hdf5(path):
        try:
            with h5py.File(path, "r") as f:
                return {k: tuple(reversed(f[k].shape)) for k in f.keys()
                        if isinstance(f[k], h5py.Dataset)}
        except OSError as e:
            raise DataError(f"{path}: cannot read as MATLAB v7.3 / HDF5 (truncated or "
                            f"corrupt?): {e}") from e
    import scipy.io

    try:
        return {name: tuple(shape) for name, shape, _ in scipy.io.whosmat(path)}
    except Exception as e:  # scipy raises ValueError, TypeError, OSError, ... for bad bytes
        raise DataError(f"{path}: cannot read as a MATLAB .mat file (truncated or corrupt?): "
                        f"{type(e).__name__}: {e}") from e


def _read_mat(path: Path, wanted: tuple[str, ...], n: int | None) -> dict[str, np.ndarray]:
    """Variables of a MATLAB file: v7.3 (HDF5) through h5py, older versions through scipy.

    v7.3 stores arrays in MATLAB's column-major order, so h5py sees every axis reversed; they are
    transposed back here.
    """
    import h5py

    if h5py.is_hdf5(path):
        try:
            with h5py.File(path, "r") as f:
                _require(path, [k for k in f.keys() if isinstance(f[k], h5py.Dataset)], wanted)
                out = {}
                for k in wanted:
                    ds = f[k]
                    # samples are the last HDF5 axis: read only the first n of them
                    sel = (slice(None),) * (ds.ndim - 1) + (slice(0, n),)
                    out[k] = np.transpose(ds[sel])
                return out
        except OSError as e:
            raise DataError(f"{path}: cannot read as MATLAB v7.3 / HDF5 (truncated or "
                            f"corrupt?): {e}") from e
    import scipy.io

    try:
        data = scipy.io.loadmat(path, variable_names=list(wanted))
    except Exception as e:  # scipy raises ValueError, TypeError, OSError, ... for bad bytes
        raise DataError(f"{path}: cannot read as a MATLAB .mat file (truncated or corrupt?): "
                        f"{type(e).__name__}: {e}") from e
    if any(k not in data for k in wanted):  # name every variable of the file, not the filtered
        _require(path, list(_mat_shapes(path)), wanted)
    return {k: np.asarray(data[k])[:n] for k in wanted}


def _require(path: Path, found: list[str], expected: tuple[str, ...] | list[str]) -> None:
    missing = [k for k in expected if k not in found]
    if missing:
        raise DataError(f"{path}: missing keys {missing}; keys found: {sorted(found)}; keys "
                        f"expected: {list(expected)}")


def load_fno_mat(
    path: str | os.PathLike, kind: str | None = None, n: int | None = None, stride: int = 1
) -> tuple[Tensor, Tensor]:
    """Read one of FNO's .mat data files (Li et al., "Fourier Neural Operator", ICLR 2021).

    Layouts (MATLAB order; v7.3 files are transposed back): Darcy ``coeff`` / ``sol``
    ``(n, s, s)``; Navier–Stokes ``a`` ``(n, s, s)`` and ``u`` ``(n, s, s, T)``; Burgers ``a``
    ``(n, s)`` and ``u`` ``(n, s)`` (the state at t = 1) or ``(n, s, T)``. The files are on
    Google Drive (not directly downloadable); see :func:`fno_file`.

    Args:
        path: The .mat file (MATLAB v5 / v7 through scipy, v7.3 through h5py).
        kind: ``"darcy"``, ``"navier_stokes"`` or ``"burgers"``; None infers it from the keys
            (``coeff``/``sol`` → Darcy) and the rank of ``a`` (2-D → NS, 1-D → Burgers).
        n: Read only the first ``n`` samples.
        stride: Keep every ``stride``-th grid point (FNO's ``r``: 421 → 85 with 5).

    Returns:
        Darcy: ``x = a (n, 1, s, s)``, ``y = u (n, 1, s, s)``. NS: ``x = w_0 (n, 1, s, s)``,
        ``y (n, T, 1, s, s)``. Burgers: ``x = u_0 (n, 1, s)``, ``y (n, T, 1, s)`` (T = 1 for the
        final-state files).

    Raises:
        DataError: Corrupt or truncated file, unexpected keys (names the keys found and
            expected) or inconsistent shapes.
    """
    if kind is not None and kind not in FNO_MAT_KEYS:
        raise ValueError(f"kind must be None or one of {list(FNO_MAT_KEYS)}, got {kind!r}")
    _check_n_stride(n, stride)
    path = _existing(path)
    if kind is None:
        shapes = _mat_shapes(path)
        names = list(shapes)
        if {"coeff", "sol"} <= set(names):
            kind = "darcy"
        elif {"a", "u"} <= set(names):
            kind = "navier_stokes" if len(shapes["a"]) == 3 else "burgers"
        else:
            raise DataError(f"{path}: unexpected keys {sorted(names)}; expected one of "
                            f"{sorted({tuple(v) for v in FNO_MAT_KEYS.values()})} (FNO layouts)")
    key_in, key_out = FNO_MAT_KEYS[kind]
    data = _read_mat(path, (key_in, key_out), n)
    a, u = data[key_in], data[key_out]
    d = 2 if kind in ("darcy", "navier_stokes") else 1
    if a.ndim != d + 1:
        dims = ", ".join(["s"] * d)
        raise DataError(f"{path}: {key_in!r} has shape {a.shape}; expected (n, {dims}) for {kind}")
    if kind == "darcy":
        if u.shape != a.shape:
            raise DataError(f"{path}: 'sol' has shape {u.shape}, 'coeff' {a.shape}; expected equal")
        s = (slice(None), None, slice(None, None, stride), slice(None, None, stride))
        return _f32(a[s]), _f32(u[s])
    if kind == "navier_stokes":
        if u.ndim != 4 or u.shape[:3] != a.shape:
            raise DataError(f"{path}: 'u' has shape {u.shape}; expected (n, s, s, T) with "
                            f"(n, s, s) = {a.shape} of 'a'")
        traj = np.moveaxis(u, 3, 1)[:, :, None, ::stride, ::stride]
        return _f32(a[:, None, ::stride, ::stride]), _f32(traj)
    if u.shape == a.shape:
        traj = u[:, None, None, :]
    elif u.ndim == 3 and u.shape[:2] == a.shape:
        traj = np.moveaxis(u, 2, 1)[:, :, None, :]
    elif u.ndim == 3 and (u.shape[0], u.shape[2]) == a.shape:
        traj = u[:, :, None, :]
    else:
        raise DataError(f"{path}: 'u' has shape {u.shape}; expected (n, s), (n, s, T) or "
                        f"(n, T, s) with (n, s) = {a.shape} of 'a'")
    return _f32(a[:, None, ::stride]), _f32(traj[..., ::stride])


def load_neuraloperator_pt(path: str | os.PathLike) -> tuple[Tensor, Tensor, dict[str, Any]]:
    """Read a neuraloperator ``.pt`` data file (``torch.save`` of a dict with ``x``, ``y``).

    Kossaifi et al., neuraloperator (``neuralop/data/datasets/data``): Darcy ``x`` bool
    ``(n, s, s)`` permeability, ``y`` ``(n, s, s)`` pressure; Burgers ``x`` ``(n, s)`` initial
    state, ``y`` ``(n, T, s)`` snapshots and ``visc``. Loaded with ``weights_only=True``.

    The shipped Darcy 16² files hold 16 nodes of a 17-node vertex grid: row and column 0 lie on
    the zero boundary (mean |y| 0.003 there), the far boundary would be node 16 and is not
    stored (mean |y| 0.17 on row 15; the mean field is mirror-symmetric about node 8). That is
    what FNO's ``[::r][:s]`` subsampling of a finer grid would leave (the generator itself is
    undocumented). Coordinates are still given as ``linspace(0, 1, s)``.

    Returns:
        ``(x, y, extra)``: ``x (n, 1, *spatial)``; ``y (n, 1, *spatial)`` when it has the rank
        of ``x``, else the trajectory ``(n, T, 1, *spatial)``; ``extra`` the other entries as
        Python numbers or tensors (e.g. ``{"visc": 0.01}``).
    """
    path = _existing(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle / zip errors differ by torch version
        raise DataError(f"{path}: cannot load as a torch file (truncated or corrupt?): "
                        f"{type(e).__name__}: {e}") from e
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a dict with keys ['x', 'y'], got {type(data).__name__}")
    _require(path, [str(k) for k in data], ("x", "y"))
    x, y = data["x"], data["y"]
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise DataError(f"{path}: 'x' and 'y' must be tensors, got {type(x).__name__}, "
                        f"{type(y).__name__}")
    if x.dim() < 2 or x.shape[0] != y.shape[0]:
        raise DataError(f"{path}: 'x' {tuple(x.shape)} and 'y' {tuple(y.shape)} must be "
                        "(n, *spatial) with the same n")
    spatial = x.shape[1:]
    if y.dim() == x.dim() and y.shape[1:] == spatial:
        y_out = y[:, None]
    elif y.dim() == x.dim() + 1 and y.shape[2:] == spatial:
        y_out = y[:, :, None]
    else:
        raise DataError(f"{path}: 'y' has shape {tuple(y.shape)}; expected (n, *spatial) or "
                        f"(n, T, *spatial) with spatial {tuple(spatial)} of 'x'")
    extra: dict[str, Any] = {}
    for k, v in data.items():
        if k in ("x", "y"):
            continue
        extra[str(k)] = v.item() if isinstance(v, Tensor) and v.numel() == 1 else v
    return x[:, None].to(torch.float32), y_out.to(torch.float32), extra


def load_pdebench_hdf5(
    path: str | os.PathLike, kind: str | None = None, n: int | None = None, stride: int = 1
) -> tuple[Tensor, Tensor]:
    """Read a PDEBench HDF5 file (Takamoto et al., "PDEBench", NeurIPS 2022 Datasets).

    Layouts:
        ``"darcy"`` (2D_DarcyFlow_beta*.hdf5): ``nu (n, s, s)`` coefficient, ``tensor
        (n, 1, s, s)`` solution → ``x (n, 1, s, s)``, ``y (n, 1, s, s)``.
        ``"burgers"`` (1D_Burgers_Sols_Nu*.hdf5, also 1-D advection): ``tensor (n, T, s)`` with
        ``x-coordinate (s,)``, ``t-coordinate`` → ``x = tensor[:, 0]`` ``(n, 1, s)``,
        ``y = tensor[:, 1:]`` ``(n, T-1, 1, s)``.
        ``"ns_incom"`` (ns_incom_inhom_2d_512-*.h5): ``velocity (n, T, s, s, 2)`` (also
        ``particles``, ``force``, ``t``; only the velocity is read) → ``x (n, 2, s, s)``,
        ``y (n, T-1, 2, s, s)``.
        ``"groups"`` (1D_diff-sorp_NA_NA.h5, 2D_diff-react_NA_NA.h5): one group per sample
        (``0000``, ``0001``, ...) with ``data (T, *spatial, c)``, ``grid/x`` (and ``grid/y``),
        ``grid/t`` → ``x (n, c, *spatial)``, ``y (n, T-1, c, *spatial)``.

    Args:
        path: The file.
        kind: One of :data:`PDEBENCH_KINDS`; None infers it from the keys.
        n: Read only the first ``n`` samples.
        stride: Keep every ``stride``-th grid point.

    Raises:
        DataError: Corrupt / truncated file, unexpected keys (names those found and expected),
            or inconsistent shapes.
    """

    if kind is not None and kind not in PDEBENCH_KINDS:
        raise ValueError(f"kind must be None or one of {list(PDEBENCH_KINDS)}, got {kind!r}")
    _check_n_stride(n, stride)
    path = _existing(path)
    f = open_hdf5(path)
    try:
        with f:
            return _read_pdebench(f, path, kind, n, stride)
    except (OSError, KeyError, RuntimeError) as e:
        raise DataError(f"{path}: cannot read (truncated or corrupt?): {e}") from e


def _read_pdebench(f: Any, path: Path, kind: str | None, n: int | None,
                   stride: int) -> tuple[Tensor, Tensor]:
    import h5py

    keys = sorted(f.keys())
    if kind is None:
        if {"nu", "tensor"} <= set(keys):
            kind = "darcy"
        elif "velocity" in keys:
            kind = "ns_incom"
        elif "tensor" in keys:
            kind = "burgers"
        elif keys and isinstance(f[keys[0]], h5py.Group) and "data" in f[keys[0]]:
            kind = "groups"
        else:
            raise DataError(f"{path}: unexpected keys {keys}; expected a PDEBench layout: "
                            "['nu', 'tensor'] (Darcy), ['tensor', 'x-coordinate', "
                            "'t-coordinate'] (1-D), ['velocity', ...] (NS) or per-sample groups "
                            "['0000/data', '0000/grid/x', '0000/grid/t']")
    sp = slice(None, None, stride)
    if kind == "darcy":
        _require(path, keys, ("nu", "tensor"))
        a, u = f["nu"][:n], f["tensor"][:n]
        if a.ndim != 3 or u.shape != (a.shape[0], 1, *a.shape[1:]):
            raise DataError(f"{path}: 'nu' {a.shape} and 'tensor' {u.shape}; expected "
                            "(n, s, s) and (n, 1, s, s)")
        return _f32(a[:, None, sp, sp]), _f32(u[:, :, sp, sp])
    if kind == "burgers":
        _require(path, keys, ("tensor", "x-coordinate"))
        u = f["tensor"][:n]
        xs = f["x-coordinate"].shape
        if u.ndim != 3 or u.shape[1] < 2 or xs != (u.shape[2],):
            raise DataError(f"{path}: 'tensor' {u.shape} with 'x-coordinate' {xs}; expected "
                            "(n, T >= 2, s) and (s,)")
        return _f32(u[:, 0, None, sp]), _f32(u[:, 1:, None, sp])
    if kind == "ns_incom":
        _require(path, keys, ("velocity",))
        v = f["velocity"][:n]
        if v.ndim != 5 or v.shape[1] < 2 or v.shape[-1] != 2:
            raise DataError(f"{path}: 'velocity' has shape {v.shape}; expected "
                            "(n, T >= 2, s, s, 2)")
        v = np.moveaxis(v, -1, 2)[..., sp, sp]  # (n, T, 2, s, s)
        return _f32(v[:, 0]), _f32(v[:, 1:])
    return _read_groups(f, path, keys, n, sp)


def _read_groups(f: Any, path: Path, keys: list[str], n: int | None,
                 sp: slice) -> tuple[Tensor, Tensor]:
    samples = [k for k in keys if k.isdigit()][:n]
    if not samples:
        raise DataError(f"{path}: no per-sample groups; keys found: {keys}; expected "
                        "['0000', '0001', ...] each with 'data' and 'grid/x', 'grid/t'")
    frames = []
    for k in samples:
        g = f[k]
        _require(path, [f"{k}/{m}" for m in _members(g)], (f"{k}/data", f"{k}/grid/x",
                                                             f"{k}/grid/t"))
        data = g["data"][()]
        d = data.ndim - 2
        grid = [g["grid"][ax].shape[0] for ax in ("x", "y", "z")[:d] if ax in g["grid"]]
        if d < 1 or data.shape[0] < 2 or list(data.shape[1:-1]) != grid \
                or g["grid"]["t"].shape[0] != data.shape[0]:
            raise DataError(f"{path}: sample {k}: 'data' has shape {data.shape}; expected "
                            f"(T >= 2, *spatial, c) matching grid sizes {grid} and "
                            f"t {g['grid']['t'].shape}")
        frames.append(np.moveaxis(data, -1, 1)[(slice(None), slice(None)) + (sp,) * d])
    if len({a.shape for a in frames}) != 1:
        shapes = sorted({a.shape for a in frames})
        raise DataError(f"{path}: samples have different shapes {shapes}")
    stack = np.stack(frames)  # (n, T, c, *spatial)
    return _f32(stack[:, 0]), _f32(stack[:, 1:])


def _members(group: Any) -> list[str]:
    out: list[str] = []
    group.visit(out.append)
    return out
