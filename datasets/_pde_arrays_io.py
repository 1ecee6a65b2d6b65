"""One named array from a user's file, whichever tool wrote it: numpy (``np.save`` / ``np.savez``),
h5py, ``torch.save`` of a tensor or a dict of tensors (neuraloperator), ``scipy.io.savemat``
(MATLAB v5 / v7) and MATLAB v7.3 (HDF5).

Every problem is a one-line :class:`DataError` naming the file, the key and, where the file came
from a recipe, the recipe option that named it (``data.options.train``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from sciml.errors import DataError

__all__ = ["ARRAY_SUFFIXES", "read_array"]

#: File suffix -> format, of the files :func:`read_array` reads.
ARRAY_SUFFIXES: dict[str, str] = {
    ".npy": "numpy array (np.save)",
    ".npz": "numpy archive (np.savez)",
    ".h5": "HDF5", ".hdf5": "HDF5", ".hdf": "HDF5",
    ".pt": "torch file (torch.save)", ".pth": "torch file (torch.save)",
    ".mat": "MATLAB file (scipy.io.savemat, MATLAB v5 / v7 / v7.3)",
}
#: Formats holding one array: the key is not used.
_SINGLE = (".npy",)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _label(path: Path, option: str | None) -> str:
    return f"{path} ({option})" if option else str(path)


def read_array(path: str | os.PathLike, key: str = "x", option: str | None = None) -> np.ndarray:
    """The array ``key`` of the file ``path``, checked: real numbers, no NaN or infinity.

    Args:
        path: A ``.npy`` (one array: ``key`` is not used), ``.npz``, ``.h5`` / ``.hdf5`` /
            ``.hdf`` (``key`` may be a path into groups, ``"fields/u"``), ``.pt`` / ``.pth`` (a
            tensor, or a dict of tensors: ``key`` may reach into nested dicts, ``"data/x"``;
            loaded with ``weights_only=True``) or ``.mat`` file.
        key: The array's name in the file.
        option: The recipe option that named the file, for messages (``"data.options.train"``).

    Returns:
        The array as stored (bool and integer arrays included; the caller converts).

    Raises:
        DataError: No file, a folder, an unknown suffix, an unreadable file, no array ``key``
            (the message lists the arrays found), a non-numeric or empty array, NaN or infinity.
    """
    path = Path(path)
    where = _label(path, option)
    if path.is_dir():
        raise DataError(f"{where} is a folder, not a file of arrays")
    if not path.is_file():
        raise DataError(f"no file at {where}")
    suffix = path.suffix.lower()
    if suffix not in ARRAY_SUFFIXES:
        raise DataError(f"{where}: unknown suffix {path.suffix!r}; use one of "
                        + ", ".join(ARRAY_SUFFIXES))
    reader = {".npy": _npy, ".npz": _npz, ".h5": _hdf5, ".hdf5": _hdf5, ".hdf": _hdf5,
              ".pt": _torch, ".pth": _torch, ".mat": _mat}[suffix]
    array = reader(path, key, where)
    name = f"{where}: {'the array' if suffix in _SINGLE else repr(key)}"
    return _checked(array, name)


def _checked(array: Any, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise DataError(f"{name} has dtype {array.dtype}; expected real numbers (float, int or "
                        "bool)")
    if array.ndim < 2 or array.size == 0:
        raise DataError(f"{name} has shape {array.shape}; expected (n samples, *grid) with at "
                        "least one grid axis and one sample")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataError(f"{name} holds {int(bad.sum())} NaN or infinite values (the first at "
                            f"index {first})")
    return array


def _missing(where: str, key: str, found: list[str]) -> DataError:
    return DataError(f"{where}: no array {key!r}; arrays found: {sorted(found)}")


def _npy(path: Path, key: str, where: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:  # ValueError (pickled objects, bad header), OSError, EOFError
        raise DataError(f"{where}: cannot read as a numpy .npy file (truncated, corrupt or "
                        f"pickled objects?): {_first_line(e)}") from e


def _npz(path: Path, key: str, where: str) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if key not in archive.files:
                raise _missing(where, key, list(archive.files))
            return archive[key]
    except DataError:
        raise
    except Exception as e:  # zipfile.BadZipFile, ValueError, OSError, EOFError
        raise DataError(f"{where}: cannot read as a numpy .npz archive (truncated, corrupt or "
                        f"pickled objects?): {_first_line(e)}") from e


def _hdf5_datasets(f: Any) -> list[str]:
    import h5py

    names: list[str] = []
    f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return names


def _hdf5(path: Path, key: str, where: str, transpose: bool = False) -> np.ndarray:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            obj = f.get(key)
            if not isinstance(obj, h5py.Dataset):
                raise _missing(where, key, _hdf5_datasets(f))
            data = obj[()]
    except DataError:
        raise
    except Exception as e:  # OSError (not HDF5, truncated), TypeError (odd dtypes)
        raise DataError(f"{where}: cannot read as HDF5 (truncated or corrupt?): "
                        f"{_first_line(e)}") from e
    # MATLAB v7.3 stores column-major arrays: h5py sees the axes reversed
    return np.transpose(data) if transpose else data


def _torch(path: Path, key: str, where: str) -> np.ndarray:
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle, zip and weights_only errors differ by torch version
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(e))
        if found:
            raise DataError(f"{where}: holds objects other than tensors ({found.group(1)}), "
                            "which torch.load(weights_only=True) refuses; save tensors, or use "
                            ".npz") from e
        detail = re.search(r"WeightsUnpickler error:\s*(.+)", str(e))
        raise DataError(f"{where}: cannot load as a torch file (truncated or corrupt?): "
                        + (detail.group(1).strip() if detail else _first_line(e))) from e
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy()
    if not isinstance(obj, dict):
        raise DataError(f"{where}: holds a {type(obj).__name__}; expected a tensor or a dict of "
                        "tensors")
    value: Any = obj
    for part in key.split("/"):
        if not isinstance(value, dict) or part not in value:
            raise _missing(where, key, _tensor_names(obj))
        value = value[part]
    if not isinstance(value, torch.Tensor):
        raise DataError(f"{where}: {key!r} is a {type(value).__name__}, not a tensor")
    return value.detach().cpu().numpy()


def _tensor_names(obj: Any, prefix: str = "") -> list[str]:
    import torch

    if not isinstance(obj, dict):
        return []
    out: list[str] = []
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, torch.Tensor):
            out.append(name)
        elif isinstance(v, dict):
            out.extend(_tensor_names(v, name + "/"))
    return out


def _mat(path: Path, key: str, where: str) -> np.ndarray:
    import h5py

    if h5py.is_hdf5(path):  # MATLAB v7.3
        return _hdf5(path, key, where, transpose=True)
    import scipy.io

    try:
        names = [name for name, _, _ in scipy.io.whosmat(path)]
        if key not in names:
            raise _missing(where, key, names)
        return scipy.io.loadmat(path, variable_names=[key])[key]
    except DataError:
        raise
    except Exception as e:  # scipy raises ValueError, TypeError, OSError, ... for bad bytes
        raise DataError(f"{where}: cannot read as a MATLAB .mat file (truncated or corrupt?): "
                        f"{_first_line(e)}") from e
