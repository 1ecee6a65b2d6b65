import random

import numpy as np
import pytest
import torch

from sciml.errors import DataError
from sciml.train import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from sciml.train._checkpoint import CHECKPOINT_KEYS


def _draws():
    return (torch.rand(3).tolist(), np.random.rand(3).tolist(), np.random.randn(1).tolist(),
            [random.random() for _ in range(3)], random.gauss(0, 1))


def test_rng_round_trip_through_a_weights_only_file(tmp_path):
    np.random.randn(1)  # leaves a cached gaussian in numpy's state
    random.gauss(0, 1)  # and in Python's
    state = capture_rng()
    expected = _draws()
    torch.save(state, tmp_path / "rng.pt")
    _draws()  # move every generator on
    restore_rng(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert _draws() == expected


def _payload():
    state = {k: 0 for k in CHECKPOINT_KEYS}
    state.update(model={"state_dict": {"w": torch.ones(2)}}, rng=capture_rng(), history=[])
    return state


def test_save_and_load(tmp_path):
    path = tmp_path / "c" / "last.pt"
    save_checkpoint(_payload(), path)
    back = load_checkpoint(path)
    assert torch.equal(back["model"]["state_dict"]["w"], torch.ones(2))
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temporary left


def test_save_refuses_an_incomplete_state(tmp_path):
    state = _payload()
    del state["optimizer"]
    with pytest.raises(ValueError, match="optimizer"):
        save_checkpoint(state, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere"):
        load_checkpoint(tmp_path / "nothere.pt")
    save_checkpoint(_payload(), tmp_path / "good.pt")
    data = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.pt"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({"model": {}}, tmp_path / "foreign.pt")
    with pytest.raises(DataError, match="missing key"):
        load_checkpoint(tmp_path / "foreign.pt")
