"""The one recording helper of every benchmark: flags, the RESULTS.md log, JSON records, the page.

A benchmark calls :func:`add_record_args` on its parser (one flag set everywhere: ``--no-record``,
``--out DIR``), :func:`start` before it measures anything, and :meth:`Run.record` at the end with
its markdown section and its comparisons (built with :func:`comparison`). ``record`` then

1. appends the section to ``RESULTS.md`` (the log) under a heading of its own, with the date and
   commit in it and an explicit ``<a id="...">`` anchor, so that every log entry can be linked;
2. writes a JSON record ``records/<benchmark>/<timestamp>-<commit>.json``: commit, whether the
   tree had uncommitted changes, a fingerprint of the code, date, machine, threads, argv and the
   comparisons;
3. regenerates ``README.md`` (the results page) from all records: one row per comparison, the
   latest record from a committed tree; and the page's figures, ``figures/<id>.svg``, log-log
   charts drawn from the curves a record carries (:func:`figure`), the latest committed one
   per figure.

All three live under the results root: ``benchmarks/`` by default, ``--out DIR`` instead. Quick
(smoke) runs are never recorded in ``benchmarks/``; with an explicit ``--out`` they are written
there marked ``"quick": true`` (so that ``make gpu-check --dry-run`` exercises the whole path), and
the page never shows them.

Plain standard library, no sciml import: benchmarks that run in their anchors' virtual
environments (``.venv-tsl``, ``.venv-fno``, ``.venv-mace``, ``.venv-deepxde``) import it by path::

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _record

Command line::

    python benchmarks/_record.py --render          # rewrite benchmarks/README.md (and figures/)
    python benchmarks/_record.py --check           # exit 1 if they are not what --render writes
    python benchmarks/_record.py --import DIR      # take records and log entries of a run made
                                                   # elsewhere with --out DIR (e.g. make gpu-check)
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import math
import os
import platform
import re
import shlex
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCHEMA = 1
LOG_NAME, PAGE_NAME, RECORDS_NAME = "RESULTS.md", "README.md", "records"
FIGURES_NAME = "figures"
# What a benchmark run writes: a change to these alone does not make the code "uncommitted"
# (a run that starts while the previous run's entry is not yet committed still ran committed code).
OUTPUTS = ("benchmarks/RESULTS.md", "benchmarks/README.md", "benchmarks/records/",
           "benchmarks/figures/")
OPS = {"<=": ("≤", lambda a, b: a <= b), ">=": ("≥", lambda a, b: a >= b),
       "<": ("<", lambda a, b: a < b), ">": (">", lambda a, b: a > b)}


# ---------------------------------------------------------------------------- the catalogue
@dataclass(frozen=True)
class Benchmark:
    """One benchmark script, as the page lists it.

    ``expected``: the comparisons (id, what) it records; a catalogued comparison without a clean
    record is listed under "no committed run yet". Targets come with the records (each script
    owns its targets), so a target is never stated in two places. ``retired``: comparisons
    (id, why) the script no longer records; their last rows leave the table for a list of
    retired comparisons (with the link to their entry), so an old measurement never stands
    beside the one that replaced it.
    """

    name: str
    description: str
    run: str
    expected: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    retired: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def script(self) -> str:
        return f"benchmarks/{self.name}.py"


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("kernels", "sciml.kernels (scatter, gather_scatter, radius_graph) against PyG's "
              "scatter, index_add_ and scipy's cKDTree; CPU, or CUDA with `--device cuda`",
              "`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kernels.py` (a few minutes; "
              "`--quick`: seconds, not recorded)",
              (("kernels.gather_scatter.fwd_bwd.E1e6.cpu",
                "gather_scatter fwd+bwd, 1e6 edges × 64 channels, CPU: ms, speed-up over PyG"),
               ("kernels.scatter_sum.fwd_bwd.E1e6.cpu",
                "scatter sum fwd+bwd, 1e6 edges × 64 channels, CPU: ms, speed-up over PyG"),
               ("kernels.radius_graph.open.N1e5.cpu",
                "radius_graph, 1e5 points, open box, CPU: ms, time ratio sciml / cKDTree"),
               ("kernels.radius_graph.periodic.N1e5.cpu",
                "radius_graph, 1e5 points, periodic box, CPU: ms, time ratio sciml / cKDTree"),
               ("kernels.gather_scatter.fwd_bwd.E1e6.cuda",
                "gather_scatter fwd+bwd, 1e6 edges × 64 channels, CUDA: ms, speed-up over PyG"))),
    Benchmark("pde_solvers", "sciml.solvers: Darcy 256² by AMG against scipy's spsolve of the "
              "same matrix; Navier–Stokes time steps per second",
              "`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pde_solvers.py` (under a minute)",
              (("pde_solvers.darcy256.amg_vs_spsolve",
                "Darcy 256² solve: pyamg SA + CG vs scipy spsolve, seconds"),
               ("pde_solvers.ns64.steps_per_s", "Navier–Stokes 64², batch 1, torch backend: "
                "time steps per second"),
               ("pde_solvers.ns256.steps_per_s", "Navier–Stokes 256², batch 1, torch backend: "
                "time steps per second"))),
    Benchmark("forecast_vs_tsl", "time-then-space forecaster and DCRNN on LOS against "
              "torch-spatiotemporal (tsl), same architectures and budget, each training in its "
              "own process",
              "`bash benchmarks/setup_tsl_env.sh`, then `.venv-tsl/bin/python "
              "benchmarks/forecast_vs_tsl.py` (about 45 minutes)",
              (("forecast_vs_tsl.epoch_time_1t", "seconds per training epoch, sciml / tsl"),
               ("forecast_vs_tsl.epoch_time_2t", "seconds per training epoch, sciml / tsl"),
               ("forecast_vs_tsl.peak_rss_1t", "peak resident memory of the training process, "
                "sciml / tsl"),
               ("forecast_vs_tsl.peak_rss_2t", "peak resident memory of the training process, "
                "sciml / tsl"),
               ("forecast_vs_tsl.dcrnn_epoch_time_1t", "DCRNN (hidden 64, 2 layers), seconds per "
                "training epoch, sciml / tsl"),
               ("forecast_vs_tsl.dcrnn_peak_rss_1t", "DCRNN (hidden 64, 2 layers), peak resident "
                "memory of the training process, sciml / tsl"),
               ("forecast_vs_tsl.mae_15min", "test MAE at 15 min (mph), sciml / tsl"),
               ("forecast_vs_tsl.mae_30min", "test MAE at 30 min (mph), sciml / tsl"),
               ("forecast_vs_tsl.mae_60min", "test MAE at 60 min (mph), sciml / tsl"),
               ("forecast_vs_tsl.best_vs_persistence", "best graph model vs persistence, MAE at "
                "60 min (mph)"),
               ("forecast_vs_tsl.best_vs_node_gru", "best graph model vs node-wise GRU, MAE at "
                "60 min (mph)"),
               ("forecast_vs_tsl.scaling.epoch_time_largest", "time-then-space on the largest "
                "GPVAR graph both fit: seconds per epoch, sciml / tsl (`--parts scaling`)"),
               ("forecast_vs_tsl.scaling.peak_rss_largest", "time-then-space on the largest "
                "GPVAR graph both fit: peak memory, sciml / tsl (`--parts scaling`)")),
              (("forecast_vs_tsl.epoch_time_wall", "2 threads in one shared process; replaced "
                "by `epoch_time_1t` / `epoch_time_2t` (each side in its own process)"),
               ("forecast_vs_tsl.epoch_time_cpu", "CPU seconds in one shared process; replaced "
                "by `epoch_time_1t` / `epoch_time_2t`"))),
    Benchmark("mgno_vs_fno", "MgNO against neuraloperator's FNO on Darcy 64² (zero shot at 127² "
              "and 32²), darcy_16 (excess over its information floor), Navier–Stokes 64² (zero "
              "shot at 128²) and Helmholtz 64², same data, loop and budget; every zero-shot "
              "number beside the restrict-predict-interpolate baseline of the same model",
              "`bash benchmarks/setup_fno_env.sh`, then `.venv-fno/bin/python "
              "benchmarks/mgno_vs_fno.py --parts darcy64` (one part at the defaults: darcy16 "
              "about 30 min, darcy64 and helmholtz about 2 h each, ns about 4 h; `--quick`: "
              "minutes, not recorded)",
              (("mgno_vs_fno.darcy64.rel_l2", "Darcy 64²: test rel L2, MgNO / FNO"),
               ("mgno_vs_fno.darcy64.sec_per_epoch", "Darcy 64²: seconds per epoch, MgNO / FNO"),
               *((f"mgno_vs_fno.darcy64.rel_l2_{n}{suffix}", f"Darcy 64² → {n}² {what}")
                 for n in (127, 32)
                 for suffix, what in (
                     ("", "zero-shot: test rel L2, MgNO / FNO"),
                     ("_bound", "zero-shot: MgNO rel L2 / (2 × its 64² error + its "
                      "restrict-predict-interpolate error)"),
                     ("_rpi", "zero-shot, restrict-predict-interpolate: test rel L2, MgNO / "
                      "FNO"))),
               ("mgno_vs_fno.darcy16.rel_l2", "darcy_16: test rel L2, MgNO / FNO"),
               ("mgno_vs_fno.darcy16.excess_over_floor", "darcy_16: test rel L2 above the "
                "information floor, (MgNO − floor) / (FNO − floor)"),
               ("mgno_vs_fno.darcy16.sec_per_epoch", "darcy_16: seconds per epoch, MgNO / FNO"),
               ("mgno_vs_fno.ns.rel_l2", "Navier–Stokes 64², 10-step rollout: test rel L2, "
                "MgNO / FNO"),
               ("mgno_vs_fno.ns.rel_l2_128", "Navier–Stokes 64², 10-step rollout → 128² "
                "zero-shot from the same initial vorticity: test rel L2, MgNO / FNO"),
               ("mgno_vs_fno.ns.rel_l2_128_rpi", "Navier–Stokes 64², 10-step rollout → 128² "
                "zero-shot from the same initial vorticity, restrict-predict-interpolate: test "
                "rel L2, MgNO / FNO"),
               ("mgno_vs_fno.ns.sec_per_epoch", "Navier–Stokes 64², 10-step rollout: seconds "
                "per epoch, MgNO / FNO"),
               ("mgno_vs_fno.helmholtz.rel_l2", "Helmholtz 64²: test rel L2, MgNO / FNO"),
               ("mgno_vs_fno.helmholtz.sec_per_epoch", "Helmholtz 64²: seconds per epoch, MgNO "
                "/ FNO"))),
    Benchmark("mgno_cost", "why MgNO's CPU step is slower than FNO's: operations per step, "
              "the rates this CPU reaches, and the floor they set on the time ratio",
              "`.venv-fno/bin/python benchmarks/mgno_cost.py` (about 2 minutes)",
              (("mgno_cost.step_time", "Darcy 64²: seconds per training step, MgNO / FNO"),
               ("mgno_cost.floor", "Darcy 64²: MgNO's operations at the forward-convolution "
                "rate, against FNO's step"),
               ("mgno_cost.flops", "Darcy 64²: operations per training step, MgNO / FNO"))),
    Benchmark("lottery", "lottery tickets (trainer.pruning): test error against sparsity on "
              "LOS (time-then-space) and Darcy (MgNO), winning tickets against the same masks "
              "randomly re-initialised, and GraNet at the same sparsity and epochs",
              "`.venv/bin/python benchmarks/lottery.py` (about an hour)",
              (("lottery.los.ticket_vs_reinit", "LOS time-then-space: test MAE, winning ticket / "
                "random re-initialisation at the highest sparsity"),
               ("lottery.los.ticket_vs_dense", "LOS time-then-space: test MAE, winning ticket / "
                "dense network"),
               ("lottery.darcy.ticket_vs_reinit", "Darcy MgNO: test rel L2, winning ticket / "
                "random re-initialisation at the highest sparsity"),
               ("lottery.darcy.ticket_vs_dense", "Darcy MgNO: test rel L2, winning ticket / dense "
                "network"),
               ("lottery.los.granet_vs_ticket", "LOS time-then-space: test MAE, GraNet / winning "
                "ticket at the same sparsity and epochs"),
               ("lottery.darcy.granet_vs_ticket", "Darcy MgNO: test rel L2, GraNet / winning "
                "ticket at the same sparsity and epochs"))),
    Benchmark("curriculum", "cyclical curriculum (trainer.curriculum) against plain training "
              "with the same examples, LOS (time-then-space) and Darcy (MgNO), over seeds",
              "`.venv/bin/python benchmarks/curriculum.py` (about 20 minutes)",
              (("curriculum.los.error", "LOS time-then-space: median test MAE, curriculum / "
                "plain"),
               ("curriculum.los.time", "LOS time-then-space: median training seconds, "
                "curriculum / plain"),
               ("curriculum.darcy.error", "Darcy MgNO: median test rel L2, curriculum / plain"),
               ("curriculum.darcy.time", "Darcy MgNO: median training seconds, curriculum / "
                "plain"))),
    Benchmark("continual", "continual learning on a sequence of five GPVAR forecasting tasks: "
              "the RNN hypernetwork (Chandra et al.) against fine-tuning, EWC and the MLP "
              "hypernetwork (von Oswald et al.), over seeds",
              "`.venv/bin/python benchmarks/continual.py` (about 6 minutes)",
              tuple((f"continual.{k}.{o}", f"{'final test MAE' if k == 'final' else 'forgetting'}"
                     f", RNN hypernetwork / {o}") for k in ("final", "forgetting")
                    for o in ("finetune", "ewc", "hnet-mlp"))),
    Benchmark("forwardgnn", "ForwardGNN (single-forward, with and without top-down signals) "
              "against backpropagation with the same GCN layers on Cora and CiteSeer: accuracy "
              "and activation memory",
              "`.venv/bin/python benchmarks/forwardgnn.py` (about 25 minutes)",
              tuple((f"forwardgnn.{d}.{a}_vs_bp", f"{d}: mean test accuracy, ForwardGNN {a} / "
                     "backprop") for d in ("cora", "citeseer") for a in ("sf", "sf-topdown"))
              + (("forwardgnn.memory_vs_bp", "Cora: peak activation memory, ForwardGNN / "
                  "backprop, 4 layers"),)),
    Benchmark("hopfield", "Hopfield pooling (Ramsauer et al.) against mean, max and gated "
              "attention pooling: multiple-instance learning on generated bags and graph read-out "
              "on generated graphs, over seeds",
              "`.venv/bin/python benchmarks/hopfield.py` (about 2 minutes)",
              tuple((f"hopfield.{p}.vs_{o}", f"{p}: median test accuracy, Hopfield / {o} "
                     "pooling") for p in ("mil", "graphs") for o in ("mean", "attention"))),
    Benchmark("link_prediction", "GAE link prediction on Cora and CiteSeer (random 85/5/10 "
              "edge splits): sciml's recipes against the paper and PyG's GAE on the same splits",
              "`.venv/bin/python benchmarks/link_prediction.py` (about 7 minutes)",
              (("link_prediction.cora.gae_auc", "Cora: GAE mean test AUC against the paper"),
               ("link_prediction.cora.gae_vs_pyg", "Cora: GAE mean test AUC, sciml / PyG"),
               ("link_prediction.citeseer.gae_auc", "CiteSeer: GAE mean test AUC against the "
                "paper"),
               ("link_prediction.citeseer.gae_vs_pyg", "CiteSeer: GAE mean test AUC, sciml / "
                "PyG"))),
    Benchmark("node_classification", "GCN on Cora and CiteSeer's public splits: sciml's "
              "recipes against the paper and PyG's GCNConv, over seeds",
              "`.venv/bin/python benchmarks/node_classification.py` (about 10 minutes)",
              (("node_classification.cora.gcn_accuracy", "Cora: GCN mean test accuracy "
                "against the paper's"),
               ("node_classification.cora.gcn_vs_pyg", "Cora: GCN mean test accuracy, sciml / "
                "PyG"),
               ("node_classification.citeseer.gcn_accuracy", "CiteSeer: GCN mean test accuracy "
                "against the paper's"),
               ("node_classification.citeseer.gcn_vs_pyg", "CiteSeer: GCN mean test accuracy, "
                "sciml / PyG"))),
    Benchmark("noprop", "NoProp-DT against backpropagation on Cora's node features: test "
              "accuracy and the peak activation memory of a training step",
              "`.venv/bin/python benchmarks/noprop.py` (about 15 minutes)",
              (("noprop.accuracy_vs_backprop", "Cora features: mean test accuracy, NoProp-DT / "
                "the same blocks by backpropagation"),
               ("noprop.accuracy_vs_mlp", "Cora features: mean test accuracy, NoProp-DT / a "
                "two-layer MLP"),
               ("noprop.memory_vs_backprop", "Cora features: peak activation memory of a step, "
                "NoProp-DT / backpropagation"))),
    Benchmark("graph_classification", "graph classification: the clique-hopfield recipe's data "
              "and network against PyG's GCN + global mean pool, and Hopfield against mean "
              "read-out",
              "`.venv/bin/python benchmarks/graph_classification.py` (about 5 minutes)",
              (("graph_classification.mean_vs_pyg", "planted cliques: mean test accuracy, GCN + "
                "mean read-out, sciml / PyG"),
               ("graph_classification.seconds_vs_pyg", "planted cliques: seconds per training "
                "epoch, sciml / PyG"),
               ("graph_classification.hopfield_vs_mean", "planted cliques: mean test accuracy, "
                "Hopfield / mean read-out"))),
    Benchmark("rrn_sudoku", "recurrent relational network on generated Sudoku puzzles: cell "
              "accuracy and puzzles solved against a fixed-depth GNN and constraint propagation, "
              "by number of givens and of steps",
              "`.venv/bin/python benchmarks/rrn_sudoku.py` (about 40 minutes)",
              (("rrn_sudoku.accuracy_vs_gnn", "Sudoku: cell accuracy on empty cells, RRN / "
                "GraphSAGE"),
               ("rrn_sudoku.solved_vs_gnn", "Sudoku: test puzzles solved, RRN and GraphSAGE"),
               ("rrn_sudoku.solved_vs_propagation", "Sudoku: test puzzles solved, RRN and "
                "constraint propagation"),
               ("rrn_sudoku.more_steps", "Sudoku: RRN cell accuracy at 4 T test steps / at T"))),
    Benchmark("pointer_nets", "pointer networks on convex hull, TSP and Delaunay "
              "triangulation, trained on small point sets and tested on larger ones",
              "`.venv/bin/python benchmarks/pointer_nets.py` (about 40 minutes)",
              (("pointer_nets.hull_area_20", "convex hull, 20 points: area coverage"),
               ("pointer_nets.hull_area_50", "convex hull, 50 points: area coverage"),
               ("pointer_nets.tsp_10", "TSP, 10 points: tour length ratio against nearest "
                "neighbour"),
               ("pointer_nets.tsp_20", "TSP, 20 points: tour length ratio against nearest "
                "neighbour"),
               ("pointer_nets.delaunay_5", "Delaunay, 5 points: triangle coverage"),
               ("pointer_nets.delaunay_10", "Delaunay, 10 points: triangle coverage"))),
    Benchmark("epignn", "EpiGNN against an R-GCN on interval-algebra composition graphs: "
              "accuracy by path length, trained on paths of 2-4 relations",
              "`.venv/bin/python benchmarks/epignn.py` (about 30 minutes)",
              (("epignn.unseen_vs_rgcn", "intervals: mean test accuracy on unseen path lengths "
                "5-9, EpiGNN / R-GCN"),
               ("epignn.seen_vs_rgcn", "intervals: mean test accuracy on the training path "
                "lengths 2-4, EpiGNN / R-GCN"))),
    Benchmark("paretognn", "ParetoGNN: multi-task self-supervised pretraining combined by MGDA "
              "against each single pretext task and the plain sum, node classification and link "
              "prediction on Cora and CiteSeer",
              "`.venv/bin/python benchmarks/paretognn.py` (about 45 minutes)",
              (("paretognn.vs_best_single", "Cora and CiteSeer: mean relative score, MGDA / the "
                "best single pretext task"),
               ("paretognn.vs_sum", "Cora and CiteSeer: mean relative score, MGDA / the plain "
                "sum"))),
    Benchmark("similarity", "representation similarity: layer identification across seeds "
              "(Kornblith et al.'s sanity check), CKA against SVCCA",
              "`.venv/bin/python benchmarks/similarity.py` (about 10 minutes)",
              (("similarity.linear_cka_identification", "layer identification across seeds: "
                "accuracy, linear CKA / SVCCA"),
               ("similarity.kernel_cka_identification", "layer identification across seeds: "
                "accuracy, RBF CKA / SVCCA"))),
    Benchmark("darcy16_floor", "the information floor of darcy_16 (binary 16² input): the "
              "lowest test error any model can reach",
              "`.venv/bin/python benchmarks/darcy16_floor.py` (about 13 minutes)",
              (("darcy16_floor.tau4.5_low1", "darcy_16 floor, generator τ 4.5, 12 / 1 (matches "
                "the file): lowest reachable rel L2"),
               ("darcy16_floor.tau3_low3", "darcy_16 floor, generator τ 3, 12 / 3 (FNO's paper): "
                "lowest reachable rel L2"))),
    Benchmark("lpinn_vs_pinn", "Lagrangian PINN against the PINN on periodic convection, per "
              "speed β",
              "`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lpinn_vs_pinn.py` (about 9 minutes;"
              " `--beta 50`: 2)",
              tuple((f"lpinn_vs_pinn.beta{b}", f"convection β = {b}: rel L2, LPINN vs PINN")
                    for b in (10, 30, 50, 70))),
    Benchmark("pinn_vs_deepxde", "our PINN against DeepXDE's on its Burgers example, medians "
              "over seeds (error, time; at DeepXDE's own budget also L-BFGS stalls and peak "
              "memory); `--profile` logs the top operators with forward (jet) and nested "
              "autograd derivatives",
              "`bash benchmarks/setup_deepxde_env.sh`, then `OMP_NUM_THREADS=1 .venv/bin/python "
              "benchmarks/pinn_vs_deepxde.py [--example] [--profile]` (about 12 minutes; "
              "`--example`, DeepXDE's budget of 15 000 Adam steps and L-BFGS, about 40)",
              (("pinn_vs_deepxde.rel_l2", "Burgers: median rel L2, sciml / DeepXDE"),
               ("pinn_vs_deepxde.time", "Burgers: median training seconds, sciml / DeepXDE"),
               ("pinn_vs_deepxde.example.rel_l2", "Burgers (DeepXDE's example budget): median "
                "rel L2, sciml / DeepXDE"),
               ("pinn_vs_deepxde.example.time", "Burgers (DeepXDE's example budget): median "
                "training seconds, sciml / DeepXDE"),
               ("pinn_vs_deepxde.example.stalled", "Burgers (DeepXDE's example budget): seeds "
                "stalled in L-BFGS (< 50 iterations)"),
               ("pinn_vs_deepxde.example.peak_rss", "Burgers (DeepXDE's example budget): median "
                "peak resident memory of a fit's process"))),
    Benchmark("allen_cahn_vs_deepxde", "the Allen–Cahn PINN recipe against DeepXDE's own "
              "Allen–Cahn example, error and training time",
              "`bash benchmarks/setup_deepxde_env.sh`, then `OMP_NUM_THREADS=1 .venv/bin/python "
              "benchmarks/allen_cahn_vs_deepxde.py` (about 50 minutes; DeepXDE's example trains "
              "40 000 Adam steps)",
              (("allen_cahn_vs_deepxde.rel_l2", "Allen–Cahn PINN: rel L2 vs the MOL reference, "
                "sciml / DeepXDE"),
               ("allen_cahn_vs_deepxde.time", "Allen–Cahn PINN: training seconds, sciml / "
                "DeepXDE"))),
    Benchmark("hard_constraints", "soft constraint vs single hard constraint vs hard-constraint "
              "MoE (PI-SC / PI-HC / PI-HC-MoE) on diffusion–sorption and Navier–Stokes",
              "`.venv/bin/python benchmarks/hard_constraints.py [--problem ns]` (5 to 45 min)",
              tuple((f"hard_constraints.{p}.{g}.{k}", f"{name} {g}: {what}")
                    for p, g, name in (("ds", "64x51", "diffusion–sorption"),
                                       ("ns", "16x16x11", "Navier–Stokes ν = 1e-4"))
                    for k, what in (("moe_vs_hc_rel_l2", "test rel L2, MoE / single HC"),
                                    ("moe_vs_soft_rel_l2", "test rel L2, MoE / soft"),
                                    ("moe_vs_hc_step_time", "seconds per step, MoE / single HC")))),
    Benchmark("hc_expert_parallel", "the hard-constraint MoE with its experts on 2 processes "
              "(gloo, 1 thread each) against the single hard constraint on 2 threads",
              "`.venv/bin/python benchmarks/hc_expert_parallel.py` (about 15 min)",
              tuple((f"hc_expert_parallel.ds.{k}.step_time",
                     f"diffusion–sorption, {what}: seconds per step, MoE on 2 processes / single "
                     "HC on 2 threads")
                    for k, what in (("recipe", "the recipe's size"),
                                    ("large", "a solve-bound size")))),
    Benchmark("ponita_vs_mace", "PONITA against MACE: training steps per second on energies and "
              "forces (batch of 5 aspirin molecules)",
              "`bash benchmarks/setup_mace_env.sh`, then `.venv/bin/python "
              "benchmarks/ponita_vs_mace.py` (3 to 12 minutes)",
              (("ponita_vs_mace.ponita.mace_small.cpu",
                "PONITA (20 orientations) vs MACE small, CPU: training steps/s"),
               ("ponita_vs_mace.ponita.mace_default.cpu",
                "PONITA (20 orientations) vs MACE default, CPU: training steps/s"),
               ("ponita_vs_mace.ponita.mace_small.cuda",
                "PONITA (20 orientations) vs MACE small, CUDA: training steps/s"),
               ("ponita_vs_mace.ponita.steps.cuda",
                "PONITA (20 orientations), CUDA: training steps/s"))),
    Benchmark("own_data", "a user's own files against the same data from Python: forecasting on "
              "a dated CSV export of LOS through `sciml fit` vs `sciml.fit(data=...)`",
              "`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/own_data.py` (about 2 minutes)",
              (("own_data.forecast_csv_vs_api", "forecasting on a user's CSV through `sciml "
                "fit` vs the same arrays through `sciml.fit(data=...)`: test MAE"),)),
    Benchmark("nbody_ponita", "PONITA on the charged N-body benchmark within a CPU time budget",
              "`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/nbody_ponita.py --minutes 15 "
              "--num-ori 8 --layers 3` (15 minutes)",
              (("nbody_ponita.ponita", "charged N-body, PONITA R3×S2: test position MSE at "
                "frame 40 vs constant velocity"),
               ("nbody_ponita.pnita", "charged N-body, PNITA (position only): test position "
                "MSE at frame 40 vs constant velocity"))),
)
OTHER_SCRIPTS = (
    ("benchmarks/gpu_check.py", "`make gpu-check` on a machine with a CUDA GPU: `pytest -m gpu`, "
     "the kernel benchmark on CUDA against PyG and PONITA's training steps/s, in 8 minutes",
     "`python3 benchmarks/gpu_check.py --prepare` here, then `make gpu-check OUT=DIR` there "
     "(carry `.gpu-check/`); `.venv/bin/python benchmarks/gpu_check.py --dry-run` here"),
    ("benchmarks/_record.py", "this page: the recording helper every benchmark uses, and the "
     "renderer", "`.venv/bin/python benchmarks/_record.py --render`"),
)


# ---------------------------------------------------------------------------- flags
def add_record_args(parser: argparse.ArgumentParser) -> None:
    """The recording flags, the same for every benchmark."""
    group = parser.add_argument_group("recording (benchmarks/_record.py)")
    group.add_argument("--no-record", action="store_true",
                       help="print the results only: append nothing to RESULTS.md, write no "
                            "record, leave the page as it is")
    group.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="write RESULTS.md, records/ and README.md under DIR instead of "
                            "benchmarks/ (a quick run is recorded only there, marked quick)")


# ---------------------------------------------------------------------------- comparisons
def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM of /proc/self/status (getrusage's
    ru_maxrss would carry the parent's peak over the fork), else ru_maxrss. Benchmarks that
    compare memory run each side in a process of its own and report this at its end."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def comparison(id: str, what: str, sciml: float | None, anchor: float | None = None, *,
               unit: str = "", anchor_name: str = "", ratio: float | None = None,
               ratio_of: str = "sciml / anchor", target: str | tuple | None = None,
               met: bool | None = None, setting: str = "", note: str = "") -> dict[str, Any]:
    """One row of the page: what was compared, both values, their ratio and the target.

    Args:
        id: Stable name of the comparison (the page shows the latest clean record per id).
        what: What is compared, in words (device included where it matters).
        sciml, anchor: The two measured values (``anchor`` None where there is none).
        unit: Unit of the two values.
        anchor_name: What the anchor is (``"PyG"``, ``"tsl"``, ...).
        ratio: Given ratio; computed from the values by ``ratio_of`` when None.
        ratio_of: ``"sciml / anchor"`` or ``"anchor / sciml"`` (a speed-up).
        target: ``(on, op, value)`` with ``on`` in {"ratio", "sciml"} and ``op`` in <=, >=, <, >
            (``met`` is then computed), or a text (then pass ``met``), or None.
        met: Whether the target is met; computed for a numeric target when None.
        setting: The run's setting in a few words (budget, grid, seeds).
        note: Anything a reader needs to judge the number.
    """
    if ratio_of not in ("sciml / anchor", "anchor / sciml"):
        raise ValueError(f"ratio_of must be 'sciml / anchor' or 'anchor / sciml', got {ratio_of!r}")
    if ratio is None and _number(sciml) and _number(anchor) and anchor and sciml:
        ratio = sciml / anchor if ratio_of == "sciml / anchor" else anchor / sciml
    tgt: dict[str, Any] | None = None
    if isinstance(target, tuple):
        on, op, value = target
        if on not in ("ratio", "sciml") or op not in OPS:
            raise ValueError(f"target must be (on, op, value) with on in ('ratio', 'sciml') and op "
                             f"in {sorted(OPS)}, got {target!r}")
        tgt = {"on": on, "op": op, "value": value,
               "text": f"{'ratio' if on == 'ratio' else 'sciml'} {OPS[op][0]} {value:g}"}
        measured = ratio if on == "ratio" else sciml
        if met is None and _number(measured):
            met = bool(OPS[op][1](measured, value))
    elif isinstance(target, str):
        tgt = {"text": target}
    elif target is not None:
        raise TypeError(f"target must be a tuple, a text or None, got {type(target).__name__}")
    return {"id": id, "what": what, "setting": setting, "sciml": sciml, "anchor": anchor,
            "anchor_name": anchor_name, "unit": unit, "ratio": ratio, "ratio_of": ratio_of,
            "target": tgt, "met": met, "note": note}


def figure(id: str, title: str, x_label: str, y_label: str,
           series: dict[str, tuple[list[float], list[float | None]]], *, note: str = ""
           ) -> dict[str, Any]:
    """A log-log line chart the page draws (as ``figures/<id>.svg``) from the latest committed
    record that has it: ``series`` maps a name to its x and y values (y None: no point, e.g.
    a run that did not fit in memory)."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", id):
        raise ValueError(f"figure id must be a plain file name, got {id!r}")
    for name, (xs, ys) in series.items():
        if len(xs) != len(ys):
            raise ValueError(f"figure {id}: series {name!r} has {len(xs)} x and {len(ys)} y")
    return {"id": id, "title": title, "x_label": x_label, "y_label": y_label, "note": note,
            "series": {k: {"x": list(xs), "y": list(ys)} for k, (xs, ys) in series.items()}}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ---------------------------------------------------------------------------- git and machine
