"""Operator data from a user's own arrays (the data set ``arrays``): input/output pairs on a grid,
read from .npy / .npz / HDF5 / .pt / .mat files (see :func:`read_array`), any resolution.

Layout rule (``layout: auto``). Each array is ``(n, *grid)``, ``(n, c, *grid)`` or
``(n, *grid, c)``; x and y share the grid (y's time axis, for trajectories, aside):

- x and y of the same rank: no channel axis; every axis after the samples is a grid axis and each
  field gets one channel (neuraloperator's Darcy ``x``, ``y`` ``(n, s, s)``; FNO's ``coeff``,
  ``sol``);
- one rank apart: the lower one is ``(n, *grid)`` (one channel); the other has one more axis, the
  channel axis, first or last, whichever leaves the same grid (an array where both would, e.g.
  ``(n, 8, 8, 8)`` against ``(n, 8, 8)``, needs ``layout``).

``layout: channel_first`` / ``channel_last`` says where the channel axis is: arrays of the higher
rank of the two have one (``ndim = rank - 2`` grid axes); an array one rank lower has none. Fields
of several channels stored channel-last in both x and y (PDEBench's ``(n, s, s, c)``) therefore
need ``layout: channel_last``: auto would read them as a 3-D grid, so auto refuses a grid axis of
fewer than 4 points with that hint (an explicit layout allows any axis of 2 points or more).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from sciml.datasets._pde_arrays_io import read_array
from sciml.datasets._pde_data import PDEData
from torch import Tensor

from sciml.errors import ConfigError, DataError

__all__ = ["load_arrays", "read_grid_fields", "ARRAY_LAYOUTS"]

#: Values of the ``layout`` option.
ARRAY_LAYOUTS = ("auto", "channel_first", "channel_last")
_OPT = "data.options"

# channel position of one array: None (no channel axis), "first" or "last"
_Pos = Literal["first", "last"] | None


class _Array:
    """An array read from a file, with where it came from (for messages)."""

    def __init__(self, path: str, key: str, option: str, single: bool) -> None:
        self.path, self.key, self.option = Path(path), key, option
        self.where = f"{path} ({_OPT}.{option})"
        self.name = f"{self.where}: {'the array' if single else repr(key)}"
        self.data = read_array(path, key, option=f"{_OPT}.{option}")

    def __len__(self) -> int:
        return int(self.data.shape[0])


def _single(path: str) -> bool:
    return Path(path).suffix.lower() == ".npy"


def _positions(x: tuple[int, ...], y: tuple[int, ...], layout: str, names: tuple[str, str]
               ) -> tuple[_Pos, _Pos]:
    """Channel positions of x and y from their shapes without the sample (and time) axes."""
    rx, ry = len(x), len(y)
    hint = f"set {_OPT}.layout (channel_first or channel_last)"
    if layout == "auto":
        if rx == ry:
            return None, None
        if abs(rx - ry) != 1:
            raise DataError(f"{names[0]} has shape (n, {_dims(x)}) and {names[1]} (n, {_dims(y)}):"
                            " expected the same grid, with at most one channel axis more in one")
        low, high = (x, y) if rx < ry else (y, x)
        first, last = high[1:] == low, high[:-1] == low
        if first and last:
            raise DataError(f"{names[0]} (n, {_dims(x)}) and {names[1]} (n, {_dims(y)}): the "
                            f"channel axis may be first or last; {hint}")
        if not (first or last):
            raise DataError(f"{names[0]} has grid ({_dims(x)}) and {names[1]} ({_dims(y)}): no "
                            "channel axis first or last leaves the same grid")
        pos: _Pos = "first" if first else "last"
        return (None, pos) if rx < ry else (pos, None)
    side: _Pos = "first" if layout == "channel_first" else "last"
    rank = max(rx, ry)
    out = []
    for shape in (x, y):
        if len(shape) not in (rank, rank - 1):
            raise DataError(f"{names[0]} has shape (n, {_dims(x)}) and {names[1]} "
                            f"(n, {_dims(y)}): with layout {layout} expected at most one axis more "
                            f"in one of them")
        out.append(side if len(shape) == rank else None)
    if rank < 2:
        raise DataError(f"{names[0]} (n, {_dims(x)}) with layout {layout}: no grid axis is left "
                        "besides the channel axis")
    return out[0], out[1]


def _dims(shape: tuple[int, ...]) -> str:
    return ", ".join(str(s) for s in shape)


def _grid(shape: tuple[int, ...], pos: _Pos) -> tuple[int, ...]:
    return shape if pos is None else shape[1:] if pos == "first" else shape[:-1]


def _to_channel_first(a: np.ndarray, pos: _Pos, lead: int) -> Tensor:
    """``lead`` leading axes (samples, time) kept; the channel axis moved right after them."""
    if pos is None:
        a = np.expand_dims(a, lead)
    elif pos == "last":
        a = np.moveaxis(a, -1, lead)
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _extent(extent: float | list | None, grid: tuple[int, ...], source: str
            ) -> tuple[tuple[float, float], ...]:
    where, ndim = f"{_OPT}.extent", len(grid)
    if extent is None:
        return ((0.0, 1.0),) * ndim
    entries = [extent] * ndim if isinstance(extent, (int, float)) else list(extent)
    if len(entries) != ndim:
        raise ConfigError(f"{where}={extent!r}: {source} has the grid ({_dims(grid)}); expected "
                          f"{ndim} entries, one per grid axis (a length L for [0, L], or "
                          "[lo, hi])")
    out = []
    for e in entries:
        lo_hi = (0.0, e) if isinstance(e, (int, float)) else tuple(e)
        if len(lo_hi) != 2 or not all(math.isfinite(v) for v in lo_hi) or lo_hi[1] <= lo_hi[0]:
            raise ConfigError(f"{where}={extent!r}: entry {e!r} is not a positive length or an "
                              "interval [lo, hi] with lo < hi")
        out.append((float(lo_hi[0]), float(lo_hi[1])))
    return tuple(out)


def _sources(path, train, test, x, y, x_test, y_test):
    given = {k: v for k, v in dict(path=path, train=train, x=x).items() if v is not None}
    if "x" in given or y is not None:
        if x is None or y is None:
            raise ConfigError(f"{_OPT}.x and {_OPT}.y name the input and output files together;"
                              f" got only {'x' if y is None else 'y'}")
    if len(given) != 1:
        raise ConfigError(
            f"{_OPT}: name the data by one of path (one file, split into train and test), train "
            f"(with test), or x and y (one array per file); got "
            f"{', '.join(sorted(given)) if given else 'none of them'}")
    if (x_test is None) != (y_test is None):
        raise ConfigError(f"{_OPT}.x_test and {_OPT}.y_test come together; got only "
                          f"{'x_test' if y_test is None else 'y_test'}")
    if test is not None and x_test is not None:
        raise ConfigError(f"{_OPT}: give the test data as test or as x_test and y_test, not both")
    if path is not None and (test is not None or x_test is not None):
        raise ConfigError(f"{_OPT}.path is one file split into train and test (test_fraction or "
                          f"n_test); for a separate test file use {_OPT}.train and {_OPT}.test")


def _read_pair(file: str | None, x: str | None, y: str | None, x_key: str, y_key: str,
               option: str) -> tuple[_Array, _Array]:
    if file is not None:
        if _single(file):
            raise DataError(f"{file} ({_OPT}.{option}): a .npy file holds one array; give the "
                            f"input and output files as {_OPT}.x and {_OPT}.y (x_test and y_test "
                            "for a test pair)")
        return (_Array(file, x_key, option, False), _Array(file, y_key, option, False))
    xo, yo = ("x", "y") if option != "test" else ("x_test", "y_test")
    return _Array(x, x_key, xo, _single(x)), _Array(y, y_key, yo, _single(y))


def _count(value: int | None, option: str, low: int, high: int, what: str) -> None:
    if value is not None and not low <= value <= high:
        raise ConfigError(f"{_OPT}.{option}={value}: {what} has {high} samples; expected "
                          f"{low} <= {option} <= {high}")


def load_arrays(
    path: str | None = None,
    train: str | None = None,
    test: str | None = None,
    x: str | None = None,
    y: str | None = None,
    x_test: str | None = None,
    y_test: str | None = None,
    x_key: str = "x",
    y_key: str = "y",
    layout: Literal["auto", "channel_first", "channel_last"] = "auto",
    boundary: Literal["dirichlet", "periodic", "neumann"] = "dirichlet",
    extent: float | list[float | list[float]] | None = None,
    time_dependent: bool = False,
    time_axis: int = 1,
    test_fraction: float | None = None,
    n_test: int | None = None,
    n_train: int | None = None,
    seed: int | None = None,
) -> PDEData:
    """Input/output pairs from your own files: operator data at any resolution.

    Name the files by one of: ``path`` (one file holding x and y, split into train and test);
    ``train`` and ``test`` (test optional: without it ``train`` is split as ``path`` is); ``x``
    and ``y`` (one array per file, e.g. .npy), with ``x_test`` and ``y_test`` optional. Files are
    .npy, .npz, .h5 / .hdf5 / .hdf, .pt / .pth (a dict of tensors, as neuraloperator writes) or
    .mat; relative paths are read from the current folder. Arrays are ``(n, *grid)``,
    ``(n, c, *grid)`` or ``(n, *grid, c)``: see the module docstring for how ``layout: auto``
    tells them apart. Bool and integer arrays become float32. The test grid may differ from the
    training grid (the model is evaluated at the test resolution).

    Args:
        path: One file holding both arrays, split into train and test.
        train: The training file (x and y).
        test: The test file (x and y).
        x, y: Files of the training (or, without a test, all) inputs and outputs.
        x_test, y_test: Files of the test inputs and outputs.
        x_key: Name of the inputs in the files (an HDF5 path, a nested dict key ``a/b`` in .pt).
        y_key: Name of the outputs.
        layout: ``auto``, ``channel_first`` or ``channel_last`` (see above).
        boundary: ``dirichlet``, ``periodic`` or ``neumann``: the grid operator's padding, the
            coordinate channels and the H1 loss follow it.
        extent: Physical size of the grid: one length L for every axis ([0, L]), or one entry per
            axis, a length or ``[lo, hi]``. Default [0, 1] per axis. The grid's nodes span it
            (ends included; on a periodic axis the node at ``hi`` is the node at ``lo``). It sets
            the spacing of the H1 loss and the plot axes; coordinate channels are the position
            scaled to [0, 1] by it, ``(x - lo) / (hi - lo)``.
        time_dependent: y holds trajectories: x the first frame, y the frames after it; the model
            is rolled out in time.
        time_axis: y's time axis (1: ``(n, T, ...)``, -1: last, as FNO's ``(n, s, s, T)``).
        test_fraction: Fraction of the samples held out for testing when one file is split
            (default 0.2).
        n_test: Test samples: held out when one file is split, else the first ``n_test`` of the
            test file.
        n_train: Keep only the first ``n_train`` training samples.
        seed: Split one file at random with this seed (default: the last samples are the test
            set, as FNO's protocol takes the first ``ntrain`` and the last ``ntest``).

    Returns:
        :class:`PDEData` named ``arrays`` with ``extent`` set; ``params`` records the files, keys
        and the layout read, which ``sciml predict`` uses to read inputs laid out as x was.

    Raises:
        ConfigError: Options that contradict each other or values out of range (one line naming
            the option).
        DataError: A file or array that cannot be used (one line naming the file, the option and
            the key): missing, a folder, unknown suffix, no such key, NaN / infinity, shapes of x
            and y that disagree.
    """
    _sources(path, train, test, x, y, x_test, y_test)
    if layout not in ARRAY_LAYOUTS:
        raise ConfigError(f"{_OPT}.layout={layout!r}: expected one of {list(ARRAY_LAYOUTS)}")
    if test_fraction is not None and not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"{_OPT}.test_fraction={test_fraction}: expected a fraction in (0, 1)")
    for name, value in (("n_test", n_test), ("n_train", n_train)):
        if value is not None and value < 1:
            raise ConfigError(f"{_OPT}.{name}={value}: expected a positive number of samples")
    has_test = test is not None or x_test is not None
    if has_test and (test_fraction is not None or seed is not None):
        raise ConfigError(f"{_OPT}.{'test_fraction' if test_fraction is not None else 'seed'} "
                          "splits one file; the test data have a file of their own")

    option = "path" if path is not None else "train" if train is not None else "x"
    axis = time_axis if time_dependent else None
    train_pair = _Pair(*_read_pair(path if path is not None else train, x, y, x_key, y_key,
                                   option), axis)
    test_pair = (_Pair(*_read_pair(test, x_test, y_test, x_key, y_key, "test"), axis)
                 if has_test else None)
    px, py = _positions(*train_pair.shapes(), layout, (train_pair.x.name, train_pair.y.name))
    x_all, y_all, grid = train_pair.tensors(px, py, layout)
    extent_t = _extent(extent, grid, train_pair.source)
    if test_pair is not None:
        test_pair.check_axes(train_pair)
        x_test_t, y_test_t, _ = test_pair.tensors(px, py, layout)
        for a, got, want in ((test_pair.x, x_test_t, x_all), (test_pair.y, y_test_t, y_all)):
            c = train_pair.lead if a is test_pair.y else 1  # the channel axis
            if got.shape[c] != want.shape[c]:
                raise DataError(f"{a.name} has {got.shape[c]} channels but the training array "
                                f"has {want.shape[c]}")
        _count(n_test, "n_test", 1, len(x_test_t), "the test data")
        x_test_t, y_test_t = x_test_t[:n_test], y_test_t[:n_test]
        test_source = test_pair.source
    else:
        n = len(x_all)
        k = n_test if n_test is not None else max(1, round((test_fraction or 0.2) * n))
        if not 1 <= k < n:
            raise ConfigError(f"{_OPT}.n_test={k}: {train_pair.source} has {n} samples; at "
                              "least one must stay for training")
        order = (np.random.default_rng(seed).permutation(n) if seed is not None
                 else np.arange(n))
        test_idx, train_idx = torch.from_numpy(order[n - k:]), torch.from_numpy(order[: n - k])
        x_test_t, y_test_t = x_all[test_idx], y_all[test_idx]
        x_all, y_all = x_all[train_idx], y_all[train_idx]
        test_source = (f"the last {k} samples of {train_pair.source}" if seed is None else
                       f"{k} samples of {train_pair.source} drawn with seed {seed}")
    _count(n_train, "n_train", 1, len(x_all), "the training data")
    x_all, y_all = x_all[:n_train], y_all[:n_train]
    names = {None: "none", "first": "channel_first", "last": "channel_last"}
    params = {"source": "arrays", "train": train_pair.source, "test": test_source,
              "x_key": x_key, "y_key": y_key, "x_layout": names[px], "y_layout": names[py]}
    return PDEData(x_all, y_all, x_test_t, y_test_t, boundary=boundary, name="arrays",
                   params=params, extent=extent_t)


class _Pair:
    """x and y of one split, as read; trajectories y with their time axis moved to axis 1."""

    def __init__(self, x: _Array, y: _Array, time_axis: int | None) -> None:
        if len(x) != len(y):
            raise DataError(f"{x.name} has {len(x)} samples but {y.name} has {len(y)}")
        self.x, self.y = x, y
        self.lead = 1 if time_axis is None else 2  # axes before y's channel (samples, time)
        self.y_data = y.data if time_axis is None else _time_second(y.data, time_axis, y.name)
        self.source = str(x.path) if x.path == y.path else f"{x.path} + {y.path}"

    def shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """x and y without their sample (and time) axes."""
        return self.x.data.shape[1:], self.y_data.shape[self.lead:]

    def check_axes(self, train: _Pair) -> None:
        """The test pair must be laid out as the training pair (the grid may differ)."""
        for a, shape, ref in ((self.x, self.x.data.shape, train.x.data.shape),
                              (self.y, self.y_data.shape, train.y_data.shape)):
            if len(shape) != len(ref):
                raise DataError(f"{a.name} has shape {shape} but the training array has {ref}: "
                                "expected the same axes (the grid may differ)")

    def tensors(self, px: _Pos, py: _Pos, layout: str) -> tuple[Tensor, Tensor, tuple[int, ...]]:
        """Channel-first float32 ``x (n, c, *grid)``, ``y`` and the grid."""
        sx, sy = self.shapes()
        gx, gy = _grid(sx, px), _grid(sy, py)
        if gx != gy:
            raise DataError(f"{self.x.name} has grid ({_dims(gx)}) but {self.y.name} has "
                            f"({_dims(gy)}); x and y must share the grid")
        if min(gx) < (4 if layout == "auto" else 2):  # auto: too few points for a grid axis
            raise DataError(f"{self.x.name} has shape {self.x.data.shape}, read as the grid "
                            f"({_dims(gx)}): an axis of {min(gx)} points; if it holds channels, "
                            f"set {_OPT}.layout (channel_first or channel_last)")
        return (_to_channel_first(self.x.data, px, 1),
                _to_channel_first(self.y_data, py, self.lead), gx)


def _time_second(a: np.ndarray, time_axis: int, name: str) -> np.ndarray:
    if not -a.ndim < time_axis < a.ndim or time_axis == 0:
        raise ConfigError(f"{_OPT}.time_axis={time_axis}: {name} has shape {a.shape}; expected an"
                          " axis after the samples (1, ..., or -1)")
    if a.ndim < 3:
        raise DataError(f"{name} has shape {a.shape}; a trajectory is (n, T, *grid) (with "
                        f"{_OPT}.time_axis for another order)")
    return np.moveaxis(a, time_axis, 1)


def read_grid_fields(path: str | Path, key: str = "x", layout: str = "channel_first",
                     ndim: int | None = None) -> Tensor:
    """Fields ``(n, c, *grid)`` float32 from a file in any format :func:`read_array` reads.

    Args:
        path: The file.
        key: The array's name in the file (not used for .npy).
        layout: Where the file's channel axis is: ``channel_first``, ``channel_last`` or
            ``none`` (``(n, *grid)``, one channel).
        ndim: Number of grid axes; when given, an array of ``ndim + 1`` axes is read as one
            channel whatever ``layout`` says, so both the training layout and ``(n, c, *grid)``
            are accepted.

    Raises:
        DataError: Everything :func:`read_array` refuses, and a rank that fits neither layout.
    """
    if layout not in ("channel_first", "channel_last", "none"):
        raise ValueError(f"layout must be 'channel_first', 'channel_last' or 'none', got "
                         f"{layout!r}")
    a = read_array(path, key)
    pos: _Pos = {"channel_first": "first", "channel_last": "last", "none": None}[layout]
    if ndim is not None:
        if a.ndim == ndim + 1:
            pos = None
        elif a.ndim == ndim + 2:
            pos = pos or "first"
        else:
            raise DataError(f"{path}: {key!r} has shape {a.shape}; expected (n, *grid) or "
                            f"(n, c, *grid) with {ndim} grid axes")
    return _to_channel_first(a, pos, 1)
