"""The ``arrays`` data set: operator pairs from files written by numpy, h5py, torch and scipy (and
neuraloperator's own files); layouts, splits, extent; bad input as one-line errors naming the file
and the key."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import torch
from sciml.datasets import PDEData, load_arrays, load_neuraloperator_pt, read_grid_fields

from sciml.errors import ConfigError, DataError
from sciml.registry import DATASETS


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_npz_from_numpy_channel_last_output_extent_and_split(tmp_path, rng):
    x, y = rng.random((10, 8, 6)), rng.random((10, 8, 6, 3))  # y channel-last, 3 channels
    np.savez(tmp_path / "d.npz", a=x, u=y)
    data = DATASETS.build("arrays", {"path": str(tmp_path / "d.npz"), "x_key": "a",
                                     "y_key": "u", "extent": [2, [-1, 1]]})
    assert isinstance(data, PDEData) and data.name == "arrays"
    assert data.x_train.shape == (8, 1, 8, 6) and data.y_train.shape == (8, 3, 8, 6)
    assert data.x_test.shape == (2, 1, 8, 6) and data.x_train.dtype == torch.float32
    np.testing.assert_allclose(data.y_test.numpy(), np.moveaxis(y[8:], -1, 1), rtol=1e-6)
    np.testing.assert_allclose(data.x_train[:, 0].numpy(), x[:8], rtol=1e-6)
    assert data.extent == ((0.0, 2.0), (-1.0, 1.0)) and data.boundary == "dirichlet"
    assert data.params["x_layout"] == "none" and data.params["y_layout"] == "channel_last"


def test_npy_files_channel_first_and_a_finer_test_grid(tmp_path, rng):
    x, y = rng.random((6, 2, 16)), rng.random((6, 16))  # x channel-first, y without channels
    xt, yt = rng.random((3, 2, 32)), rng.random((3, 32))
    for name, a in dict(x=x, y=y, xt=xt, yt=yt).items():
        np.save(tmp_path / f"{name}.npy", a)
    data = load_arrays(x=str(tmp_path / "x.npy"), y=str(tmp_path / "y.npy"),
                       x_test=str(tmp_path / "xt.npy"), y_test=str(tmp_path / "yt.npy"),
                       boundary="periodic", extent=6.0, n_test=2)
    assert data.x_train.shape == (6, 2, 16) and data.y_train.shape == (6, 1, 16)
    assert data.x_test.shape == (2, 2, 32) and data.extent == ((0.0, 6.0),)
    np.testing.assert_allclose(data.x_test.numpy(), xt[:2], rtol=1e-6)


def test_hdf5_from_h5py_nested_keys_and_explicit_channel_last(tmp_path, rng):
    v = rng.random((5, 8, 8, 2))  # PDEBench-like (n, s, s, c) in both x and y
    with h5py.File(tmp_path / "v.h5", "w") as f:
        f.create_dataset("inputs/velocity", data=v)
        f.create_dataset("outputs/velocity", data=2 * v)
    options = dict(path=str(tmp_path / "v.h5"), x_key="inputs/velocity",
                   y_key="outputs/velocity")
    with pytest.raises(DataError, match=r"v\.h5.*'inputs/velocity'.*an axis of 2 points.*"
                                        r"layout"):
        load_arrays(**options)  # auto reads the same rank as a grid: (8, 8, 2) is refused
    data = load_arrays(**options, layout="channel_last", n_test=1)
    assert data.x_train.shape == (4, 2, 8, 8) and data.ndim == 2
    np.testing.assert_allclose(data.y_train.numpy(), 2 * np.moveaxis(v[:4], -1, 1), rtol=1e-6)


def test_torch_save_dict_nested_bool_inputs_and_lone_tensors(tmp_path):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 8, 8, generator=g) > 0.5
    y = torch.rand(6, 8, 8, generator=g, dtype=torch.float64)
    torch.save({"data": {"x": x, "y": y}, "meta": 3}, tmp_path / "d.pt")
    data = load_arrays(path=str(tmp_path / "d.pt"), x_key="data/x", y_key="data/y", n_test=2,
                       n_train=3)
    assert data.x_train.shape == (3, 1, 8, 8) and data.x_train.dtype == torch.float32
    assert set(data.x_train.unique().tolist()) <= {0.0, 1.0}
    torch.save(x, tmp_path / "x.pt")  # one tensor per file: the key is not needed
    torch.save(y, tmp_path / "y.pt")
    lone = load_arrays(x=str(tmp_path / "x.pt"), y=str(tmp_path / "y.pt"), n_test=2)
    torch.testing.assert_close(lone.y_test, y[4:, None].float())


def test_scipy_savemat_v5_and_matlab_v73(tmp_path, rng):
    a, u = rng.random((5, 9, 9)), rng.random((5, 9, 9))
    scipy.io.savemat(tmp_path / "d.mat", {"coeff": a, "sol": u})
    data = load_arrays(path=str(tmp_path / "d.mat"), x_key="coeff", y_key="sol", n_test=1)
    np.testing.assert_allclose(data.y_train[:, 0].numpy(), u[:4], rtol=1e-6)
    # MATLAB v7.3: HDF5 after a 512-byte header, column-major (h5py sees the axes reversed)
    with h5py.File(tmp_path / "v73.mat", "w", userblock_size=512) as f:
        f.create_dataset("coeff", data=np.ascontiguousarray(a.T))
        f.create_dataset("sol", data=np.ascontiguousarray(u.T))
    with open(tmp_path / "v73.mat", "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created by: sciml tests")
    v73 = load_arrays(path=str(tmp_path / "v73.mat"), x_key="coeff", y_key="sol", n_test=1)
    torch.testing.assert_close(v73.y_train, data.y_train)


def test_trajectories_time_first_and_fno_time_last(tmp_path, rng):
    u0, traj = rng.random((4, 8, 8)), rng.random((4, 8, 8, 5))  # FNO NS: u (n, s, s, T)
    scipy.io.savemat(tmp_path / "ns.mat", {"a": u0, "u": traj})
    data = load_arrays(path=str(tmp_path / "ns.mat"), x_key="a", y_key="u", time_dependent=True,
                       time_axis=-1, boundary="periodic", n_test=1)
    assert data.time_dependent and data.y_train.shape == (3, 5, 1, 8, 8)
    np.testing.assert_allclose(data.y_train[:, :, 0].numpy(), np.moveaxis(traj[:3], -1, 1),
                               rtol=1e-6)
    with pytest.raises(DataError, match=r"ns\.mat.*'a'.*grid \(8, 8\).*'u'.*\(8, 5\)"):
        load_arrays(path=str(tmp_path / "ns.mat"), x_key="a", y_key="u", time_dependent=True,
                    n_test=1)  # time on axis 1 leaves a grid that is not x's


def test_random_split_is_seeded_and_disjoint(tmp_path):
    x = np.arange(20, dtype=np.float32)[:, None, None] * np.ones((1, 4, 4), np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=x)
    last = load_arrays(path=str(tmp_path / "d.npz"), test_fraction=0.25)
    assert last.x_test[:, 0, 0, 0].tolist() == [15, 16, 17, 18, 19]
    a = load_arrays(path=str(tmp_path / "d.npz"), test_fraction=0.25, seed=3)
    b = load_arrays(path=str(tmp_path / "d.npz"), test_fraction=0.25, seed=3)
    ids_test, ids_train = set(a.x_test[:, 0, 0, 0].tolist()), set(a.x_train[:, 0, 0, 0].tolist())
    assert torch.equal(a.x_test, b.x_test) and len(ids_test) == 5
    assert not ids_test & ids_train and len(ids_train) == 15 and ids_test != set(range(15, 20))


def test_real_neuraloperator_files_read_as_their_own_reader_does(shared_data):
    train, test = (shared_data / "pde" / f"darcy_{split}_16.pt" for split in ("train", "test"))
    data = load_arrays(train=str(train), test=str(test))  # x bool (n, 16, 16), y (n, 16, 16)
    x, y, _ = load_neuraloperator_pt(train)
    torch.testing.assert_close(data.x_train, x)
    torch.testing.assert_close(data.y_train, y)
    assert data.x_test.shape == (50, 1, 16, 16) and data.extent == ((0.0, 1.0), (0.0, 1.0))
    burgers = load_arrays(train=str(shared_data / "pde" / "burgers_train_16.pt"),
                          test=str(shared_data / "pde" / "burgers_test_16.pt"),
                          time_dependent=True, boundary="periodic")
    assert burgers.x_train.shape == (800, 1, 16) and burgers.y_train.shape == (800, 17, 1, 16)


def test_read_grid_fields_accepts_the_training_layout_and_channel_first(tmp_path, rng):
    np.save(tmp_path / "a.npy", rng.random((2, 8, 8)))
    np.savez(tmp_path / "b.npz", q=rng.random((2, 8, 8, 3)))
    assert read_grid_fields(tmp_path / "a.npy", layout="none", ndim=2).shape == (2, 1, 8, 8)
    assert read_grid_fields(tmp_path / "b.npz", key="q", layout="channel_last",
                            ndim=2).shape == (2, 3, 8, 8)
    with pytest.raises(DataError, match=r"a\.npy.*\(2, 8, 8\).*3 grid axes"):
        read_grid_fields(tmp_path / "a.npy", ndim=3)


# ---- bad input ------------------------------------------------------------------------------

def _pair(tmp_path: Path, x: np.ndarray, y: np.ndarray, name: str = "d.npz") -> str:
    np.savez(tmp_path / name, x=x, y=y)
    return str(tmp_path / name)


def _bad_cases(tmp_path: Path, rng: np.random.Generator) -> dict[str, tuple[dict, type, str]]:
    ok = rng.random((6, 8, 8))
    nan, inf = ok.copy(), ok.copy()
    nan[2, 3, 4], inf[0, 0, 1] = np.nan, np.inf
    (tmp_path / "folder.npz").mkdir()
    (tmp_path / "d.csv").write_text("x,y\n1,2\n")
    good = _pair(tmp_path, ok, ok, "good.npz")
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(Path(good).read_bytes()[:200])
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "y.npy", ok)
    np.save(tmp_path / "x.npy", ok)
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f.create_dataset("x", data=ok)
        f.create_group("y")
    torch.save({"x": torch.zeros(6, 8, 8)}, tmp_path / "d.pt")
    torch.save({"x": ok, "y": ok}, tmp_path / "numpy.pt")  # numpy arrays: refused by weights_only
    torch.save([torch.zeros(6, 8, 8)], tmp_path / "list.pt")
    (tmp_path / "cut.pt").write_bytes((tmp_path / "d.pt").read_bytes()[:300])
    (tmp_path / "cut.h5").write_bytes((tmp_path / "d.h5").read_bytes()[:1000])
    p = str(tmp_path)
    return {
        "missing npz key": ({"path": good, "y_key": "sol"}, DataError,
                            r"good\.npz \(data\.options\.path\): no array 'sol'; arrays found: "
                            r"\['x', 'y'\]"),
        "missing h5 key (a group)": ({"path": f"{p}/d.h5"}, DataError,
                                     r"d\.h5 \(data\.options\.path\): no array 'y'; arrays "
                                     r"found: \['x'\]"),
        "missing pt key": ({"path": f"{p}/d.pt"}, DataError, r"d\.pt.*no array 'y'"),
        "sample counts": ({"path": _pair(tmp_path, ok, ok[:5], "n.npz")}, DataError,
                          r"n\.npz \(data\.options\.path\): 'x' has 6 samples but .*'y' has 5"),
        "grids": ({"path": _pair(tmp_path, ok, rng.random((6, 8, 9)), "g.npz")}, DataError,
                  r"g\.npz.*'x' has grid \(8, 8\) but .*'y' has \(8, 9\)"),
        "NaN": ({"path": _pair(tmp_path, ok, nan, "nan.npz")}, DataError,
                r"nan\.npz \(data\.options\.path\): 'y' holds 1 NaN or infinite values \(the "
                r"first at index \(2, 3, 4\)\)"),
        "inf": ({"x": _pair(tmp_path, inf, ok, "inf.npz"), "y": f"{p}/y.npy"}, DataError,
                r"inf\.npz \(data\.options\.x\): 'x' holds 1 NaN or infinite values \(the "
                r"first at index \(0, 0, 1\)\)"),
        "unknown suffix": ({"path": f"{p}/d.csv"}, DataError,
                           r"d\.csv \(data\.options\.path\): unknown suffix '\.csv'"),
        "a folder": ({"train": f"{p}/folder.npz"}, DataError,
                     r"folder\.npz \(data\.options\.train\) is a folder"),
        "no file": ({"path": f"{p}/none.npz"}, DataError,
                    r"no file at .*none\.npz \(data\.options\.path\)"),
        "truncated": ({"path": str(truncated)}, DataError, r"cut\.npz.*cannot read as a numpy"),
        "truncated pt": ({"path": f"{p}/cut.pt"}, DataError,
                         r"cut\.pt \(data\.options\.path\): cannot load as a torch file"),
        "truncated h5": ({"path": f"{p}/cut.h5"}, DataError,
                         r"cut\.h5 \(data\.options\.path\): cannot read as HDF5"),
        "numpy in pt": ({"path": f"{p}/numpy.pt"}, DataError,
                        r"numpy\.pt.*holds objects other than tensors \(numpy\."),
        "list in pt": ({"path": f"{p}/list.pt"}, DataError, r"list\.pt.*holds a list"),
        "pickled": ({"x": f"{p}/obj.npy", "y": f"{p}/y.npy"}, DataError,
                    r"obj\.npy \(data\.options\.x\): cannot read"),
        "npy as path": ({"path": f"{p}/x.npy"}, DataError, r"x\.npy.*holds one array"),
        "strings": ({"path": _pair(tmp_path, np.array([["a", "b"]] * 6), ok, "s.npz")}, DataError,
                    r"s\.npz.*'x' has dtype <U1; expected real numbers"),
        "test axes": ({"train": good, "test": _pair(tmp_path, rng.random((2, 8, 8, 2)),
                                                     rng.random((2, 8, 8)), "t.npz")},
                      DataError, r"t\.npz \(data\.options\.test\): 'x' has shape \(2, 8, 8, 2\)"
                                 r" but the training array has \(6, 8, 8\)"),
        "test channels": ({"train": _pair(tmp_path, ok, rng.random((6, 8, 8, 2)), "c2.npz"),
                           "test": _pair(tmp_path, ok[:2], rng.random((2, 8, 8, 3)), "c3.npz")},
                          DataError, r"c3\.npz \(data\.options\.test\): 'y' has 3 channels but "
                                     r"the training array has 2"),
        "ambiguous channel axis": ({"path": _pair(tmp_path, ok, rng.random((6, 8, 8, 8)),
                                                  "amb.npz")}, DataError,
                                   r"amb\.npz.*first or last; set data\.options\.layout"),
        "extent length": ({"path": good, "extent": [1, 2, 3]}, ConfigError,
                          r"data\.options\.extent=\[1\.0, 2\.0, 3\.0\]: .*good\.npz has the "
                          r"grid \(8, 8\); expected 2 entries"),
        "extent order": ({"path": good, "extent": [[1, 0], 1]}, ConfigError,
                         r"data\.options\.extent=.*entry \[1\.0, 0\.0\] is not"),
        "path and train": ({"path": good, "train": good}, ConfigError,
                           r"one of path .*got path, train"),
        "path and test": ({"path": good, "x_test": good, "y_test": good}, ConfigError,
                          r"data\.options\.path is one file split"),
        "x without y": ({"x": f"{p}/x.npy"}, ConfigError, r"got only x"),
        "nothing": ({}, ConfigError, r"got none of them"),
        "n_test": ({"path": good, "n_test": 6}, ConfigError,
                   r"data\.options\.n_test=6: .*good\.npz has 6 samples"),
        "fraction with a test file": ({"train": good, "test": good, "test_fraction": 0.5},
                                      ConfigError, r"test_fraction splits one file"),
        "time axis": ({"path": good, "time_dependent": True, "time_axis": 0}, ConfigError,
                      r"data\.options\.time_axis=0"),
        "layout": ({"path": good, "layout": "rows"}, ConfigError,
                   r"data\.options\.layout: 'rows' is not one of"),
        "boundary": ({"path": good, "boundary": "wall"}, ConfigError,
                     r"data\.options\.boundary: 'wall' is not one of"),
    }


@pytest.mark.parametrize("case", [
    "missing npz key", "missing h5 key (a group)", "missing pt key", "sample counts", "grids",
    "NaN", "inf", "unknown suffix", "a folder", "no file", "truncated", "truncated pt",
    "truncated h5", "numpy in pt", "list in pt", "pickled", "npy as path",
    "strings", "test axes", "test channels", "ambiguous channel axis", "extent length",
    "extent order", "path and train", "path and test", "x without y", "nothing", "n_test",
    "fraction with a test file", "time axis", "layout", "boundary"])
def test_bad_input_is_one_line_naming_file_and_key(case, tmp_path, rng):
    options, error, pattern = _bad_cases(tmp_path, rng)[case]
    with pytest.raises(error, match=pattern) as info:
        DATASETS.build("arrays", options, where="data.options")
    assert len(str(info.value).splitlines()) == 1, str(info.value)