def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                             check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def tree_state() -> tuple[str, bool | None]:
    """(short commit, dirty) of the checkout; ("unknown", None) without git metadata.

    Dirty: any tracked change or untracked (not ignored) file outside the benchmark outputs
    (:data:`OUTPUTS`). Without git (e.g. a copied tree on a lent machine) ``SCIML_RECORD_COMMIT``
    may name the commit the tree was copied from; the record then says the commit was given, not
    checked, and its cleanliness stays unknown (None): such a record is never a headline row.
    """
    head = _git("rev-parse", "--short", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=all")
    if head is None or status is None:
        return os.environ.get("SCIML_RECORD_COMMIT", "unknown"), None
    changed = [line[3:].split(" -> ")[-1].strip('"') for line in status.splitlines() if line]
    dirty = any(not path.startswith(OUTPUTS) for path in changed)
    return head.strip(), dirty


CODE_DIRS = ("sciml", "solvers", "datasets", "tests", "benchmarks")


def _is_code(path: str) -> bool:
    """The files whose content decides a benchmark's numbers: the packages, the tests, the
    benchmark scripts and the build files (not the benchmark outputs, not caches)."""
    if "__pycache__" in path or path.endswith(".pyc"):
        return False
    return (path.startswith(("sciml/", "solvers/", "datasets/", "tests/"))
            or (path.startswith("benchmarks/") and path.count("/") == 1 and path.endswith(".py"))
            or path in ("pyproject.toml", "setup.py"))


def _fingerprint(items: list[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for path, data in sorted(items):
        h.update(f"{path}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:16]


def tree_fingerprint(root: Path = REPO) -> str:
    """Hash of the code files in the working tree (see :func:`_is_code`)."""
    items = []
    paths = [p for top in CODE_DIRS for p in (root / top).rglob("*")]
    for path in paths + [root / "pyproject.toml", root / "setup.py"]:
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not path.is_symlink() and _is_code(rel):
            items.append((rel, path.read_bytes()))
    return _fingerprint(items)


def commit_fingerprint(commit: str) -> str | None:
    """The same hash over the code files of ``commit`` (None without git or for an unknown
    commit): equal to a record's ``fingerprint`` exactly when the run's code was that commit."""
    try:
        tar = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit],
                             capture_output=True, check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    items = []
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        for member in archive.getmembers():
            if member.isfile() and _is_code(member.name):
                items.append((member.name, archive.extractfile(member).read()))
    return _fingerprint(items)


def machine(device: str = "cpu") -> dict[str, Any]:
    """The machine, threads and (where torch is loaded) torch version and device name."""
    info: dict[str, Any] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                            "processor": platform.processor() or platform.machine(),
                            "python": platform.python_version()}
    threads: dict[str, Any] = {v: os.environ[v] for v in
                               ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                               if v in os.environ}
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch"] = torch.__version__
        threads["torch"] = torch.get_num_threads()
        info["device"] = device
        if device.startswith("cuda") and torch.cuda.is_available():
            info["device_name"] = torch.cuda.get_device_name()
    numba = sys.modules.get("numba")
    if numba is not None:
        threads["numba"] = numba.get_num_threads()
    return {"machine": info, "threads": threads}


def _load() -> str:
    try:
        return ", ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


# ---------------------------------------------------------------------------- a run
class Run:
    """One benchmark run: the tree state and clock at its start, and its recording at the end."""

    def __init__(self, benchmark: str, args: argparse.Namespace, *, quick: bool = False,
                 device: str = "cpu", argv: list[str] | None = None) -> None:
        self.benchmark, self.quick, self.device = benchmark, quick, device
        self.no_record = bool(getattr(args, "no_record", False))
        out = getattr(args, "out", None)
        self.explicit_out = out is not None
        self.root = Path(out) if out is not None else HERE
        self.argv = list(sys.argv[1:] if argv is None else argv)
        self.commit, self.dirty = tree_state()
        self.fingerprint = tree_fingerprint()
        self.started = datetime.datetime.now().replace(microsecond=0)
        self.load_start = _load()

    @property
    def command(self) -> str:
        return shlex.join(["python", f"benchmarks/{self.benchmark}.py", *self.argv])

    @property
    def writes(self) -> bool:
        """False for --no-record, and for a quick run without an explicit --out."""
        return not self.no_record and (self.explicit_out or not self.quick)

    def header(self) -> str:
        """The lines every log entry starts with: command, commit, date, machine, threads."""
        m = machine(self.device)
        info, threads = m["machine"], m["threads"]
        state = {True: " (plus uncommitted changes)", False: "",
                 None: " (tree state unknown: no git metadata)"}[self.dirty]
        dev = info.get("device_name") or info.get("device", "cpu")
        torch = f"; torch {info['torch']}, device {dev}" if "torch" in info else ""
        return "\n".join([
            f"- command: `{self.command}`",
            f"- commit: {self.commit}{state}",
            f"- date: {self.started.isoformat()}",
            f"- machine: {info['platform']}, {info['cpus']} CPUs, Python {info['python']}{torch}",
            "- threads: " + (", ".join(f"{k} = {v}" for k, v in threads.items()) or "defaults")
            + f"; load average (1, 5, 15 min) {self.load_start} at the start, {_load()} at the "
              "end"])

    def record(self, title: str, body: str, comparisons: list[dict[str, Any]],
               figures: list[dict[str, Any]] | None = None) -> Path | None:
        """Print the section; unless not writing, append it to the log, write the JSON record
        (with ``figures``, built by :func:`figure`: curves the page draws) and regenerate the
        page. Returns the record's path (None when nothing was written)."""
        end_commit, end_dirty = tree_state()
        dirty = self.dirty
        if dirty is not None and (end_dirty or end_commit != self.commit):
            dirty = True  # the code changed during the run
        self.dirty = dirty
        stamp = self.started.strftime("%Y%m%dT%H%M%S")
        anchor = _unique_anchor(self.root / LOG_NAME, f"{self.benchmark}-{stamp}-{self.commit}")
        heading = f"## {title}{' (quick)' if self.quick else ''} · {self.started:%Y-%m-%d %H:%M} " \
                  f"· {self.commit}"
        section = f'\n<a id="{anchor}"></a>\n\n{heading}\n\n{self.header()}\n{body.strip()}\n'
        print(section)
        if not self.writes:
            print("(not recorded: " + ("--no-record" if self.no_record else
                                       "a quick run records only with an explicit --out") + ")")
            return None
        m = machine(self.device)
        rec = {"schema": SCHEMA, "benchmark": self.benchmark, "title": title,
               "commit": self.commit, "dirty": dirty, "quick": self.quick,
               "date": self.started.isoformat(), "fingerprint": self.fingerprint,
               "argv": self.argv, "command": self.command,
               **m, "log": {"file": LOG_NAME, "anchor": anchor, "heading": heading},
               "source": "run", "comparisons": comparisons}
        if figures:
            rec["figures"] = figures
        if self.dirty is None:
            rec["commit_checked"] = False
        path = self.root / RECORDS_NAME / self.benchmark / f"{anchor.split('-', 1)[1]}.json"
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.root / LOG_NAME
        _write_atomic(log, (log.read_text(encoding="utf-8") if log.exists() else "") + section)
        _write_atomic(path, json.dumps(rec, indent=1, ensure_ascii=False) + "\n")
        write_page(self.root)
        print(f"recorded: {path}; log entry #{anchor} in {log}; page {self.root / PAGE_NAME}")
        return path


def start(benchmark: str, args: argparse.Namespace, *, quick: bool = False, device: str = "cpu",
          argv: list[str] | None = None) -> Run:
    """Note the tree state and the clock before measuring (see :class:`Run`)."""
    return Run(benchmark, args, quick=quick, device=device, argv=argv)


def _unique_anchor(log: Path, base: str) -> str:
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    anchor, n = base, 1
    while f'<a id="{anchor}">' in text:
        n += 1
        anchor = f"{base}-{n}"
    return anchor


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------- the page
def load_records(root: Path) -> list[dict[str, Any]]:
    """Every record under ``root/records``; a file that is not a record is an error."""
    out = []
    for path in sorted((root / RECORDS_NAME).glob("*/*.json")):
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"{path}: not a readable JSON record ({err})") from None
        missing = {"benchmark", "commit", "dirty", "date", "log", "comparisons"} - set(rec)
        if missing:
            raise ValueError(f"{path}: record lacks {sorted(missing)}")
        rec["_path"] = path
        out.append(rec)
    return out


def headline(records: list[dict[str, Any]]) -> dict[str, tuple[dict, dict]]:
    """Comparison id -> (record, comparison) of the latest record from a committed tree.

    Records of uncommitted code (dirty True), of unknown tree state (None) and quick runs are
    never headline rows.
    """
    best: dict[str, tuple[dict, dict]] = {}
    for rec in records:
        if rec["dirty"] is not False or rec.get("quick"):
            continue
        for comp in rec["comparisons"]:
            old = best.get(comp["id"])
            if old is None or rec["date"] > old[0]["date"]:
                best[comp["id"]] = (rec, comp)
    return best


def _fmt(v: Any, digits: int = 4) -> str:
    """``digits`` significant digits; whole numbers from 1000 on; powers of ten outside
    1e-3..1e6."""
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        if 1e3 <= abs(v) < 1e6:
            return f"{v:.0f}"
        return f"{v:.{digits}g}" if 1e-3 <= abs(v) < 1e3 or v == 0 else f"{v:.2e}"
    return str(v)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def latest_figures(records: list[dict[str, Any]]) -> dict[str, tuple[dict, dict]]:
    """Figure id -> (record, figure) of the latest committed, non-quick record that has it."""
    out: dict[str, tuple[dict, dict]] = {}
    for rec in records:
        if rec["dirty"] is not False or rec.get("quick"):
            continue
        for fig in rec.get("figures", []):
            old = out.get(fig["id"])
            if old is None or rec["date"] > old[0]["date"]:
                out[fig["id"]] = (rec, fig)
    return dict(sorted(out.items()))


_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def svg_chart(fig: dict[str, Any]) -> str:
    """A log-log line chart as SVG text (standard library only; deterministic)."""
    w, h, left, right, top, bottom = 640, 400, 70, 170, 40, 50
    pts = [(x, y) for s in fig["series"].values() for x, y in zip(s["x"], s["y"], strict=True)
           if y is not None and x > 0 and y > 0]
    if not pts:
        raise ValueError(f"figure {fig['id']}: no positive points to draw")

    def bounds(values: list[float]) -> tuple[float, float]:
        lo, hi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
        return lo, max(hi, lo + 1)

    (x0, x1), (y0, y1) = bounds([p[0] for p in pts]), bounds([p[1] for p in pts])

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / (x1 - x0) * (w - left - right)

    def py(y: float) -> float:
        return h - bottom - (math.log10(y) - y0) / (y1 - y0) * (h - top - bottom)

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2:.1f}" y="22" text-anchor="middle" font-size="14">'
           f'{esc(fig["title"])}</text>']
    for k in range(int(x0), int(x1) + 1):
        x = px(10.0**k)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h - bottom}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{h - bottom + 16}" text-anchor="middle">'
                   f'{_fmt(10.0**k)}</text>')
    for k in range(int(y0), int(y1) + 1):
        y = py(10.0**k)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{_fmt(10.0**k)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{w - left - right}" '
               f'height="{h - top - bottom}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{(left + w - right) / 2:.1f}" y="{h - 12}" text-anchor="middle">'
               f'{esc(fig["x_label"])}</text>')
    out.append(f'<text x="16" y="{(top + h - bottom) / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 16 {(top + h - bottom) / 2:.1f})">'
               f'{esc(fig["y_label"])}</text>')
    for i, (name, s) in enumerate(fig["series"].items()):
        colour = _COLOURS[i % len(_COLOURS)]
        seg: list[str] = []
        for x, y in zip(s["x"], s["y"], strict=True):
            if y is None or x <= 0 or y <= 0:
                if len(seg) > 1:
                    out.append(f'<polyline points="{" ".join(seg)}" fill="none" '
                               f'stroke="{colour}" stroke-width="2"/>')
                seg = []
                continue
            seg.append(f"{px(x):.1f},{py(y):.1f}")
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{colour}"/>')
        if len(seg) > 1:
            out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                       'stroke-width="2"/>')
        ly = top + 14 + 18 * i
        out.append(f'<line x1="{w - right + 10}" y1="{ly - 4}" x2="{w - right + 30}" '
                   f'y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{w - right + 36}" y="{ly}">{esc(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_figures(root: Path = HERE) -> dict[Path, str]:
    """The page's figure files (path -> SVG text) from the records under ``root``."""
    return {root / FIGURES_NAME / f"{fid}.svg": svg_chart(fig)
            for fid, (_, fig) in latest_figures(load_records(root)).items()}


def write_page(root: Path = HERE) -> None:
    """Write the results page and its figures under ``root`` (each file atomically)."""
    for path, text in render_figures(root).items():
        _write_atomic(path, text)
    _write_atomic(root / PAGE_NAME, render(root))


def render(root: Path = HERE) -> str:
    """The results page from the records under ``root`` (deterministic: records only)."""
    records = load_records(root)
    best = headline(records)
    lines = [
        "# Benchmark results",
        "",
        "<!-- Generated by `python benchmarks/_record.py --render` from benchmarks/records/; "
        "do not edit. -->",
        "",
        "The latest result of every comparison, each from a run of committed code (runs of "
        "uncommitted code and quick runs are in the log, never here). The full log, with the "
        f"settings and notes of every run, is [{LOG_NAME}]({LOG_NAME}); each row links to its "
        "entry. *sciml* and *anchor* are the two measured values and *ratio* says which way it "
        "is taken (a speed-up is anchor / sciml). † marks a row transcribed from a log entry "
        "written before the records existed, whose script checked the tree for uncommitted "
        "changes and found none; ‡ one whose script did not check (the entry states a bare "
        "commit). Rerunning the benchmark replaces either with a recorded run.",
        "",
        "| benchmark | what | sciml | anchor | ratio | target | met? | commit | date | log |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    known: set[str] = set()
    missing: list[tuple[str, str]] = []
    retired: list[str] = []
    for bench in BENCHMARKS:
        ids = [i for i, _ in bench.expected]
        known.update(ids)
        for cid, why in bench.retired:
            if cid in best:
                rec = best[cid][0]
                retired.append(f"- `{cid}` ({bench.name}, last run {rec['date'][:10]} at "
                               f"{rec['commit']}, [entry]({LOG_NAME}#{rec['log']['anchor']})): "
                               f"{_cell(why)}")
        shown = {c for c, (r, _) in best.items() if r["benchmark"] == bench.name}
        extra = sorted(shown - set(ids) - {i for i, _ in bench.retired},
                       key=lambda c: (best[c][0]["date"],
                                      best[c][0]["comparisons"].index(best[c][1])))
        for cid in ids + extra:
            if cid not in best:
                missing.append((bench.name, dict(bench.expected)[cid]))
                continue
            lines.append(_row(bench.name, *best[cid]))
    orphans = sorted(c for c in best if c not in known and best[c][0]["benchmark"] not in
                     {b.name for b in BENCHMARKS})
    lines += [_row(best[c][0]["benchmark"], *best[c]) for c in orphans]
    figs = latest_figures(records)
    if figs:
        lines += ["", "## Figures", ""]
        for fid, (rec, fig) in figs.items():
            link = f"{LOG_NAME}#{rec['log']['anchor']}"
            lines += [f"![{fig['title']}]({FIGURES_NAME}/{fid}.svg)", "",
                      f"*{_cell(fig['title'])}* ({rec['benchmark']}, commit {rec['commit']}, "
                      f"{rec['date'][:10]}, [log]({link}))"
                      + (f": {_cell(fig['note'])}" if fig.get("note") else ""), ""]
        lines.pop()
    if retired:
        lines += ["", "## Retired comparisons", "",
                  "No longer measured by their scripts; kept here for their log entries.", ""]
        lines += retired
    lines += ["", "## No committed run yet", ""]
    lines += [f"- `{b}`: {what}" for b, what in missing] or ["(none)"]
    lines += ["", "## Benchmark scripts", "",
              "Every script records through `benchmarks/_record.py`: `--no-record` prints only, "
              "`--out DIR` writes the log, records and page under DIR; quick runs are not "
              "recorded. Anchors with their own pins run in their own virtual environments "
              "(`benchmarks/setup_*_env.sh`), never in `.venv`.", "",
              "| script | what it measures | how to run |", "|---|---|---|"]
    lines += [f"| `{b.script}` | {_cell(b.description)} | {_cell(b.run)} |" for b in BENCHMARKS]
    lines += [f"| `{s}` | {_cell(d)} | {_cell(r)} |" for s, d, r in OTHER_SCRIPTS]
    return "\n".join(lines) + "\n"


def _row(bench: str, rec: dict, comp: dict) -> str:
    unit = f" {comp['unit']}" if comp.get("unit") else ""
    sciml = _fmt(comp.get("sciml")) + (unit if comp.get("sciml") is not None else "")
    anchor = comp.get("anchor")
    anchor_txt = _fmt(anchor) + (unit if anchor is not None else "")
    if anchor is not None and comp.get("anchor_name"):
        anchor_txt += f" ({comp['anchor_name']})"
    ratio = comp.get("ratio")
    tgt = comp.get("target") or {}
    digits = 3
    if ratio is not None and (0.9 <= ratio < 1.1 or (
            tgt.get("on") == "ratio" and float(_fmt(float(ratio), 3)) == tgt["value"])):
        digits = 4  # near 1, or rounded onto the target: show the digit that decides
    ratio_txt = "–" if ratio is None else f"{_fmt(float(ratio), digits)} ({comp['ratio_of']})"
    target = tgt.get("text", "")
    met = {True: "yes", False: "no", None: "–"}[comp.get("met")]
    what = comp["what"] + (f" ({comp['setting']})" if comp.get("setting") else "")
    dagger = ""
    if rec.get("source", "run") != "run":
        dagger = "†" if rec.get("commit_checked", True) else "‡"
    return (f"| {bench} | {_cell(what)} | {_cell(sciml)} | {_cell(anchor_txt)} | {ratio_txt} | "
            f"{_cell(target)} | {met} | {rec['commit']}{dagger} | {rec['date'][:10]} | "
            f"[entry]({rec['log']['file']}#{rec['log']['anchor']}) |")


# ---------------------------------------------------------------------------- command line
def import_run(src: Path, root: Path = HERE) -> list[Path]:
    """Take the records and log entries of a run written with ``--out src`` into ``root``.

    Each new record is copied and its log section (from ``<a id=anchor>`` to the next anchor)
    appended to root's log; records already present are skipped. Quick records are refused.
    A record made without git metadata (a copied tree, e.g. on a lent GPU machine, with the
    commit given as ``SCIML_RECORD_COMMIT``) becomes a committed run here only if its code
    fingerprint equals that commit's (:func:`commit_fingerprint`); the log entry says which.
    """
    src_log = (src / LOG_NAME).read_text(encoding="utf-8") if (src / LOG_NAME).exists() else ""
    log_path = root / LOG_NAME
    log = log_path.read_text(encoding="utf-8") if log_path.exists() else ""
    taken = []
    for rec in load_records(src):
        dest = root / RECORDS_NAME / rec["benchmark"] / rec["_path"].name
        if dest.exists() or rec.get("quick"):
            continue
        anchor = rec["log"]["anchor"]
        if f'<a id="{anchor}">' in log:
            raise ValueError(f"{log_path}: already has an entry #{anchor}")
        m = re.search(rf'\n<a id="{re.escape(anchor)}"></a>\n.*?(?=\n<a id="|\Z)', src_log,
                      flags=re.S)
        if m is None:
            raise ValueError(f"{src / LOG_NAME}: no entry #{anchor} for {rec['_path']}")
        data = {k: v for k, v in rec.items() if k != "_path"}
        section = m.group(0).rstrip("\n") + "\n"
        if rec["dirty"] is None and rec["commit"] != "unknown":
            fp = commit_fingerprint(rec["commit"])
            if fp is not None and fp == rec.get("fingerprint"):
                data["dirty"] = False
                data["commit_checked"] = f"code fingerprint {fp} equals {rec['commit']}'s"
                section += (f"- imported: the run's code fingerprint {fp} equals commit "
                            f"{rec['commit']}'s, so it ran committed code\n")
            else:
                section += (f"- imported: the run's code fingerprint {rec.get('fingerprint')} "
                            f"is not commit {rec['commit']}'s ({fp}): not a committed run\n")
        log += section
        _write_atomic(dest, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        taken.append(dest)
    _write_atomic(log_path, log)
    write_page(root)
    return taken


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--render", action="store_true", help="rewrite README.md from the records")
    mode.add_argument("--check", action="store_true",
                      help="exit 1 if README.md differs from what --render would write")
    mode.add_argument("--import", dest="import_dir", type=Path, metavar="DIR",
                      help="copy the records and log entries of a run made with --out DIR")
    ap.add_argument("--root", type=Path, default=HERE, help="results root (default benchmarks/)")
    args = ap.parse_args(argv)
    try:
        if args.import_dir is not None:
            taken = import_run(args.import_dir, args.root)
            print(f"imported {len(taken)} record(s) into {args.root / RECORDS_NAME}")
            return 0
        page = render(args.root)
        figures = render_figures(args.root)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    path = args.root / PAGE_NAME
    if args.check:
        for p, text in {path: page, **figures}.items():
            current = p.read_text(encoding="utf-8") if p.exists() else ""
            if current != text:
                print(f"{p} is stale: run python benchmarks/_record.py --render",
                      file=sys.stderr)
                return 1
        print(f"{path} is up to date")
        return 0
    write_page(args.root)
    print(f"wrote {path}" + (f" and {len(figures)} figure(s)" if figures else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
