"""Readers of FNO .mat (v5 and v7.3), neuraloperator .pt and PDEBench HDF5, on real and synthetic
files; malformed files; download code without network."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import torch
from sciml.datasets import (
    fno_file,
    load_fno_mat,
    load_neuraloperator,
    load_neuraloperator_pt,
    load_pdebench_hdf5,
    pdebench_file,
)

from sciml.data import DownloadError
from sciml.errors import DataError


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def write_mat73(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """MATLAB v7.3 layout: HDF5 with a 512-byte user block, arrays in column-major order."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=np.ascontiguousarray(value.T))
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created by: sciml tests")


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# ---- FNO .mat -------------------------------------------------------------------------------

def test_fno_darcy_v5(tmp_path: Path, rng: np.random.Generator) -> None:
    a, u = rng.random((3, 9, 9)), rng.random((3, 9, 9))
    path = tmp_path / "piececonst_r9.mat"
    scipy.io.savemat(path, {"coeff": a, "sol": u, "Kcoeff": a})
    x, y = load_fno_mat(path)
    assert x.shape == (3, 1, 9, 9) and y.dtype == torch.float32
    np.testing.assert_allclose(y[:, 0].numpy(), u, rtol=1e-6)
    x2, y2 = load_fno_mat(path, kind="darcy", n=2, stride=4)  # FNO's r: 9 -> 3
    assert x2.shape == (2, 1, 3, 3)
    np.testing.assert_allclose(x2[:, 0].numpy(), a[:2, ::4, ::4], rtol=1e-6)


def test_fno_navier_stokes_v73_is_transposed_back(tmp_path: Path, rng: np.random.Generator) -> None:
    a, u = rng.random((4, 8, 8)), rng.random((4, 8, 8, 5))
    path = tmp_path / "ns_V1e-3.mat"
    write_mat73(path, {"a": a, "u": u, "t": np.linspace(0, 1, 5)[None]})
    x, y = load_fno_mat(path)
    assert x.shape == (4, 1, 8, 8) and y.shape == (4, 5, 1, 8, 8)
    np.testing.assert_allclose(x[:, 0].numpy(), a, rtol=1e-6)
    np.testing.assert_allclose(y[:, 2, 0].numpy(), u[..., 2], rtol=1e-6)
    _, y_sub = load_fno_mat(path, kind="navier_stokes", n=3, stride=2)
    assert y_sub.shape == (3, 5, 1, 4, 4)
    np.testing.assert_allclose(y_sub[:, 4, 0].numpy(), u[:3, ::2, ::2, 4], rtol=1e-6)


def test_fno_burgers_final_state_and_trajectory(tmp_path: Path, rng: np.random.Generator) -> None:
    a, u = rng.random((5, 16)), rng.random((5, 16))
    scipy.io.savemat(tmp_path / "burgers_data_R10.mat", {"a": a, "u": u})
    x, y = load_fno_mat(tmp_path / "burgers_data_R10.mat")
    assert x.shape == (5, 1, 16) and y.shape == (5, 1, 1, 16)
    traj = rng.random((5, 16, 3))  # (n, s, T)
    write_mat73(tmp_path / "burgers_t.mat", {"a": a, "u": traj})
    _, y3 = load_fno_mat(tmp_path / "burgers_t.mat", kind="burgers")
    assert y3.shape == (5, 3, 1, 16)
    np.testing.assert_allclose(y3[:, 1, 0].numpy(), traj[:, :, 1], rtol=1e-6)


