"""Train a tiny dropout MLP; with SCIML_TEST_KILL_AT=k, SIGKILL this process in the k-th training
forward. Used by test_resume_kill.py: usage ``resume_script.py RUN_DIR OUT.pt``."""

import os
import signal
import sys

import torch
from train_fixtures import Regression, RegressionTask, make_task

from sciml.train import Trainer


class KillingTask(RegressionTask):
    def __init__(self, model, kill_at):
        super().__init__(model)
        self.kill_at, self.calls = kill_at, 0

    def forward(self, batch):
        self.calls += 1
        if self.calls == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().forward(batch)


def main(run_dir, out):
    torch.set_num_threads(1)
    kill_at = int(os.environ.get("SCIML_TEST_KILL_AT", "0"))
    task = KillingTask(make_task(dropout=0.3).model, kill_at)
    trainer = Trainer(run_dir=run_dir, max_epochs=3, batch_size=8, checkpoint_every_steps=3,
                      optimizer={"name": "adam", "lr": 1e-2},
                      scheduler={"name": "warmup_cosine", "warmup": 4}, progress=False,
                      tensorboard=False)
    result = trainer.fit(task, Regression(37), Regression(12, seed=1))
    history = [{k: v for k, v in row.items() if k != "seconds"} for row in result.history]
    torch.save({"params": task.state_dict(), "history": history, "steps": result.steps}, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
