from collections import namedtuple

import pytest
import torch
from train_fixtures import Regression, make_task

from sciml.errors import DataError
from sciml.train import Trainer
from sciml.train._batches import global_batches, move_to, rank_slice

QUIET = {"progress": False, "tensorboard": False}


def test_global_batches_and_rank_slices_cover_every_sample_once():
    batches = global_batches(torch.arange(11), 4)
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    for gb in batches:
        parts = [rank_slice(gb, r, 3) for r in range(3)]
        assert sorted(i for p in parts for i in p) == gb
    assert rank_slice([8], 1, 2) == []


def test_move_to_walks_containers():
    Pair = namedtuple("Pair", "a b")
    batch = {"x": torch.ones(2), "rest": [Pair(torch.zeros(1), 3), (torch.ones(1), "s")]}
    out = move_to(batch, torch.device("cpu"))
    assert isinstance(out["rest"][0], Pair) and out["rest"][0].b == 3
    assert out["rest"][1][1] == "s" and torch.equal(out["x"], torch.ones(2))


def test_worker_processes_give_the_same_run():
    def run(workers):
        task = make_task()
        Trainer(max_epochs=2, batch_size=8, num_workers=workers, **QUIET).fit(task, Regression(20))
        return [p.detach() for p in task.parameters()]

    for a, b in zip(run(0), run(2), strict=True):
        assert torch.equal(a, b)


def test_resume_into_a_different_model_is_a_data_error(tmp_path):
    Trainer(run_dir=tmp_path, max_epochs=1, batch_size=8, **QUIET).fit(make_task(), Regression(8))
    with pytest.raises(DataError, match="last.pt"):
        Trainer(run_dir=tmp_path, max_epochs=2, batch_size=8, **QUIET).fit(
            make_task(hidden=5), Regression(8))
