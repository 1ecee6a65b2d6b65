"""The engine keeps freed memory in the process (glibc): on by default, off by the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import torch
from sciml.train import Trainer, TrainerConfig, AbstractTask, allocator_tuned

class Task(AbstractTask):
    def __init__(self):
        super().__init__(torch.nn.Linear(1, 1, bias=False))
    def forward(self, batch):
        return ((self.model.weight[0] - batch) ** 2).mean()
    def predict(self, batch):
        return self.model.weight[0].expand_as(batch)
    def metrics(self, batch):
        err = ((self.model.weight[0] - batch) ** 2).sum()
        return {"loss": (err, torch.tensor(float(batch.numel())))}

before = allocator_tuned()
Trainer(TrainerConfig(max_epochs=1, batch_size=2, progress=False, tensorboard=False)).fit(
    Task(), torch.arange(4.0))
print(before, allocator_tuned())
"""


def _run(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "SCIML_MALLOC_TUNING"}
    if env_value is not None:
        env["SCIML_MALLOC_TUNING"] = env_value
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.confstr(
    "CS_GNU_LIBC_VERSION").startswith("glibc"), reason="glibc only")
def test_fit_tunes_glibc_malloc_unless_switched_off():
    assert _run(None) == "False True"
    assert _run("0") == "False False"
