"""Fit a tiny float64 MLP; run alone or under torchrun. Used by test_distributed.py:
usage ``ddp_script.py RUN_DIR OUT.pt [--fail-on-rank-1]`` (rank 0 writes OUT.pt; with the flag,
rank 1 raises after fitting)."""

import os
import sys

import torch
from train_fixtures import Regression, make_task

from sciml.train import Trainer


def main(run_dir, out, fail_on_rank_1=False):
    torch.set_num_threads(1)
    task = make_task(hidden=8)
    # 33 samples, batch 8: the last global batch has one sample, so rank 1 has none there
    trainer = Trainer(run_dir=run_dir, max_epochs=2, batch_size=8, eval_batch_size=8,
                      grad_clip=0.5, optimizer={"name": "adam", "lr": 1e-2},
                      scheduler={"name": "cosine", "interval": "step"}, device="cpu",
                      progress=False, tensorboard=False, checkpoint_every_steps=4)
    result = trainer.fit(task, Regression(33), Regression(11, seed=1))
    if fail_on_rank_1 and os.environ.get("RANK") == "1":
        raise RuntimeError("deliberate failure on rank 1")
    test = trainer.evaluate(task, Regression(1, seed=2))  # rank 1 sees no sample at all
    if int(os.environ.get("RANK", "0")) == 0:
        history = [{k: v for k, v in row.items() if k != "seconds"} for row in result.history]
        torch.save({"params": task.state_dict(), "history": history, "test": test,
                    "world": int(os.environ.get("WORLD_SIZE", "1"))}, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], fail_on_rank_1="--fail-on-rank-1" in sys.argv[3:])
