"""ChargedNBody: generation, HDF5 cache, independent split streams, bad input."""

from __future__ import annotations

import pytest
import torch
from sciml.datasets import ChargedNBody

from sciml.errors import ConfigError, DataError
from sciml.registry import DATASETS

SMALL = dict(n_train=6, n_val=3, n_test=4, n_steps=1000, sample_every=100, frame_in=3,
             frame_out=6)


def test_generates_caches_and_reads_back(tmp_path):
    data = ChargedNBody(**SMALL, root=str(tmp_path))
    train = data.split("train")
    assert train.pos.shape == (6, 5, 3) and train.charges.shape == (6, 5, 1)
    assert train.loc.shape == (6, 9, 5, 3) and train.pos.dtype == torch.float32
    assert torch.equal(train.pos, train.loc[:, 3]) and torch.equal(train.target, train.loc[:, 6])
    assert set(train.charges.unique().tolist()) <= {-1.0, 1.0}
    path = data.path("train")
    assert path.is_file() and not list(tmp_path.rglob("*.tmp*"))
    mtime = path.stat().st_mtime_ns
    again = ChargedNBody(**SMALL, root=str(tmp_path)).split("train")
    assert torch.equal(again.loc, train.loc) and path.stat().st_mtime_ns == mtime


def test_test_split_does_not_depend_on_n_train(tmp_path):
    a = ChargedNBody(**SMALL, root=str(tmp_path)).split("test")
    b = ChargedNBody(**{**SMALL, "n_train": 2}, root=str(tmp_path)).split("test")
    assert torch.equal(a.loc, b.loc)
    val = ChargedNBody(**SMALL, root=str(tmp_path)).split("val")
    assert not torch.equal(val.loc[:3], a.loc[:3])


def test_registered_with_checked_keys(tmp_path):
    data = DATASETS.build("nbody", {**SMALL, "root": str(tmp_path)})
    assert isinstance(data, ChargedNBody) and data.sizes["test"] == 4
    with pytest.raises(ConfigError, match="unknown key dataset.n_trains"):
        DATASETS.build("nbody", {"n_trains": 3})


def test_bad_arguments_and_corrupt_cache(tmp_path):
    with pytest.raises(ValueError, match="frame_in < frame_out"):
        ChargedNBody(**{**SMALL, "frame_out": 9}, root=str(tmp_path))
    with pytest.raises(ValueError, match="multiple of sample_every"):
        ChargedNBody(**{**SMALL, "n_steps": 1050}, root=str(tmp_path))
    with pytest.raises(ValueError, match="split must be one of"):
        ChargedNBody(**SMALL, root=str(tmp_path)).split("validation")
    data = ChargedNBody(**SMALL, root=str(tmp_path))
    data.split("val")
    path = data.path("val")
    path.write_bytes(path.read_bytes()[:200])  # truncate
    with pytest.raises(DataError, match=str(path.name)):
        ChargedNBody(**SMALL, root=str(tmp_path)).split("val")
