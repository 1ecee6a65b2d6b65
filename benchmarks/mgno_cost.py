"""Why MgNO's CPU epoch is slower than FNO's: arithmetic per step, and the rates this CPU reaches.

Issue 24 asks MgNO's epoch time ≤ 1.0× FNO's at equal parameters on Darcy 64²
(benchmarks/mgno_vs_fno.py measured 1.38× at 2 threads). This script measures what bounds that
ratio, in one process, on the models of mgno_vs_fno's Darcy 64² part:

- FNO: neuraloperator's ``FNO`` (``n_modes`` 24 × 24, 32 channels, 4 layers; 1,291,105 complex-
  counted-once parameters), and MgNO: ``sciml.models.MgNO`` as there (5 layers, 5 levels,
  smoothing 1, 1, 1, 2, 2, f restricted, width 32: 1,065,281 parameters, the multiple-of-8 width
  closest to FNO's count); input 3 channels (a and the two coordinates), batch 8, 64 × 64.
- The median time of a training step (forward, relative-L2-like loss, backward, Adam), the two
  models alternating step by step, ``--threads`` threads (default 1, as the issue's targets).
- The floating-point operations of one step, counted by ``torch.utils.flop_counter``
  (convolutions, matmuls; FNO's FFTs are not counted, so its count is a lower bound).
- The rate this CPU reaches on MgNO's dominant operation, a 3 × 3, 32 → 32 channel convolution at
  64² (batch 8, channels-last as MgNO runs it): forward alone, and forward + both gradients.
- The **floor**: MgNO's operations at the forward convolution's rate, i.e. its step time if
  every operation ran as fast as the fastest one here, divided by FNO's measured step. A ratio
  target below that floor cannot be reached by faster kernels on this CPU, only by doing less
  arithmetic (a different model).

Run: ``.venv-fno/bin/python benchmarks/mgno_cost.py`` (about 2 minutes; ``--quick``: fewer steps,
not recorded). Needs neuraloperator (``bash benchmarks/setup_fno_env.sh``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

BATCH, RES, IN_CH = 8, 64, 3


def models() -> dict[str, torch.nn.Module]:
    from neuralop.models import FNO

    from sciml.models import MgNO, MgNOConfig

    torch.manual_seed(0)
    fno = FNO(n_modes=(24, 24), in_channels=IN_CH, out_channels=1, hidden_channels=32,
              n_layers=4, positional_embedding=None)
    mgno = MgNO(MgNOConfig(width=32, n_layers=5, num_smooth=[1, 1, 1, 2, 2],
                           boundary="dirichlet", restrict_residual=False),
                in_channels=IN_CH, out_channels=1, ndim=2, resolution=RES)
    return {"FNO": fno, "MgNO": mgno}


def _loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((out - y).flatten(1).norm(dim=1) / y.flatten(1).norm(dim=1)).mean()


def step_times(nets: dict[str, torch.nn.Module], steps: int) -> dict[str, float]:
    """Median seconds of a training step per model, the models alternating."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, IN_CH, RES, RES, generator=gen)
    y = torch.randn(BATCH, 1, RES, RES, generator=gen)
    opts = {k: torch.optim.Adam(m.parameters(), lr=1e-3) for k, m in nets.items()}

    def step(name: str) -> float:
        t0 = time.perf_counter()
        opts[name].zero_grad(set_to_none=True)
        _loss(nets[name](x), y).backward()
        opts[name].step()
        return time.perf_counter() - t0

    for name in nets:  # warm-up: allocator, oneDNN primitives
        for _ in range(3):
            step(name)
    times: dict[str, list[float]] = {k: [] for k in nets}
    for _ in range(steps):
        for name in nets:
            times[name].append(step(name))
    return {k: sorted(v)[len(v) // 2] for k, v in times.items()}


def step_flops(net: torch.nn.Module) -> tuple[float, dict[str, float]]:
    """Floating-point operations of one forward + backward, in all and per operator."""
    x = torch.randn(BATCH, IN_CH, RES, RES)
    y = torch.randn(BATCH, 1, RES, RES)
    with FlopCounterMode(display=False) as fc:
        _loss(net(x), y).backward()
    per = {str(k).split(".")[-1]: float(v) for k, v in fc.get_flop_counts()["Global"].items()}
    net.zero_grad(set_to_none=True)
    return float(fc.get_total_flops()), per


def conv_rates(repeats: int) -> tuple[float, float]:
    """GFLOP/s of MgNO's dominant convolution: forward alone, forward + both gradients."""
    x = torch.randn(BATCH, 32, RES, RES).contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    w = torch.randn(32, 32, 3, 3, requires_grad=True)
    flops = 2.0 * BATCH * RES * RES * 32 * 32 * 9  # one pass; each gradient is another

    def median(fn) -> float:
        for _ in range(3):
            fn()
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return sorted(ts)[len(ts) // 2]

    with torch.no_grad():
        fwd = median(lambda: F.conv2d(x, w, padding=1))
    g = torch.randn(BATCH, 32, RES, RES).contiguous(memory_format=torch.channels_last)
    both = median(lambda: torch.autograd.grad(F.conv2d(x, w, padding=1), (x, w), g))
    return flops / fwd / 1e9, 3 * flops / both / 1e9


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=15, help="timed steps per model")
    ap.add_argument("--quick", action="store_true", help="3 steps (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    run = _record.start("mgno_cost", args, quick=args.quick, argv=argv)
    nets = models()
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in nets.items()}
    flops = {k: step_flops(m) for k, m in nets.items()}
    sec = step_times(nets, 3 if args.quick else args.steps)
    fwd_rate, train_rate = conv_rates(5 if args.quick else 20)
    rate = {k: flops[k][0] / sec[k] / 1e9 for k in nets}
    floor = flops["MgNO"][0] / (fwd_rate * 1e9)
    ratio = sec["MgNO"] / sec["FNO"]
    floor_ratio = floor / sec["FNO"]
    setting = f"Darcy 64² models of mgno_vs_fno, batch {BATCH}, {args.threads} thread(s)"
    rows = [f"| {k} | {params[k]:,} | {sec[k] * 1e3:.0f} | {flops[k][0] / 1e9:.2f} | "
            f"{rate[k]:.1f} | " + ", ".join(f"{op} {v / 1e9:.2f}" for op, v in
                                            sorted(flops[k][1].items())) + " |" for k in nets]
    body = "\n".join([
        f"- {setting}; step: forward, relative L2 loss, backward, Adam; median of "
        f"{3 if args.quick else args.steps} steps per model, alternating",
        "- GFLOP counted by torch.utils.flop_counter (convolutions, matmuls); FNO's FFTs are "
        "not counted, so its count and rate are lower bounds",
        "",
        "| model | parameters | ms / step | GFLOP / step | GFLOP/s reached | GFLOP by operator |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"- MgNO's 3 × 3 convolution (32 → 32, 64², batch {BATCH}, channels-last) on this CPU: "
        f"{fwd_rate:.1f} GFLOP/s forward alone, {train_rate:.1f} GFLOP/s forward + both "
        "gradients",
        f"- MgNO step / FNO step: **{ratio:.2f}** (issue 24's target ≤ 1.0)",
        f"- floor: MgNO's {flops['MgNO'][0] / 1e9:.1f} GFLOP at the forward rate take "
        f"{floor * 1e3:.0f} ms, **{floor_ratio:.2f}×** FNO's step: the ratio no kernel can take "
        "MgNO below on this CPU without less arithmetic",
        f"- at the rate of forward + both gradients of that convolution (what oneDNN reaches in "
        f"training) MgNO's operations take "
        f"{flops['MgNO'][0] / train_rate / 1e6:.0f} ms, "
        f"{flops['MgNO'][0] / (train_rate * 1e9) / sec['FNO']:.2f}× FNO's step",
        f"- MgNO does {flops['MgNO'][0] / flops['FNO'][0]:.1f}× FNO's counted operations at "
        f"{params['MgNO'] / params['FNO']:.2f}× its parameters: its parameters are 3 × 3 "
        "kernels applied at every grid point of every level, FNO's mostly spectral weights "
        "applied once per retained mode",
    ])
    comps = [
        _record.comparison("mgno_cost.step_time", "Darcy 64²: seconds per training step, "
                           "MgNO / FNO (same process, alternating)", sec["MgNO"], sec["FNO"],
                           unit="s", anchor_name="FNO", target=("ratio", "<=", 1.0),
                           setting=setting),
        _record.comparison("mgno_cost.floor", "Darcy 64²: MgNO's operations at this CPU's "
                           "forward-convolution rate, against FNO's measured step (the lowest "
                           "ratio faster kernels could give)", floor, sec["FNO"], unit="s",
                           anchor_name="FNO step", setting=setting),
        _record.comparison("mgno_cost.flops", "Darcy 64²: floating-point operations per "
                           "training step, MgNO / FNO (FNO's FFTs not counted)",
                           flops["MgNO"][0] / 1e9, flops["FNO"][0] / 1e9, unit="GFLOP",
                           anchor_name="FNO", setting=setting),
    ]
    run.record("MgNO vs FNO: arithmetic per step and the CPU's rates", body, comps)


if __name__ == "__main__":
    main()
