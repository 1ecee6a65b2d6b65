"""A few training steps of a float64 hard-constraint MoE (4 experts) with ``expert_parallel``;
run alone or under torchrun. Used by test_expert_parallel.py.

usage: ``expert_parallel_script.py OUT.pt [WARM_START]``; rank 0 writes OUT.pt: the first
forward's field and solver info, the first step's gradients, the parameters after the steps.
"""

import os
import sys
import warnings

import torch

from sciml.models import HardConstrainedOperator, HCMoEConfig
from sciml.tasks import HardConstraintProblem, problem_data


def main(out: str, warm_start: str = "rows") -> None:
    torch.set_num_threads(1)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        torch.distributed.init_process_group("gloo")
    spec = HardConstraintProblem(problem="diffusion_sorption", n_x=16, n_t=9, n_train=4,
                                 n_test=1, seed=0)
    initial, _ = problem_data(spec, "train")
    torch.manual_seed(0)
    model = HardConstrainedOperator(
        HCMoEConfig(problem="diffusion_sorption", n_basis=6, experts=(4, 1), n_points=48,
                    on_fail="warn", warm_start=warm_start, expert_parallel=True,
                    backbone={"width": 4, "n_layers": 1, "levels": 2}),
        grid_shape=spec.grid_shape, t_final=spec.final_time).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(1)
    record = {}
    for step in range(3):
        u0 = initial[[step % 4, (step + 1) % 4]].double()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            u = model(u0, generator=gen)
        pde, rows = model.physics_loss(u, u0)
        opt.zero_grad()
        (pde + rows).backward()
        if step == 0:
            info = model.last_info
            record.update(u=u.detach(), iterations=info.iterations, rms=info.rms,
                          converged=info.converged, weights=info.weights.detach(),
                          grads={k: p.grad.clone() for k, p in model.named_parameters()})
        opt.step()
    record["params"] = {k: p.detach().clone() for k, p in model.named_parameters()}
    record["world"] = int(os.environ.get("WORLD_SIZE", "1"))
    if int(os.environ.get("RANK", "0")) == 0:
        torch.save(record, out)
    elif record["world"] > 1:   # every rank ends with the same parameters
        torch.save(record["params"], out + f".rank{os.environ['RANK']}")


if __name__ == "__main__":
    main(*sys.argv[1:])