def test_fno_unexpected_keys_named(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "other.mat"
    scipy.io.savemat(path, {"input": rng.random((2, 4, 4)), "output": rng.random((2, 4, 4))})
    with pytest.raises(DataError) as info:
        load_fno_mat(path)
    msg = str(info.value)
    assert "other.mat" in msg and "['input', 'output']" in msg and "coeff" in msg
    with pytest.raises(DataError, match=r"missing keys \['coeff', 'sol'\].*keys found: "
                                        r"\['input', 'output'\].*keys expected"):
        load_fno_mat(path, kind="darcy")


@pytest.mark.parametrize("version", ["v5", "v73"])
def test_fno_truncated_file(tmp_path: Path, rng: np.random.Generator, version: str) -> None:
    path = tmp_path / f"darcy_{version}.mat"
    arrays = {"coeff": rng.random((20, 16, 16)), "sol": rng.random((20, 16, 16))}
    if version == "v5":
        scipy.io.savemat(path, arrays)
    else:
        write_mat73(path, arrays)
    _truncate(path)
    with pytest.raises(DataError, match="truncated or corrupt") as info:
        load_fno_mat(path, kind="darcy")
    assert path.name in str(info.value)


def test_fno_wrong_shapes(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "ns.mat"
    scipy.io.savemat(path, {"a": rng.random((2, 8, 8)), "u": rng.random((2, 8, 4, 3))})
    with pytest.raises(DataError, match=r"'u' has shape \(2, 8, 4, 3\); expected \(n, s, s, T\)"):
        load_fno_mat(path)
    with pytest.raises(ValueError, match="kind must be None or one of"):
        load_fno_mat(path, kind="heat")
    with pytest.raises(FileNotFoundError, match="no file"):
        load_fno_mat(tmp_path / "absent.mat")


# ---- neuraloperator .pt -------------------------------------------------------------------

def test_neuraloperator_real_darcy_and_burgers(shared_data: Path) -> None:
    darcy = load_neuraloperator("darcy", root=shared_data / "pde")
    assert darcy.x_train.shape == (1000, 1, 16, 16) and darcy.y_test.shape == (50, 1, 16, 16)
    assert set(torch.unique(darcy.x_train).tolist()) == {0.0, 1.0}
    assert darcy.boundary == "dirichlet" and darcy.y_train.dtype == torch.float32
    burgers = load_neuraloperator("burgers", root=shared_data / "pde", n_test=10)
    assert burgers.x_train.shape == (800, 1, 16) and burgers.y_train.shape == (800, 17, 1, 16)
    assert burgers.x_test.shape == (10, 1, 16) and burgers.params["visc"] == pytest.approx(0.01)
    assert burgers.boundary == "periodic" and burgers.time_dependent
    # the first snapshot is the initial state
    assert torch.equal(burgers.y_train[:, 0], burgers.x_train)


def test_neuraloperator_pt_malformed(tmp_path: Path, shared_data: Path) -> None:
    bad = tmp_path / "truncated.pt"
    bad.write_bytes((shared_data / "pde" / "darcy_test_16.pt").read_bytes()[:5000])
    with pytest.raises(DataError, match="truncated.pt: cannot load"):
        load_neuraloperator_pt(bad)
    torch.save({"x": torch.zeros(3, 4, 4), "z": torch.zeros(3, 4, 4)}, tmp_path / "keys.pt")
    with pytest.raises(DataError, match=r"missing keys \['y'\]; keys found: \['x', 'z'\]"):
        load_neuraloperator_pt(tmp_path / "keys.pt")
    torch.save({"x": torch.zeros(3, 4, 4), "y": torch.zeros(3, 5, 5)}, tmp_path / "shape.pt")
    with pytest.raises(DataError, match=r"'y' has shape \(3, 5, 5\)"):
        load_neuraloperator_pt(tmp_path / "shape.pt")


# ---- PDEBench HDF5 ------------------------------------------------------------------------

def test_pdebench_darcy(tmp_path: Path, rng: np.random.Generator) -> None:
    nu, u = rng.random((3, 8, 8)), rng.random((3, 1, 8, 8))
    with h5py.File(tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5", "w") as f:
        f["nu"], f["tensor"] = nu, u
        f["x-coordinate"] = f["y-coordinate"] = np.linspace(0, 1, 8)
    x, y = load_pdebench_hdf5(tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5")
    assert x.shape == (3, 1, 8, 8) and y.shape == (3, 1, 8, 8)
    np.testing.assert_allclose(y.numpy(), u, rtol=1e-6)


def test_pdebench_burgers(tmp_path: Path, rng: np.random.Generator) -> None:
    u = rng.random((4, 6, 32))
    with h5py.File(tmp_path / "1D_Burgers_Sols_Nu0.01.hdf5", "w") as f:
        f["tensor"] = u
        f["x-coordinate"] = np.linspace(0, 1, 32, endpoint=False)
        f["t-coordinate"] = np.linspace(0, 2, 7)
    x, y = load_pdebench_hdf5(tmp_path / "1D_Burgers_Sols_Nu0.01.hdf5", n=2, stride=2)
    assert x.shape == (2, 1, 16) and y.shape == (2, 5, 1, 16)
    np.testing.assert_allclose(y[:, 0, 0].numpy(), u[:2, 1, ::2], rtol=1e-6)


def test_pdebench_ns_incompressible(tmp_path: Path, rng: np.random.Generator) -> None:
    v = rng.random((2, 4, 8, 8, 2))
    with h5py.File(tmp_path / "ns_incom_inhom_2d_512-0.h5", "w") as f:
        f["velocity"], f["particles"] = v, rng.random((2, 4, 8, 8, 1))
        f["force"], f["t"] = rng.random((2, 8, 8, 2)), np.tile(np.linspace(0, 1, 4), (2, 1))
    x, y = load_pdebench_hdf5(tmp_path / "ns_incom_inhom_2d_512-0.h5")
    assert x.shape == (2, 2, 8, 8) and y.shape == (2, 3, 2, 8, 8)
    np.testing.assert_allclose(y[1, 2, 1].numpy(), v[1, 3, :, :, 1], rtol=1e-6)


def test_pdebench_diffusion_sorption_groups(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "1D_diff-sorp_NA_NA.h5"
    data = rng.random((3, 5, 16, 1))
    with h5py.File(path, "w") as f:
        for i in range(3):
            g = f.create_group(f"{i:04d}")
            g["data"] = data[i]
            g["grid/x"], g["grid/t"] = np.linspace(0, 1, 16), np.linspace(0, 500, 5)
    x, y = load_pdebench_hdf5(path)
    assert x.shape == (3, 1, 16) and y.shape == (3, 4, 1, 16)
    np.testing.assert_allclose(y[2, 3, 0].numpy(), data[2, 4, :, 0], rtol=1e-6)
    with h5py.File(path, "a") as f:
        del f["0001/grid/t"]
    with pytest.raises(DataError, match=r"missing keys \['0001/grid/t'\]"):
        load_pdebench_hdf5(path, kind="groups")


def test_pdebench_bad_files(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "odd.h5"
    with h5py.File(path, "w") as f:
        f["density"] = rng.random((2, 4))
    with pytest.raises(DataError, match=r"odd.h5: unexpected keys \['density'\]"):
        load_pdebench_hdf5(path)
    with h5py.File(tmp_path / "shape.h5", "w") as f:
        f["nu"], f["tensor"] = rng.random((2, 8, 8)), rng.random((2, 8, 8))
    with pytest.raises(DataError, match=r"'nu' \(2, 8, 8\) and 'tensor' \(2, 8, 8\)"):
        load_pdebench_hdf5(tmp_path / "shape.h5")
    big = tmp_path / "big.h5"
    with h5py.File(big, "w") as f:
        f["tensor"] = rng.random((50, 10, 64))
        f["x-coordinate"] = np.linspace(0, 1, 64)
    _truncate(big, 0.3)
    with pytest.raises(DataError, match="big.h5.*truncated or corrupt"):
        load_pdebench_hdf5(big)


# ---- download code ------------------------------------------------------------------------

def test_downloads_without_network_say_where_to_put_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(DownloadError) as info:
        pdebench_file("2D_DarcyFlow_beta1.0_Train.hdf5", root=tmp_path)
    msg = str(info.value)
    assert "darus.uni-stuttgart.de/api/access/datafile/133219" in msg
    assert str(tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5") in msg
    assert not list(tmp_path.iterdir()), "no partial download remains"
    with pytest.raises(DownloadError, match="raw.githubusercontent.com"):
        load_neuraloperator("darcy", root=tmp_path)
    with pytest.raises(ValueError, match="unknown PDEBench file 'x.h5'"):
        pdebench_file("x.h5", root=tmp_path)


def test_fno_file_points_to_drive(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="drive.google.com.*piececonst_r421_N1024_smooth1"):
        fno_file("piececonst_r421_N1024_smooth1.mat", root=tmp_path)
    (tmp_path / "piececonst_r421_N1024_smooth1.mat").write_bytes(b"x")
    assert fno_file("piececonst_r421_N1024_smooth1.mat", root=tmp_path).is_file()
