"""Storage: cache folder, hashes, HDF5 / NetCDF round trips and corruption, downloads offline."""

import gzip
import hashlib
import io
import os
import tarfile
import urllib.error
import urllib.request

import h5py
import numpy as np
import pytest
import xarray as xr

from sciml.data import (
    cache_dir,
    content_hash,
    download,
    ensure_file,
    file_sha256,
    read_hdf5,
    read_netcdf,
    write_hdf5,
    write_netcdf,
)
from sciml.errors import DataError


def _arrays():
    return {"u": np.random.rand(4, 8).astype(np.float32), "k": np.arange(6, dtype=np.int64)}


def test_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SCIML_DATA", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()
    monkeypatch.delenv("SCIML_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "sciml"


def test_content_hash_sensitivity():
    a = _arrays()
    h = content_hash(a)
    assert h == content_hash(dict(reversed(list(a.items()))))
    assert h != content_hash({**a, "k": a["k"].astype(np.int32)})  # dtype
    assert h != content_hash({**a, "u": a["u"].reshape(8, 4)})  # shape
    b = {**a, "u": a["u"].copy()}
    b["u"][0, 0] += 1
    assert h != content_hash(b)  # bytes
    assert h != content_hash({"v": a["u"], "k": a["k"]})  # key


def test_file_sha256(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc" * 1000)
    assert file_sha256(p) == hashlib.sha256(b"abc" * 1000).hexdigest()


def test_hdf5_round_trip(tmp_path):
    a = _arrays()
    path = write_hdf5(tmp_path / "sub" / "d.h5", a, attrs={"resolution": 8},
                      params={"nu": 0.01, "n": 4})
    arrays, attrs = read_hdf5(path)
    for k in a:
        np.testing.assert_array_equal(arrays[k], a[k])
        assert arrays[k].dtype == a[k].dtype
    assert attrs["sciml_params"] == {"nu": 0.01, "n": 4} and attrs["resolution"] == 8
    assert attrs["sciml_hash"] == content_hash(a) and attrs["sciml_version"]
    only, _ = read_hdf5(path, keys=["k"])
    assert list(only) == ["k"]
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["d.h5"]  # no temp files left


def test_hdf5_errors(tmp_path):
    path = write_hdf5(tmp_path / "d.h5", _arrays())
    with pytest.raises(DataError, match=r"no dataset 'x'; datasets present: \['k', 'u'\]"):
        read_hdf5(path, keys=["x"])
    with h5py.File(path, "r+") as f:  # tamper with the data, keep the stored hash
        f["u"][0, 0] = 42.0
    with pytest.raises(DataError, match="content hash mismatch"):
        read_hdf5(path)
    read_hdf5(path, verify=False)
    trunc = tmp_path / "trunc.h5"
    good = write_hdf5(tmp_path / "g.h5", {"u": np.random.rand(200, 200)})
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match="trunc.h5"):
        read_hdf5(trunc)
    with pytest.raises(FileNotFoundError):
        read_hdf5(tmp_path / "absent.h5")


def test_hdf5_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        write_hdf5(tmp_path / "d.h5", _arrays(), params={"f": object()})
    with pytest.raises(TypeError):
        write_hdf5(tmp_path / "e.h5", {"bad": np.array([object()])})
    assert list(tmp_path.iterdir()) == []


def test_netcdf_round_trip_and_tamper(tmp_path):
    ds = xr.Dataset(
        {"u": (("t", "x"), np.random.rand(3, 5))},
        coords={"x": np.linspace(0, 1, 5), "t": np.arange(3)},
        attrs={"title": "toy"},
    )
    path = write_netcdf(tmp_path / "d.nc", ds, params={"res": 5})
    back = read_netcdf(path)
    xr.testing.assert_identical(back.drop_attrs(), ds.drop_attrs())
    assert back.attrs["sciml_params"] == {"res": 5} and back.attrs["title"] == "toy"
    import netCDF4

    with netCDF4.Dataset(path, "r+") as nc:
        nc["u"][0, 0] = -1.0
    with pytest.raises(DataError, match="content hash mismatch"):
        read_netcdf(path)
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"not a netcdf file at all")
    with pytest.raises(DataError, match="bad.nc"):
        read_netcdf(bad)


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_offline_leaves_no_file(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    target = tmp_path / "data" / "metr_la.h5"
    with pytest.raises(DataError) as info:
        download("https://example.org/metr_la.h5", target)
    assert isinstance(info.value, OSError)
    msg = str(info.value)
    assert "https://example.org/metr_la.h5" in msg and "no network" in msg
    assert str(target.resolve()) in msg
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_download_checksum_mismatch_and_success(tmp_path, monkeypatch):
    payload = b"x" * 5000
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: _Response(payload))
    target = tmp_path / "f.bin"
    with pytest.raises(DataError, match="sha256 mismatch") as info:
        download("https://example.org/f.bin", target, sha256="0" * 64)
    assert str(target.resolve()) in str(info.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DataError, match="md5 mismatch"):
        download("https://example.org/f.bin", target, md5="0" * 32)
    good = hashlib.sha256(payload).hexdigest()
    assert download("https://example.org/f.bin", target, sha256=good) == target
    assert target.read_bytes() == payload


def test_download_extracts_tar_gz(tmp_path, monkeypatch):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = b"1,2,3\n"
        info = tarfile.TarInfo("pkg/values.csv")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, timeout=None: _Response(buf.getvalue()))
    download("https://example.org/pkg.tar.gz", tmp_path / "pkg.tar.gz", extract=True)
    assert (tmp_path / "pkg" / "values.csv").read_bytes() == b"1,2,3\n"
    assert gzip.decompress(buf.getvalue())  # it was a real gzip stream


def test_ensure_file(tmp_path, monkeypatch):
    calls = []

    def fake(url, timeout=None):
        calls.append(url)
        return _Response(b"payload")

    monkeypatch.setattr(urllib.request, "urlopen", fake)
    sha = hashlib.sha256(b"payload").hexdigest()
    path = ensure_file("thing.bin", "https://example.org/thing.bin", sha256=sha)
    assert path == cache_dir() / "thing.bin" and len(calls) == 1
    assert ensure_file("thing.bin", "https://example.org/thing.bin", sha256=sha) == path
    assert len(calls) == 1  # present: not downloaded again
    local = tmp_path / "x.bin"
    local.write_bytes(b"other")
    with pytest.raises(DataError, match="sha256 mismatch"):
        ensure_file(local, "https://example.org/x.bin", sha256=sha)
    assert ensure_file(local, "https://example.org/x.bin", sha256=sha, verify=False) == local
    assert os.path.getsize(local) == 5
