"""The cached GPVAR data set."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import sciml.datasets._forecasting_gpvar as gpvar_module
import torch
from sciml.datasets import load_gpvar
from sciml.solvers import generate_gpvar

from sciml.data import read_hdf5
from sciml.registry import DATASETS


def test_load_gpvar_matches_generator_and_caches(tmp_path, monkeypatch):
    s = load_gpvar(n_nodes=30, n_steps=200, seed=2, root=tmp_path)
    ref = generate_gpvar(n_nodes=30, n_steps=200, seed=2)
    assert s.values.shape == (200, 30, 1) and s.name == "gpvar"
    np.testing.assert_allclose(s.values[..., 0].numpy(), ref.values.astype(np.float32))
    assert s.edge_index.tolist() == ref.edge_index.tolist()
    assert torch.all(s.edge_weight == 1) and bool(s.mask.all())
    files = list(tmp_path.glob("gpvar_*.h5"))
    assert len(files) == 1
    arrays, attrs = read_hdf5(files[0])
    assert attrs["sciml_params"]["n_nodes"] == 30 and attrs["sciml_params"]["seed"] == 2
    assert "sciml_hash" in attrs and set(arrays) == {"values", "noise", "edge_index", "pos"}

    def fail(**kwargs):
        raise AssertionError("regenerated although a matching cache file exists")

    monkeypatch.setattr(gpvar_module, "generate_gpvar", fail)
    again = load_gpvar(n_nodes=30, n_steps=200, seed=2, root=tmp_path)
    assert torch.equal(again.values, s.values)
    with pytest.raises(AssertionError, match="regenerated"):
        load_gpvar(n_nodes=30, n_steps=200, seed=3, root=tmp_path)


def test_tampered_cache_is_regenerated(tmp_path):
    s = load_gpvar(n_nodes=20, n_steps=50, root=tmp_path)
    (path,) = tmp_path.glob("gpvar_*.h5")
    with h5py.File(path, "r+") as f:
        f["values"][0, 0] = 99.0
    again = load_gpvar(n_nodes=20, n_steps=50, root=tmp_path)
    assert torch.equal(again.values, s.values)
    read_hdf5(path)  # the rewritten file verifies


def test_registered_and_default_cache(tmp_path):
    assert "gpvar" in DATASETS
    s = DATASETS.build("gpvar", {"n_nodes": 25, "n_steps": 40})
    assert s.values.shape == (40, 25, 1)
    with pytest.raises(ValueError, match="n_nodez"):
        DATASETS.build("gpvar", {"n_nodez": 25})
    windows = s.windows(window=12, horizon=3)
    assert len(windows) == 40 - 12 - 3 + 1
