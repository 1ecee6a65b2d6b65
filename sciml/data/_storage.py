"""Data set storage: cache folder, content hashes, HDF5 / NetCDF files with provenance, downloads.

Every file written here is atomic (temporary file + rename, see ``atomic_write``) and carries the
generator's parameters (JSON, attribute ``sciml_params``), a hash of its content
(``sciml_hash``) and the writing ``sciml_version``, so a reader can tell what produced it and
whether it is intact.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sciml.data._atomic import atomic_write
from sciml.errors import DataError

__all__ = [
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
    "DownloadError",
]

_CHUNK = 1 << 20


def _version() -> str:
    import sciml

    return sciml.__version__


def cache_dir() -> Path:
    """The data cache folder: ``$SCIML_DATA`` if set, else ``~/.cache/sciml``; created if absent."""
    env = os.environ.get("SCIML_DATA")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "sciml"
    path.mkdir(parents=True, exist_ok=True)
    return path


def content_hash(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the arrays in sorted-key order: each key, dtype, shape and C-order bytes.

    Two dictionaries hash equal iff they hold the same keys with equal dtypes, shapes and bytes.
    """
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(np.asarray(arrays[key]))
        h.update(f"{key}\0{a.dtype.str}\0{a.shape}\0".encode())
        if a.dtype.hasobject:
            raise TypeError(f"content_hash: array {key!r} has object dtype; use numeric arrays")
        if a.dtype.kind in "mM":  # datetimes / timedeltas: their int64 ticks (the unit is in str)
            a = a.view(np.int64)
        h.update(memoryview(a.reshape(-1)).cast("B"))
    return h.hexdigest()


def _file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    return _file_digest(Path(path), "sha256")


def _json_params(params: Mapping[str, Any] | None) -> str:
    try:
        return json.dumps(dict(params or {}), sort_keys=True)
    except TypeError as e:
        raise TypeError(f"params must be JSON-serialisable (numbers, strings, lists): {e}") from e


