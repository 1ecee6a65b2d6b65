"""PONITA vs MACE: training steps per second on energies and forces (batch of 5 aspirin molecules).

The issue's speed target: PONITA (Bekkers et al., ICLR 2024) in the reference's rMD17 setting
(hidden 128, 5 layers, 20 orientations, 256 basis functions, fully connected molecule graphs)
takes at least 2x as many training steps per second as MACE (Batatia et al., NeurIPS 2022;
mace-torch from PyPI). One step = energy forward, forces ``-dE/dpos`` with ``create_graph=True``,
the loss ``w_E MSE(E) + w_F MSE(F)``, backward and an Adam step, on the same 5 frames of the
shipped rMD17 aspirin file.

MACE pins its own e3nn (0.4.4; sciml uses 0.6), so it runs in ``.venv-mace`` (built by
``benchmarks/setup_mace_env.sh``): this script starts itself there with ``--mace-worker`` and reads
the timing back as JSON. Both sides use one thread. Rounds alternate PONITA and MACE so that the
load of other processes on the machine hits both alike; the best round of each is reported.

MACE models: ``small`` = MACE's CLI defaults (2 interactions, r_max 5 Å, 8 Bessel functions,
polynomial cutoff 5, max_ell 3, correlation 3, radial MLP [64, 64, 64], MLP_irreps 16x0e,
RealAgnosticResidualInteractionBlock) with ``128x0e`` hidden irreps (the size of the MACE-MP
"small" model, L = 0); ``default`` = the same with the CLI's default ``128x0e + 128x1o`` (L = 1).

Usage: ``python benchmarks/ponita_vs_mace.py [--steps 10 --rounds 3 --mace small,default]``;
``--mace none`` times PONITA alone (e.g. on a GPU machine without ``.venv-mace``: ``make
gpu-check``); ``--quick`` is a tiny-model smoke run. Recorded through ``benchmarks/_record.py``
(log entry in benchmarks/RESULTS.md, JSON record, results page) unless ``--no-record`` or
``--quick``: PONITA / MACE steps per second per MACE model and device (target ≥ 2 for the
20-orientation PONITA), or PONITA's steps per second alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "molecular" / "rmd17_aspirin_15frames.npz"
MACE_PYTHON = REPO / ".venv-mace" / "bin" / "python"


def _frames(path: Path, n: int) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {"z": f["nuclear_charges"], "pos": f["coords"][:n], "energy": f["energies"][:n],
                "forces": f["forces"][:n]}


# ---------------------------------------------------------------------------------- PONITA
def time_ponita(path: Path, batch: int, steps: int, warmup: int, device: str,
                num_ori: int = 20, quick: bool = False) -> dict:
    import torch
    from sciml.datasets import load_rmd17

    from sciml.models import Ponita, PonitaConfig
    from sciml.tasks import EnergyForceTask, collate_molecules, energy_force_statistics

    torch.manual_seed(0)
    data = load_rmd17(path=str(path), split=None, n_train=batch, n_val=0)
    cfg = PonitaConfig(hidden_size=16 if quick else 128, n_layers=1 if quick else 5,
                       num_ori=min(num_ori, 4) if quick else num_ori,
                       basis_dim=16 if quick else 256, degree=3, widening_factor=4,
                       layer_scale=None, radius=None)
    model = Ponita(cfg, in_channels=len(data.species), out_channels=1)
    per_atom, scale = energy_force_statistics(data.train)
    task = EnergyForceTask(model, data.species, per_atom, scale).to(device).train()
    graphs = collate_molecules([data.train[i] for i in range(batch)]).to(device)
    opt = torch.optim.Adam(task.parameters(), lr=5e-4)
    return _time_steps(lambda: task(graphs), opt, steps, warmup, device,
                       sum(p.numel() for p in model.parameters()))


def _time_steps(loss_fn, opt, steps: int, warmup: int, device: str, n_params: int) -> dict:
    import torch

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return float(loss.detach())

    for _ in range(warmup):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    losses = [step() for _ in range(steps)]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    return {"steps_per_s": steps / seconds, "seconds": seconds, "steps": steps,
            "parameters": n_params, "first_loss": losses[0], "last_loss": losses[-1]}


# ------------------------------------------------------------------------------------ MACE
def time_mace(path: Path, batch: int, steps: int, warmup: int, device: str, size: str) -> dict:
    """Runs inside .venv-mace (mace-torch, e3nn 0.4.4)."""
    import mace
    import torch
    from e3nn import o3
    from mace import data as mdata
    from mace import modules, tools
    from mace.tools import torch_geometric

    torch.manual_seed(0)
    torch.set_default_dtype(torch.float32)
    fr = _frames(path, batch)
    z_table = tools.AtomicNumberTable(sorted(int(v) for v in np.unique(fr["z"])))
    r_max = 5.0
    configs = [mdata.Configuration(atomic_numbers=fr["z"], positions=fr["pos"][i],
                                   properties={"energy": float(fr["energy"][i]),
                                               "forces": fr["forces"][i]},
                                   property_weights={"energy": 1.0, "forces": 1.0})
               for i in range(batch)]
    loader = torch_geometric.dataloader.DataLoader(
        [mdata.AtomicData.from_config(c, z_table=z_table, cutoff=r_max) for c in configs],
        batch_size=batch, shuffle=False)
    graphs = next(iter(loader)).to(device)
    avg_neighbors = float(modules.compute_avg_num_neighbors(loader))
    energy_per_atom = float(fr["energy"].mean()) / len(fr["z"])
    hidden = {"small": "128x0e", "default": "128x0e + 128x1o"}[size]
    model = modules.ScaleShiftMACE(
        r_max=r_max, num_bessel=8, num_polynomial_cutoff=5, max_ell=3,
        interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        interaction_cls_first=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        num_interactions=2, num_elements=len(z_table), hidden_irreps=o3.Irreps(hidden),
        MLP_irreps=o3.Irreps("16x0e"), atomic_energies=np.full(len(z_table), energy_per_atom),
        avg_num_neighbors=avg_neighbors, atomic_numbers=z_table.zs, correlation=3,
        gate=torch.nn.functional.silu, radial_MLP=[64, 64, 64],
        atomic_inter_scale=float(np.sqrt(np.mean(fr["forces"] ** 2))), atomic_inter_shift=0.0,
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    target_e = graphs["energy"]
    target_f = graphs["forces"]

    def loss_fn():
        out = model(graphs.to_dict(), training=True, compute_force=True)
        return (torch.mean((out["energy"] - target_e) ** 2) / 500.0
                + torch.mean((out["forces"] - target_f) ** 2))

    res = _time_steps(loss_fn, opt, steps, warmup, device,
                      sum(p.numel() for p in model.parameters()))
    res.update(mace_version=mace.__version__, hidden_irreps=hidden, avg_num_neighbors=avg_neighbors)
    return res


def run_mace_worker(args: argparse.Namespace, size: str) -> dict:
    if not MACE_PYTHON.is_file():
        raise FileNotFoundError(f"{MACE_PYTHON} is missing: run benchmarks/setup_mace_env.sh")
    cmd = [str(MACE_PYTHON), __file__, "--mace-worker", size, "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--batch", str(args.batch), "--device", args.device,
           "--data", str(args.data)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"MACE worker failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------- reporting
def _ponita_key(num_ori: int) -> str:
    return "ponita" if num_ori == 20 else f"ponita_o{num_ori}"


def report(args, best: dict, rounds: list, loads: tuple, wall: float) -> str:
    keys = [_ponita_key(o) for o in args.num_ori]
    p = best[keys[0]]
    mace = (f"mace-torch {best[args.mace[0]].get('mace_version', '?')} (own venv, e3nn 0.4.4)"
            if args.mace else "MACE not run (--mace none)")
    lines = [
        f"- wall time {wall / 60:.1f} min; device {args.device}, {args.threads} thread(s) per "
        f"side; {mace}" + ("; QUICK: tiny PONITA (hidden 16, 1 layer, ≤ 4 orientations, basis "
                          "16), not the setting below" if args.quick else ""),
        f"- load average (1 min) at start / end: {loads[0]:.1f} / {loads[1]:.1f} (other "
        "processes share the cores; rounds alternate the models, best round reported)",
        f"- setting: batch of {args.batch} aspirin frames (21 atoms; shipped rMD17 file), "
        f"{args.steps} timed steps after {args.warmup} warm-up steps, {args.rounds} rounds; "
        "step = energy, forces by autograd (create_graph), loss E/500 + F, backward, Adam",
        "- PONITA: hidden 128, 5 layers, 20 orientations (Fibonacci grid), basis 256, degree 3, "
        "fully connected graphs (the reference's rMD17 setting); PNITA = the same with "
        "num_ori 0 (position only)",
        "- MACE: CLI defaults (2 interactions, r_max 5, max_ell 3, correlation 3); small = "
        "128x0e hidden irreps, default = 128x0e + 128x1o",
        "",
        "| model | parameters | steps/s (best) | steps/s per round | PONITA / model |",
        "|---|---|---|---|---|",
    ]
    names = {k: ("PONITA" if k == "ponita" else f"PNITA ({k.split('_o')[1]} ori)"
                 if k.endswith("_o0") else f"PONITA ({k.split('_o')[1]} ori)") for k in keys}
    names.update({size: f"MACE {size}" for size in args.mace})
    for k in keys + list(args.mace):
        m = best[k]
        lines.append(f"| {names[k]} | {m['parameters']:,} | {m['steps_per_s']:.3f} | "
                     + ", ".join(f"{r[k]['steps_per_s']:.3f}" for r in rounds)
                     + f" | {p['steps_per_s'] / m['steps_per_s']:.2f} |")
    lines.append("")
    for k in keys:
        for size in args.mace:
            ratio = best[k]["steps_per_s"] / best[size]["steps_per_s"]
            lines.append(f"- {names[k]} / MACE {size} steps per second = {ratio:.2f}"
                         + (f" (target ≥ 2: {'met' if ratio >= 2 else 'not met'})"
                            if k == "ponita" else ""))
    return "\n".join(lines) + "\n"


def comparisons(args, best: dict, rounds: list) -> list[dict]:
    """The page's rows: PONITA / MACE steps per second per MACE model (target ≥ 2 for the
    20-orientation PONITA, the issue's setting), or PONITA's steps per second without MACE."""
    device = args.device.split(":")[0]
    on = "CUDA" if device == "cuda" else "CPU"
    setting = f"batch {args.batch}, {args.steps} steps × {args.rounds} rounds, best round"
    out = []
    for o in args.num_ori:
        k = _ponita_key(o)
        name = "PONITA (20 orientations)" if o == 20 else (
            "PNITA (position only)" if o == 0 else f"PONITA ({o} orientations)")
        sps = best[k]["steps_per_s"]
        if not args.mace:
            out.append(_record.comparison(
                f"ponita_vs_mace.{k}.steps.{device}", f"{name}, {on}: training steps/s", sps,
                None, unit="steps/s", setting=setting))
        for size in args.mace:
            out.append(_record.comparison(
                f"ponita_vs_mace.{k}.mace_{size}.{device}",
                f"{name} vs MACE {size}, {on}: training steps/s", sps,
                best[size]["steps_per_s"], unit="steps/s", anchor_name=f"MACE {size}",
                target=("ratio", ">=", 2.0) if o == 20 else None, setting=setting))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--mace", type=lambda s: [] if s == "none" else s.split(","),
                    default=["small", "default"],
                    help="MACE models to time: small, default (comma-separated) or none")
    ap.add_argument("--num-ori", type=lambda s: [int(v) for v in s.split(",")], default=[20],
                    help="PONITA orientations to time (20: the issue's setting; 0: PNITA)")
    ap.add_argument("--mace-worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true",
                    help="tiny PONITA, 1 round of 1 step: a smoke run (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args()
    if args.quick:
        args.steps, args.warmup, args.rounds = 1, 0, 1
    bad = sorted(set(args.mace) - {"small", "default"})
    if bad:
        ap.error(f"--mace takes small, default or none, got {bad[0]!r}")
    import torch

    torch.set_num_threads(args.threads)
    if args.mace_worker:
        res = time_mace(args.data, args.batch, args.steps, args.warmup, args.device,
                        args.mace_worker)
        print(json.dumps(res))
        return 0
    run = _record.start("ponita_vs_mace", args, quick=args.quick, device=args.device)
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    rounds = []
    for r in range(args.rounds):
        row = {_ponita_key(o): time_ponita(args.data, args.batch, args.steps, args.warmup,
                                           args.device, o, args.quick) for o in args.num_ori}
        for size in args.mace:
            row[size] = run_mace_worker(args, size)
        rounds.append(row)
        print(f"round {r}: " + ", ".join(f"{k} {v['steps_per_s']:.2f} steps/s"
                                          for k, v in row.items()), flush=True)
    best = {k: max((row[k] for row in rounds), key=lambda v: v["steps_per_s"])
            for k in rounds[0]}
    text = report(args, best, rounds, (load0, os.getloadavg()[0]), time.perf_counter() - t0)
    run.record("PONITA vs MACE: training steps per second (energy + forces)", text,
               comparisons(args, best, rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
