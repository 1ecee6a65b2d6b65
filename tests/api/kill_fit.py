"""``sciml.fit`` of a recipe that SIGKILLs its own process right after its k-th optimizer step.

Usage: ``kill_fit.py RECIPE.yaml RUN_DIR K``. Used by test_kill_resume.py: the killed run is then
resumed and compared with an uninterrupted one.
"""

import os
import signal
import sys

import torch
import yaml

import sciml


def main(recipe_path: str, run_dir: str, kill_at: int) -> None:
    torch.set_num_threads(1)
    steps = [0]

    def hook(optimizer, args, kwargs):
        steps[0] += 1
        if steps[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    from torch.optim.optimizer import register_optimizer_step_post_hook

    register_optimizer_step_post_hook(hook)
    with open(recipe_path) as f:
        recipe = yaml.safe_load(f)
    sciml.fit(recipe, run_dir, progress=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
