import pytest
import torch
from train_fixtures import Regression, RegressionTask, make_task

from sciml.errors import NonFiniteError
from sciml.train import Trainer
from sciml.train._batches import epoch_order, global_batches

QUIET = {"progress": False, "tensorboard": False}


class _Poisoned(Regression):
    """Sample ``bad`` has a NaN input."""

    def __init__(self, n, bad):
        super().__init__(n)
        self.x[bad, 0] = float("nan")


def test_nan_loss_names_where_and_takes_no_step(tmp_path):
    data, bad, batch_size = _Poisoned(37, bad=13), 13, 8
    batches = global_batches(epoch_order(37, 0, 0), batch_size)
    b = next(i for i, gb in enumerate(batches) if bad in gb)
    task = make_task()
    trainer = Trainer(run_dir=tmp_path, max_epochs=2, batch_size=batch_size,
                      checkpoint_every_steps=1, **QUIET)
    with pytest.raises(NonFiniteError) as e:
        trainer.fit(task, data)
    msg = str(e.value)
    assert f"epoch 0 (0-based), step {b}" in msg and f"batch {b} of the epoch" in msg
    assert str(batches[b]) in msg and "loss" in msg
    ckpt = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["step"] == b  # the last good state, readable
    for p, q in zip(task.state_dict().values(), ckpt["task_state"].values(), strict=True):
        assert torch.equal(p, q)  # the NaN batch did not update the parameters
        assert torch.isfinite(p).all()


def test_nan_check_can_be_disabled():
    task = make_task()
    result = Trainer(max_steps=3, batch_size=37, detect_nonfinite=False, **QUIET).fit(
        task, _Poisoned(37, bad=3))
    assert result.steps == 3
    assert not torch.isfinite(next(task.parameters())).all()


class _NaNGradient(RegressionTask):
    """A finite loss whose gradient is NaN: d sqrt(u)/du = inf at u = 0, times 0."""

    def forward(self, batch):
        zero = 0.0 * sum(p.sum() for p in self.model.parameters())
        return super().forward(batch) + torch.sqrt(zero)


@pytest.mark.parametrize("clip", [None, 1.0])
def test_nan_gradient_is_caught_before_the_step(clip):
    task = _NaNGradient(make_task().model)
    before = [p.detach().clone() for p in task.parameters()]
    with pytest.raises(NonFiniteError, match="gradient") as e:
        Trainer(max_epochs=1, batch_size=8, grad_clip=clip, **QUIET).fit(task, Regression(8))
    assert "step 0" in str(e.value)
    assert all(torch.equal(a, b) for a, b in zip(before, task.parameters(), strict=True))