def write_hdf5(
    path: str | os.PathLike,
    arrays: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Path:
    """Write arrays as HDF5 datasets, atomically, with parameters and a content hash.

    Args:
        path: Destination file.
        arrays: Dataset name -> array (torch tensors are converted to numpy).
        attrs: Extra file attributes (numbers, strings, small arrays).
        params: Generator parameters, stored as JSON in attribute ``sciml_params``.

    Returns:
        The path written.
    """
    import h5py

    path = Path(path)
    np_arrays = {k: _to_numpy(v) for k, v in arrays.items()}
    params_json = _json_params(params)
    with atomic_write(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for key, value in np_arrays.items():
                f.create_dataset(key, data=value)
            for key, value in (attrs or {}).items():
                f.attrs[key] = value
            f.attrs["sciml_params"] = params_json
            f.attrs["sciml_hash"] = content_hash(np_arrays)
            f.attrs["sciml_version"] = _version()
    return path


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _attr_value(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


def open_hdf5(path: str | os.PathLike):
    """``h5py.File(path, "r")``, with a truncated or non-HDF5 file reported as a DataError."""
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise DataError(f"{path}: cannot open as HDF5 (truncated or corrupt?): {e}") from e


def read_hdf5(
    path: str | os.PathLike, keys: Sequence[str] | None = None, verify: bool = True
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read datasets and attributes of an HDF5 file written by :func:`write_hdf5` (or any HDF5).

    Args:
        path: The file.
        keys: Datasets to read (default all top-level datasets).
        verify: Recompute the content hash (only when all datasets are read and the file has a
            ``sciml_hash``) and raise on mismatch.

    Returns:
        ``(arrays, attrs)``; ``attrs["sciml_params"]`` is decoded from JSON into a dict.

    Raises:
        FileNotFoundError: No file at ``path``.
        DataError: The file is truncated or not HDF5, a key is missing, or the hash differs.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no HDF5 file at {path}")
    with open_hdf5(path) as f:
        present = sorted(k for k in f.keys() if isinstance(f[k], h5py.Dataset))
        wanted = list(present if keys is None else keys)
        missing = [k for k in wanted if k not in present]
        if missing:
            raise DataError(f"{path}: no dataset {missing[0]!r}; datasets present: {present}")
        try:
            arrays = {k: f[k][()] for k in wanted}
            attrs = {k: _attr_value(v) for k, v in f.attrs.items()}
        except (OSError, KeyError, RuntimeError) as e:
            raise DataError(f"{path}: cannot read (truncated or corrupt?): {e}") from e
    if "sciml_params" in attrs:
        try:
            attrs["sciml_params"] = json.loads(attrs["sciml_params"])
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: attribute sciml_params is not valid JSON: {e}") from e
    if verify and "sciml_hash" in attrs and set(wanted) == set(present):
        actual = content_hash(arrays)
        if actual != attrs["sciml_hash"]:
            raise DataError(
                f"{path}: content hash mismatch (stored {attrs['sciml_hash'][:12]}..., computed "
                f"{actual[:12]}...): the file was modified or is corrupt; regenerate it"
            )
    return arrays, attrs


def _netcdf_engine() -> str:
    for module, engine in (("netCDF4", "netcdf4"), ("h5netcdf", "h5netcdf")):
        with contextlib.suppress(ImportError):
            __import__(module)
            return engine
    raise ImportError("NetCDF files need netCDF4 or h5netcdf: pip install netCDF4")


def _dataset_hash(ds: Any) -> str:
    arrays = {f"var/{k}": np.asarray(v.values) for k, v in ds.data_vars.items()}
    arrays.update({f"coord/{k}": np.asarray(v.values) for k, v in ds.coords.items()})
    arrays = {k: (a.astype(str).astype("U") if a.dtype.hasobject else a) for k, a in arrays.items()}
    return content_hash(arrays)


def write_netcdf(
    path: str | os.PathLike, dataset: Any, params: Mapping[str, Any] | None = None
) -> Path:
    """Write an ``xarray.Dataset`` as NetCDF, atomically, with parameters and a content hash.

    The hash covers the values of data variables and coordinates (see :func:`content_hash`).
    """
    import xarray as xr

    if not isinstance(dataset, xr.Dataset):
        raise TypeError(f"write_netcdf expects an xarray.Dataset, got {type(dataset).__name__}")
    path = Path(path)
    ds = dataset.copy(deep=False)
    ds.attrs = dict(dataset.attrs)
    ds.attrs["sciml_params"] = _json_params(params)
    ds.attrs["sciml_hash"] = _dataset_hash(dataset)
    ds.attrs["sciml_version"] = _version()
    with atomic_write(path) as tmp:
        ds.to_netcdf(tmp, engine=_netcdf_engine())
    return path


def read_netcdf(path: str | os.PathLike, verify: bool = True) -> Any:
    """Read a NetCDF file into memory as an ``xarray.Dataset`` (file closed on return).

    ``ds.attrs["sciml_params"]`` is decoded from JSON. With ``verify``, a stored ``sciml_hash``
    is recomputed and a mismatch raises :class:`DataError`; a truncated file raises DataError.
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NetCDF file at {path}")
    try:
        with xr.open_dataset(path, engine=_netcdf_engine()) as ds:
            ds = ds.load()
    except (OSError, ValueError, RuntimeError) as e:
        raise DataError(f"{path}: cannot open as NetCDF (truncated or corrupt?): {e}") from e
    if "sciml_params" in ds.attrs:
        try:
            ds.attrs["sciml_params"] = json.loads(ds.attrs["sciml_params"])
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: attribute sciml_params is not valid JSON: {e}") from e
    if verify and "sciml_hash" in ds.attrs:
        actual = _dataset_hash(ds)
        if actual != ds.attrs["sciml_hash"]:
            raise DataError(
                f"{path}: content hash mismatch (stored {ds.attrs['sciml_hash'][:12]}..., "
                f"computed {actual[:12]}...): the file was modified or is corrupt; regenerate it"
            )
    return ds


class DownloadError(DataError, OSError):
    """A download failed (no network, HTTP error, checksum mismatch); says where to put the file."""


def _manual_hint(url: str, path: Path) -> str:
    return f"download {url} by hand and place it at {path.resolve()}"


def _check_digest(path: Path, sha256: str | None, md5: str | None) -> str | None:
    """None if the checksums match, else a message naming the mismatch."""
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected:
            actual = _file_digest(path, algorithm)
            if actual.lower() != expected.lower():
                return f"{algorithm} mismatch: expected {expected}, got {actual}"
    return None


def download(
    url: str,
    path: str | os.PathLike,
    sha256: str | None = None,
    md5: str | None = None,
    extract: bool = False,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``path`` atomically, check its checksum, optionally extract it.

    The bytes are streamed to a temporary file beside ``path`` and renamed only once complete
    and verified, so a failure never leaves a partial file at ``path``.

    Args:
        url: Source address.
        path: Destination file (parent folders are created).
        sha256, md5: Expected hex digests (checked when given).
        extract: Unpack a ``.zip`` / ``.tar`` / ``.tar.gz`` / ``.tgz`` into ``path``'s folder.
        timeout: Seconds to wait for the server.

    Returns:
        ``path``.

    Raises:
        DownloadError: No network, an HTTP error or a checksum mismatch; the message names the
            URL and exactly where to put a manually downloaded file.
    """
    path = Path(path)
    with atomic_write(path) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, _CHUNK)
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            raise DownloadError(
                f"cannot download {url} (no network or the server failed: {e}); "
                + _manual_hint(url, path)
            ) from e
        problem = _check_digest(tmp, sha256, md5)
        if problem:
            raise DownloadError(
                f"downloaded {url} but its {problem} (corrupt or changed upstream); "
                + _manual_hint(url, path)
            )
    if extract:
        extract_archive(path, path.parent)
    return path


def extract_archive(archive: Path, folder: Path) -> None:
    """Unpack a zip or tar(.gz) archive into ``folder``, refusing members that escape it."""
    folder = folder.resolve()
    name = archive.name.lower()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                _inside(folder, member, archive)
            zf.extractall(folder)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                _inside(folder, member.name, archive)
            tf.extractall(folder, filter="data")
    else:
        raise DataError(f"{archive}: not a zip or tar archive ({name}); cannot extract")


def _inside(folder: Path, member: str, archive: Path) -> None:
    target = (folder / member).resolve()
    if folder != target and folder not in target.parents:
        raise DataError(f"{archive}: member {member!r} would extract outside {folder}")


def ensure_file(
    path_or_name: str | os.PathLike,
    url: str,
    sha256: str | None = None,
    md5: str | None = None,
    extract: bool = False,
    verify: bool = True,
    timeout: float = 30.0,
) -> Path:
    """The local file, downloading it first if absent.

    Args:
        path_or_name: A path, or a bare file name taken relative to :func:`cache_dir`.
        url: Where to download it from.
        sha256, md5: Expected digests.
        extract: Unpack the archive after downloading (see :func:`download`).
        verify: Check the digest of a file that is already present; a mismatch raises
            :class:`DataError` (the file is left for the user to inspect).
    """
    p = Path(path_or_name)
    path = p if (p.is_absolute() or len(p.parts) > 1) else cache_dir() / p
    if path.is_file():
        if verify:
            problem = _check_digest(path, sha256, md5)
            if problem:
                raise DataError(
                    f"{path}: {problem}; delete it to download again from {url}, or replace it "
                    "with the correct file"
                )
        return path
    return download(url, path, sha256=sha256, md5=md5, extract=extract, timeout=timeout)
