"""sciml vs torch-spatiotemporal (tsl): the same time-then-space model on LOS, in one run.

Both sides train tsl's ``RNNEncGCNDecModel`` architecture (linear encoder -> GRU -> last state ->
GraphConv layers on the mean-normalised adjacency -> MLP read-out): tsl's own class through its
standard pipeline (``SpatioTemporalDataset``, ``SpatioTemporalDataModule`` with
``TemporalSplitter`` and ``StandardScaler``, ``Predictor`` with ``MaskedMAE``, Lightning on CPU),
and sciml's ``time_then_space`` with ``graph_conv="mean"``, ``residual=False``,
``decoder_hidden_size=hidden`` through ``prepare_forecasting`` / ``ForecastingTask`` / ``Trainer``.
Same data (LOS, window 12, horizon 12, zeros masked, 70/10/20 windows, standard scaler on the
training steps), same hyperparameters and epochs. Reported: seconds per training epoch (median,
training batches only, validation excluded on both sides) and test MAE / RMSE / MAPE at 15 / 30 /
60 minutes after the same epochs (the last epoch's weights on both sides), all computed by the
same function on each side's predictions. With ``--baselines``: sciml's persistence, node-wise GRU
and default (diffusion) time-then-space model with the same budget.

Every training runs in a fresh process of its own (both sides at each ``--threads`` count, one
after the other), so that each side's peak resident memory (VmHWM) is its own; the issue-24
targets: epoch time <= 0.5x tsl's at 1 and at 2 threads, peak memory <= tsl's. With ``--parts
dcrnn`` (default: both parts) also DCRNN against tsl's ``DCRNNModel`` with its sparse adjacency
(``torch_sparse.SparseTensor``, tsl's fastest path): our ``dcrnn`` with ``decoder="mlp"`` is the
same function (hidden 64, 2 layers, K = 2, read-out of 256 units; tsl's trained weights loaded
into ours give the same outputs), trained ``--dcrnn-epochs`` epochs at ``--dcrnn-threads``:
epoch time <= 0.33x tsl's. Our side runs the engine as a user gets it, which includes its
allocator setting (``sciml.train.tune_allocator``).

Run with the tsl environment (benchmarks/setup_tsl_env.sh)::

    .venv-tsl/bin/python benchmarks/forecast_vs_tsl.py [--epochs 20] [--threads 1 2]
        [--parts tts dcrnn scaling] [--dcrnn-epochs 2] [--profile] [--quick] [--no-baselines]

``--parts scaling`` (not in the default run) trains the time-then-space model on generated
GPVAR series of ``--scaling-nodes`` nodes (100 to 10,000 by default; random geometric graphs of
the same expected degree, ``--mean-degree``, from the sparse generator of
``sciml.solvers.gpvar``), each side in its own process at 1 thread, and records seconds per
epoch and peak memory against the number of nodes; the page draws both curves
(``benchmarks/figures/``). A side whose resident memory passes ``--memory-limit-mb`` (20 GiB;
the machine has 24) is stopped there, noted, and not run at the larger sizes.

``--profile`` adds to the log the top operators of one training step of each model (ours, and
tsl's model in a plain torch loop on the same batch of raw windows), each in its own process.

Recorded through ``benchmarks/_record.py`` (log entry in benchmarks/RESULTS.md, JSON record,
results page) unless ``--no-record``; ``--quick`` runs are never recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from sciml.datasets import load_los
from torch.utils.data import DataLoader, default_collate

import sciml.models  # noqa: F401  (registers the forecasters)
from sciml.metrics import horizon_metrics
from sciml.registry import MODELS
from sciml.tasks import (
    MAPE_EPS,
    ForecastingDataConfig,
    ForecastingTask,
    prepare_forecasting,
    with_rmse,
)
from sciml.train import Trainer, TrainerConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data" / "timeseries"
STEPS = (3, 6, 12)  # 15, 30, 60 minutes of 5-minute data
WINDOW = HORIZON = 12
GRAD_CLIP = 5.0
TARGETS = {"time_ratio": 0.5, "dcrnn_time_ratio": 0.33, "mae_slack": 0.02}
DCRNN = {"hidden_size": 64, "n_layers": 2, "k": 2, "ff_size": 256}  # the los-dcrnn recipe's sizes


@dataclass
class Run:
    """One trained (or parameter-free) model: its timing and its test metrics."""

    label: str
    n_params: int
    epoch_seconds: list[float] = field(default_factory=list)
    epoch_cpu_seconds: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = float("nan")  # of the process that trained it
    threads: int = 0
    test_y: Any = None  # the test targets (tensor), or their [sum, sum of squares, count]
    split: tuple | list = ()  # train / val / test windows
    model: Any = None  # tsl's trained module (in its worker)

    @property
    def epoch_median(self) -> float:
        return statistics.median(self.epoch_seconds) if self.epoch_seconds else float("nan")

    @property
    def cpu_median(self) -> float:
        return (statistics.median(self.epoch_cpu_seconds) if self.epoch_cpu_seconds
                else float("nan"))


def clocks() -> tuple[float, float]:
    """(wall, CPU time of this process): the second is less sensitive to other jobs."""
    return time.perf_counter(), time.process_time()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=20, help="training epochs on every side")
    p.add_argument("--quick", action="store_true", help="2-epoch smoke run (not recorded)")
    p.add_argument("--hidden", type=int, default=32, help="hidden size (encoder, GRU, GCN)")
    p.add_argument("--gcn-layers", type=int, default=2, help="graph layers of the decoder")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                   help="torch.set_num_threads on both sides; the time-then-space part runs at "
                        "each (its accuracy rows come from the first)")
    p.add_argument("--parts", nargs="+", choices=["tts", "dcrnn", "scaling"],
                   default=["tts", "dcrnn"],
                   help="scaling: the time-then-space model on generated GPVAR graphs of "
                        "--scaling-nodes nodes (not in the default run)")
    p.add_argument("--scaling-nodes", type=int, nargs="+",
                   default=[100, 300, 1000, 3000, 10000])
    p.add_argument("--scaling-steps", type=int, default=400,
                   help="time steps of each GPVAR series (windows: steps - 23)")
    p.add_argument("--mean-degree", type=float, default=10.0,
                   help="expected node degree of the GPVAR graphs (the same density for all)")
    p.add_argument("--scaling-epochs", type=int, default=2,
                   help="epochs per size (the last one is timed)")
    p.add_argument("--memory-limit-mb", type=float, default=20480,
                   help="scaling: stop a training process whose resident memory passes this "
                        "(it would not fit; the machine has 24 GiB)")
    p.add_argument("--gpvar-nodes", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--dcrnn-epochs", type=int, default=2, help="DCRNN epochs (timing)")
    p.add_argument("--dcrnn-threads", type=int, nargs="+", default=[1])
    p.add_argument("--profile", action="store_true",
                   help="log the top operators of one training step of each model, ours and "
                        "tsl's (plain torch step on the same batch), at the first thread count")
    p.add_argument("--worker", choices=["sciml", "tsl", "profile-sciml", "profile-tsl"],
                   help=argparse.SUPPRESS)
    p.add_argument("--model", default="tts", help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                   help="also train/evaluate persistence, node_gru and the default TTS")
    p.add_argument("--data-root", type=Path, default=DATA, help="folder with los_*.csv")
    _record.add_record_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.dcrnn_epochs = 2, 1
    if args.epochs < 1:
        p.error(f"--epochs must be >= 1, got {args.epochs}")
    return args


# ----------------------------------------------------------------------------------- metrics
def test_metrics(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
    """Masked MAE / RMSE (mph) and MAPE (%) overall and at :data:`STEPS`, the same for all."""
    out = horizon_metrics(pred.double(), y.double(), mask, steps=STEPS, eps=MAPE_EPS)
    return {k: (100.0 * v if k.startswith("mape") else v) for k, v in out.items()}


# ----------------------------------------------------------------------------------- sciml
def tts_as_tsl(args: argparse.Namespace) -> dict:
    """Our time_then_space configured as tsl's RNNEncGCNDecModel."""
    return {"hidden_size": args.hidden, "rnn_layers": 1, "graph_layers": args.gcn_layers,
            "decoder_layers": 1, "decoder_hidden_size": args.hidden, "graph_conv": "mean",
            "residual": False, "activation": "relu", "dropout": 0.0}


class TimedTask(ForecastingTask):
    """ForecastingTask that notes the clocks at each epoch's first training step and at the
    first validation batch after it: the span is the epoch's training part (loading the first
    batch aside), the same span EpochTimer measures on the tsl side."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.starts: list[tuple[float, float]] = []
        self.ends: list[tuple[float, float]] = []

    def forward(self, batch):
        if len(self.starts) == len(self.ends):
            self.starts.append(clocks())
        return super().forward(batch)

    def metrics(self, batch):
        if len(self.starts) > len(self.ends):
            self.ends.append(clocks())
        return super().metrics(batch)


def build_task(name: str, cfg: dict, prep, seed: int) -> TimedTask:
    s = prep.series
    torch.manual_seed(seed)
    model = MODELS.build(name, cfg, n_nodes=s.n_nodes, input_size=s.n_channels,
                         output_size=s.n_channels, window=WINDOW, horizon=HORIZON)
    return TimedTask(model, prep.scaler, s.n_nodes, s.n_channels, s.edge_index,
                     s.edge_weight, target_channels=s.n_channels, steps=STEPS)


def sciml_run(label: str, name: str, cfg: dict, prep, args: argparse.Namespace) -> Run:
    """Fit with sciml's Trainer (no run folder: no checkpoint or log writes) and test."""
    task = build_task(name, cfg, prep, args.seed)
    n_params = sum(p.numel() for p in task.parameters() if p.requires_grad)
    trainer = Trainer(TrainerConfig(
        max_epochs=args.epochs, batch_size=args.batch_size,
        optimizer={"name": "adam", "lr": args.lr}, grad_clip=GRAD_CLIP, seed=args.seed,
        progress=False, tensorboard=False, device="cpu"))
    run = Run(label, n_params)
    if n_params:
        result = trainer.fit(task, prep.train, prep.val)
        # the Trainer's "seconds": the epoch's training batches (loading, step), no validation
        run.epoch_seconds = [row["seconds"] for row in result.history]
        run.epoch_cpu_seconds = [e[1] - s[1] for s, e in zip(task.starts, task.ends,
                                                             strict=True)]
        run.steps_per_epoch = -(-len(prep.train) // args.batch_size)
    task.eval()
    preds, ys, masks = [], [], []
    with torch.no_grad():
        for batch in DataLoader(prep.test, batch_size=args.batch_size, collate_fn=default_collate):
            preds.append(task.predict(batch))
            ys.append(batch["y"])
            masks.append(batch["mask_y"])
    run.metrics = test_metrics(torch.cat(preds), torch.cat(ys), torch.cat(masks))
    own = with_rmse(trainer.evaluate(task, prep.test, prefix="test"))  # the Trainer's own numbers
    if abs(own["test/mae@12"] - run.metrics["mae@12"]) > 1e-3 * max(1.0, run.metrics["mae@12"]):
        raise RuntimeError(f"{label}: Trainer.evaluate MAE@12 {own['test/mae@12']:.5f} differs "
                           f"from the benchmark's {run.metrics['mae@12']:.5f}")
    run.test_y = torch.cat(ys)
    return run


# ----------------------------------------------------------------------------------- tsl
def tsl_model(kind: str, args: argparse.Namespace) -> tuple[type, dict]:
    """tsl's model class and arguments: RNNEncGCNDecModel (``tts``) or DCRNNModel (``dcrnn``)."""
    from tsl.nn.models import DCRNNModel, RNNEncGCNDecModel

    if kind == "dcrnn":
        return DCRNNModel, {"input_size": 1, "output_size": 1, "horizon": HORIZON,
                            "hidden_size": DCRNN["hidden_size"], "n_layers": DCRNN["n_layers"],
                            "kernel_size": DCRNN["k"], "ff_size": DCRNN["ff_size"],
                            "activation": "relu"}
    return RNNEncGCNDecModel, {"input_size": 1, "output_size": 1, "exog_size": 0,
                               "horizon": HORIZON, "hidden_size": args.hidden, "rnn_layers": 1,
                               "gcn_layers": args.gcn_layers, "rnn_dropout": 0.0,
                               "gcn_dropout": 0.0, "activation": "relu"}


def tsl_run(series, prep, args: argparse.Namespace, n_val: int, n_test: int,
            kind: str = "tts") -> Run:
    """tsl's standard pipeline on the same series; the model is tsl's RNNEncGCNDecModel, or
    DCRNNModel on the sparse adjacency."""
    import pytorch_lightning as pl
    from tsl.data import SpatioTemporalDataset
    from tsl.data.datamodule import SpatioTemporalDataModule, TemporalSplitter
    from tsl.data.preprocessing import StandardScaler
    from tsl.engines import Predictor
    from tsl.metrics.torch import MaskedMAE

    class EpochTimer(pl.Callback):
        """Training-batch time of each epoch: epoch start to the end of its last batch."""

        def __init__(self) -> None:
            self.seconds: list[float] = []
            self.cpu_seconds: list[float] = []
            self.steps = 0

        def on_train_epoch_start(self, trainer, module) -> None:
            self.t0 = self.t_last = clocks()
            self.steps = 0

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
            self.t_last = clocks()
            self.steps += 1

        def on_train_epoch_end(self, trainer, module) -> None:
            self.seconds.append(self.t_last[0] - self.t0[0])
            self.cpu_seconds.append(self.t_last[1] - self.t0[1])

    dataset = SpatioTemporalDataset(
        target=series.values.numpy(), mask=series.mask.numpy(),
        connectivity=(series.edge_index, series.edge_weight), window=WINDOW, horizon=HORIZON)
    if kind == "dcrnn":
        dataset.set_connectivity((series.edge_index, series.edge_weight), target_layout="sparse")
    dm = SpatioTemporalDataModule(
        dataset, scalers={"target": StandardScaler(axis=0)},  # per node over time, as ours
        splitter=TemporalSplitter(val_len=n_val, test_len=n_test), batch_size=args.batch_size)
    dm.setup()
    torch.manual_seed(args.seed)
    model_class, model_kwargs = tsl_model(kind, args)
    predictor = Predictor(model_class=model_class, model_kwargs=model_kwargs,
                          optim_class=torch.optim.Adam, optim_kwargs={"lr": args.lr},
                          loss_fn=MaskedMAE())
    timer = EpochTimer()
    trainer = pl.Trainer(max_epochs=args.epochs, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=0,
                         gradient_clip_val=GRAD_CLIP, callbacks=[timer])
    trainer.fit(predictor, datamodule=dm)
    run = Run(f"tsl {model_class.__name__}", predictor.trainable_parameters, timer.seconds,
              timer.cpu_seconds, timer.steps)
    predictor.eval()
    preds, ys, masks = [], [], []
    with torch.no_grad():
        for batch in dm.test_dataloader():
            y, y_hat, mask = predictor.predict_batch(batch, preprocess=False, postprocess=True,
                                                     return_target=True)
            preds.append(y_hat)
            ys.append(y)
            masks.append(mask)
    run.metrics = test_metrics(torch.cat(preds), torch.cat(ys), torch.cat(masks))
    run.test_y = torch.cat(ys)
    run.split = (len(dm.trainset), len(dm.valset), len(dm.testset))
    run.model = predictor.model
    return run


def check_same_dcrnn(tsl_model, prep, args: argparse.Namespace) -> float:
    """tsl's DCRNNModel weights in our dcrnn (decoder "mlp"): the largest output difference
    (float64). tsl's separate forget and update gates are the two halves of our gates."""
    ours = build_task("dcrnn", {**DCRNN, "decoder": "mlp"}, prep, args.seed).model.double()
    src = {k: v.double() for k, v in tsl_model.state_dict().items()}
    state = {"input_encoder.weight": src["input_encoder.weight"],
             "input_encoder.bias": src["input_encoder.bias"],
             "readout.net.0.weight": src["readout.readout.mlp.0.affinity.weight"],
             "readout.net.0.bias": src["readout.readout.mlp.0.affinity.bias"],
             "readout.net.2.weight": src["readout.readout.readout.weight"],
             "readout.net.2.bias": src["readout.readout.readout.bias"]}
    for i in range(DCRNN["n_layers"]):
        cell = f"dcrnn.cells.{i}."
        for kind in ("weight", "bias"):
            state[f"encoder.{i}.gates.lin.{kind}"] = torch.cat(
                [src[f"{cell}forget_gate.filters.{kind}"],
                 src[f"{cell}update_gate.filters.{kind}"]])
            state[f"encoder.{i}.candidate.lin.{kind}"] = src[f"{cell}candidate_gate.filters.{kind}"]
    ours.load_state_dict(state, strict=True)
    return _max_difference(ours, tsl_model, prep)


def _max_difference(ours, tsl_model, prep) -> float:
    x = torch.randn(4, WINDOW, prep.series.n_nodes, 1, dtype=torch.float64)
    ei, ew = prep.series.edge_index, prep.series.edge_weight.double()
    ref = tsl_model.double().eval()
    with torch.no_grad():
        diff = (ours.eval()(x, ei, ew) - ref(x, ei, ew)).abs().max()
    tsl_model.float()
    return float(diff)


def check_same_function(tsl_model, prep, args: argparse.Namespace) -> float:
    """Copy tsl's weights into our model; return the largest output difference (float64)."""
    ours = build_task("time_then_space", tts_as_tsl(args), prep, args.seed).model.double()
    src = {k: v.double() for k, v in tsl_model.state_dict().items()}
    names = {"input_encoder.0.weight": "encoder.weight", "input_encoder.0.bias": "encoder.bias",
             "decoder.readout.readout.mlp.0.affinity.weight": "decoder.net.0.weight",
             "decoder.readout.readout.mlp.0.affinity.bias": "decoder.net.0.bias",
             "decoder.readout.readout.readout.weight": "decoder.net.2.weight",
             "decoder.readout.readout.readout.bias": "decoder.net.2.bias"}
    for key in src:
        if key.startswith("encoder.rnn."):
            names[key] = "rnn." + key.removeprefix("encoder.rnn.")
        elif key.startswith("decoder.convs."):
            i, rest = key.removeprefix("decoder.convs.").split(".", 1)
            names[key] = f"graph_convs.{i}." + {"bias": "lin_neighbors.bias",
                                                "lin.weight": "lin_neighbors.weight",
                                                "root_lin.weight": "lin_root.weight"}[rest]
    state = {names[k]: v for k, v in src.items()}
    ours.load_state_dict(state, strict=True)
    return _max_difference(ours, tsl_model, prep)


# ----------------------------------------------------------------------------------- report
def table(runs: list[Run]) -> list[str]:
    head = ["model", "params", "s/epoch (median)", "CPU s/epoch (median)", "steps/epoch"]
    for minutes in (15, 30, 60):
        head += [f"MAE {minutes}m", f"RMSE {minutes}m", f"MAPE {minutes}m (%)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        cells = [r.label, str(r.n_params),
                 f"{r.epoch_median:.2f}" if r.epoch_seconds else "-",
                 f"{r.cpu_median:.2f}" if r.epoch_cpu_seconds else "-",
                 str(r.steps_per_epoch) if r.epoch_seconds else "-"]
        for k in STEPS:
            cells += [f"{r.metrics[f'mae@{k}']:.3f}", f"{r.metrics[f'rmse@{k}']:.3f}",
                      f"{r.metrics[f'mape@{k}']:.2f}"]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def sciml_spec(model: str, args: argparse.Namespace) -> tuple[str, str, dict]:
    """(label, registered name, config) of our side's models."""
    return {
        "tts": ("sciml time_then_space (tsl arch.)", "time_then_space", tts_as_tsl(args)),
        "dcrnn": ("sciml dcrnn (decoder mlp: tsl arch.)", "dcrnn", {**DCRNN, "decoder": "mlp"}),
        "default": ("sciml time_then_space (default: residual diffusion)", "time_then_space",
                    {"hidden_size": args.hidden}),
        "persistence": ("sciml persistence", "persistence", {}),
        "node_gru": ("sciml node_gru (no graph)", "node_gru", {"hidden_size": args.hidden}),
    }[model]


def load_data(args: argparse.Namespace):
    series = load_los(root=args.data_root, zeros_as_missing=True)
    cfg = ForecastingDataConfig(name="los", window=WINDOW, horizon=HORIZON, val=0.1, test=0.2)
    prep = prepare_forecasting(cfg, series)
    n_val = len(prep.val) + WINDOW + HORIZON - 1  # validation windows before our gap is taken out
    return series, prep, n_val, len(prep.test)


def load_gpvar_data(args: argparse.Namespace):
    """A generated GPVAR series of ``--gpvar-nodes`` nodes at ``--mean-degree`` (sparse
    generator), split as LOS (70/10/20 windows)."""
    from sciml.datasets import load_gpvar

    series = load_gpvar(n_nodes=args.gpvar_nodes, n_steps=args.scaling_steps,
                        mean_degree=args.mean_degree, seed=args.seed)
    cfg = ForecastingDataConfig(name="gpvar", window=WINDOW, horizon=HORIZON, val=0.1, test=0.2)
    prep = prepare_forecasting(cfg, series)
    return series, prep, len(prep.val) + WINDOW + HORIZON - 1, len(prep.test)


def profile_worker(args: argparse.Namespace) -> str:
    """Top operators of 3 training steps (forward, masked MAE, backward, Adam) on one batch of
    64 training windows, after 2 warm-up steps: our task, or tsl's model in a plain loop."""
    from torch.profiler import ProfilerActivity, profile

    from sciml.train import tune_allocator

    _, prep, _, _ = load_data(args)
    batch = default_collate([prep.train[i] for i in range(args.batch_size)])
    s = prep.series
    if args.worker == "profile-sciml":
        tune_allocator()  # as a fit does
        task = build_task(*sciml_spec(args.model, args)[1:], prep, args.seed)
        params = list(task.parameters())

        def loss():
            return task(batch)
    else:
        cls, kwargs = tsl_model(args.model, args)
        torch.manual_seed(args.seed)
        model = cls(**kwargs)
        params = list(model.parameters())
        if args.model == "dcrnn":
            from torch_sparse import SparseTensor
            graph = (SparseTensor(row=s.edge_index[1], col=s.edge_index[0],
                                  value=s.edge_weight.float(), sparse_sizes=(s.n_nodes,) * 2),)
        else:
            graph = (s.edge_index, s.edge_weight.float())
        def loss():
            pred = model(batch["x"], *graph)
            m = batch["mask_y"].float()
            return ((pred - batch["y"]).abs() * m).sum() / m.sum()
    opt = torch.optim.Adam(params, lr=args.lr)

    def step():
        opt.zero_grad(set_to_none=True)
        loss().backward()
        opt.step()

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            step()
    seconds = (time.perf_counter() - t0) / 3
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8)
    return (f"{'sciml' if args.worker == 'profile-sciml' else 'tsl'} {args.model}, "
            f"{args.threads[0]} thread(s), {seconds:.3f} s per profiled step\n\n```\n"
            f"{table.strip()}\n```\n")


def worker(args: argparse.Namespace) -> int:
    """One training in this (fresh) process; its result as JSON in ``--out``."""
    torch.set_num_threads(args.threads[0])
    if args.worker.startswith("profile"):
        args.result.write_text(json.dumps({"profile": profile_worker(args)}))
        return 0
    series, prep, n_val, n_test = load_gpvar_data(args) if args.gpvar_nodes else load_data(args)
    if args.worker == "tsl":
        run = tsl_run(series, prep, args, n_val, n_test, kind=args.model)
        torch.save(run.model.state_dict(), args.result.with_suffix(".pt"))
        split = list(run.split)
    else:
        run = sciml_run(*sciml_spec(args.model, args), prep, args)
        split = [len(prep.train), len(prep.val), n_test]
    y = run.test_y.double()
    out = {"label": run.label, "n_params": run.n_params, "epoch_seconds": run.epoch_seconds,
           "epoch_cpu_seconds": run.epoch_cpu_seconds, "steps_per_epoch": run.steps_per_epoch,
           "metrics": run.metrics, "peak_rss_mb": _record.peak_rss_mb(), "split": split,
           "test_y": [float(y.sum()), float((y * y).sum()), y.numel()]}
    args.result.write_text(json.dumps(out))
    return 0


class WorkerFailed(RuntimeError):
    """A training process that ended without a result (``returncode``: -9 when killed, e.g.
    by the kernel for want of memory)."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _run_capped(cmd: list[str], env: dict, limit_mb: float, tmp: Path) -> tuple[int, str, str]:
    """Run ``cmd``, killing it once its resident memory exceeds ``limit_mb`` (polled every
    0.1 s; returncode -9 and a last stderr line that says so): a run that would not fit is
    stopped before the machine runs out of memory."""
    with open(tmp / "stdout.txt", "w+") as out, open(tmp / "stderr.txt", "w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        over = False
        while proc.poll() is None:
            if _rss_mb(proc.pid) > limit_mb:
                proc.kill()
                proc.wait()
                over = True
                break
            time.sleep(0.1)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if over:
        stderr += f"\nstopped: resident memory above {limit_mb:.0f} MB"
    return proc.returncode, stdout, stderr


def run_worker(side: str, model: str, threads: int, epochs: int, args: argparse.Namespace,
               tmp: Path, gpvar_nodes: int = 0, memory_limit_mb: float = 0.0) -> dict:
    out = tmp / f"{side}-{model}-{threads}-{gpvar_nodes}.json"
    cmd = [sys.executable, __file__, "--worker", side, "--model", model, "--threads",
           str(threads), "--epochs", str(epochs), "--hidden", str(args.hidden), "--gcn-layers",
           str(args.gcn_layers), "--batch-size", str(args.batch_size), "--lr", str(args.lr),
           "--seed", str(args.seed), "--data-root", str(args.data_root), "--result", str(out),
           "--gpvar-nodes", str(gpvar_nodes), "--scaling-steps", str(args.scaling_steps),
           "--mean-degree", str(args.mean_degree), "--no-record"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    if not memory_limit_mb:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    else:
        returncode, stdout, stderr = _run_capped(cmd, env, memory_limit_mb, tmp)
    if returncode != 0 or not out.is_file():
        raise WorkerFailed(f"{side} {model} worker failed (exit {returncode}):\n"
                           f"{stdout[-2000:]}\n{stderr[-4000:]}", returncode)
    d = json.loads(out.read_text())
    if side.startswith("profile"):
        return d
    run = Run(d["label"], d["n_params"], d["epoch_seconds"], d["epoch_cpu_seconds"],
              d["steps_per_epoch"], d["metrics"])
    run.peak_rss_mb, run.test_y, run.split = d["peak_rss_mb"], d["test_y"], d["split"]
    run.threads = threads
    print(f"{run.label}, {threads} thread(s): {run.epoch_median:.2f} s/epoch, "
          f"MAE@60 {run.metrics['mae@12']:.3f}, peak {run.peak_rss_mb:.0f} MB", flush=True)
    return {"run": run, "weights": out.with_suffix(".pt")}


def tsl_module(kind: str, args: argparse.Namespace, weights: Path):
    cls, kwargs = tsl_model(kind, args)
    model = cls(**kwargs)
    model.load_state_dict(torch.load(weights, weights_only=True))
    return model


def pair_checks(ours: Run, tsl: Run) -> None:
    if ours.n_params != tsl.n_params:
        raise RuntimeError(f"parameter counts differ: sciml {ours.n_params}, tsl {tsl.n_params}")
    a, b = ours.test_y, tsl.test_y
    if a[2] != b[2] or abs(a[0] - b[0]) > 1e-6 * abs(a[0]) or abs(a[1] - b[1]) > 1e-6 * a[1]:
        raise RuntimeError(f"the test windows of sciml and tsl differ: {a} vs {b}")


def verdicts(pairs: list[tuple[Run, Run]], dcrnn: list[tuple[Run, Run]], graph: list[Run],
             baselines: dict[str, Run]) -> list[str]:
    lines = []
    for tag, target, rows in (("time-then-space", TARGETS["time_ratio"], pairs),
                              ("DCRNN", TARGETS["dcrnn_time_ratio"], dcrnn)):
        for ours, tsl in rows:
            th = ours.threads
            ratio = ours.epoch_median / tsl.epoch_median
            mem = ours.peak_rss_mb / tsl.peak_rss_mb
            lines.append(
                f"- {tag}, {th} thread(s): epoch {ours.epoch_median:.2f} s vs tsl "
                f"{tsl.epoch_median:.2f} s, ratio {ratio:.2f} (target <= {target}): "
                f"{'met' if ratio <= target else 'MISSED'}; CPU time ratio "
                f"{ours.cpu_median / tsl.cpu_median:.2f}; peak memory "
                f"{ours.peak_rss_mb:.0f} vs {tsl.peak_rss_mb:.0f} MB, ratio {mem:.2f} "
                f"(target <= 1): {'met' if mem <= 1 else 'MISSED'}")
    if pairs:
        ours, tsl = pairs[0]
        for k, minutes in zip(STEPS, (15, 30, 60), strict=True):
            a, b = ours.metrics[f"mae@{k}"], tsl.metrics[f"mae@{k}"]
            ok = a <= b * (1 + TARGETS["mae_slack"])
            lines.append(f"- test MAE at {minutes} min: sciml {a:.3f} vs tsl {b:.3f} mph "
                         f"(ratio {a / b:.3f}, target <= {1 + TARGETS['mae_slack']:.2f}): "
                         f"{'met' if ok else 'MISSED'}")
    for ours, tsl in dcrnn[:1]:
        a, b = ours.metrics["mae@12"], tsl.metrics["mae@12"]
        lines.append(f"- DCRNN test MAE at 60 min after {len(ours.epoch_seconds)} epochs: sciml "
                     f"{a:.3f} vs tsl {b:.3f} mph (ratio {a / b:.3f}; no target at this budget)")
    if baselines and graph:
        best = min(graph, key=lambda r: r.metrics["mae@12"])
        for name, base in baselines.items():
            a, b = best.metrics["mae@12"], base.metrics["mae@12"]
            lines.append(f"- best graph model ({best.label}) vs {name} at 60 min: MAE {a:.3f} vs "
                         f"{b:.3f} mph: {'beats it' if a < b else 'DOES NOT beat it'}")
    return lines


def comparisons(pairs, dcrnn, graph, baselines, args: argparse.Namespace) -> list[dict]:
    """The page's rows: the targets of issues 2 and 24, as :func:`verdicts` states them."""
    out = []
    setting = f"LOS, {args.epochs} epochs, hidden {args.hidden}"
    for tag, rows, target, epochs in (("", pairs, TARGETS["time_ratio"], args.epochs),
                                      ("dcrnn_", dcrnn, TARGETS["dcrnn_time_ratio"],
                                       args.dcrnn_epochs)):
        for ours, tsl in rows:
            th = ours.threads
            model = "DCRNN (hidden 64, 2 layers), " if tag else ""
            where = (f"LOS, {epochs} epochs, {th} thread(s)"
                     + ("" if tag else f", hidden {args.hidden}"))
            out.append(_record.comparison(
                f"forecast_vs_tsl.{tag}epoch_time_{th}t",
                f"{model}seconds per training epoch, sciml / tsl", ours.epoch_median,
                tsl.epoch_median, unit="s", anchor_name="tsl", target=("ratio", "<=", target),
                setting=where))
            out.append(_record.comparison(
                f"forecast_vs_tsl.{tag}peak_rss_{th}t",
                f"{model}peak resident memory of the training process, sciml / tsl",
                ours.peak_rss_mb, tsl.peak_rss_mb, unit="MB", anchor_name="tsl",
                target=("ratio", "<=", 1.0), setting=where))
    if pairs:
        ours, tsl = pairs[0]
        where = f"{setting}, {ours.threads} thread(s)"
        for k, minutes in zip(STEPS, (15, 30, 60), strict=True):
            out.append(_record.comparison(
                f"forecast_vs_tsl.mae_{minutes}min",
                f"test MAE at {minutes} min (mph), sciml / tsl",
                ours.metrics[f"mae@{k}"], tsl.metrics[f"mae@{k}"], unit="mph", anchor_name="tsl",
                target=("ratio", "<=", 1 + TARGETS["mae_slack"]), setting=where))
    if baselines and graph:
        best = min(graph, key=lambda r: r.metrics["mae@12"])
        for name, key in (("persistence", "persistence"), ("node_gru", "node-wise GRU")):
            out.append(_record.comparison(
                f"forecast_vs_tsl.best_vs_{name}",
                f"best graph model vs {key}, MAE at 60 min (mph)", best.metrics["mae@12"],
                baselines[name].metrics["mae@12"], unit="mph", anchor_name=key,
                target=("ratio", "<", 1.0), setting=f"{setting}; best: {best.label}"))
    return out


def markdown(runs: list[Run], lines: list[str], notes: list[str]) -> str:
    out = ["- environment: `.venv-tsl`", *notes,
           "- s/epoch: median over epochs of the training batches only (data loading, forward, "
           "backward, clipping, Adam step); validation excluded on both sides. CPU s/epoch: "
           "the process's CPU time over the same span (with 2 threads it also counts OpenMP "
           "spin-waiting). Peak MB: the training process's VmHWM (imports, data and training).",
           "- metrics: test set after the last epoch, masked, in mph (MAPE in %), computed by the "
           "same function on both sides' predictions; 15/30/60 min = steps 3/6/12.", "",
           *table(runs), "", *lines, ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    run = _record.start("forecast_vs_tsl", args, quick=args.quick, argv=argv)
    load0 = os.getloadavg()
    series, prep, n_val, n_test = load_data(args)
    pairs: list[tuple[Run, Run]] = []
    dcrnn: list[tuple[Run, Run]] = []
    runs: list[Run] = []
    graph: list[Run] = []
    baselines: dict[str, Run] = {}
    checks: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for part, threads_list, epochs, out in (("tts", args.threads, args.epochs, pairs),
                                                ("dcrnn", args.dcrnn_threads,
                                                 args.dcrnn_epochs, dcrnn)):
            if part not in args.parts:
                continue
            for threads in threads_list:
                ours = run_worker("sciml", part, threads, epochs, args, tmp)["run"]
                theirs = run_worker("tsl", part, threads, epochs, args, tmp)
                tsl = theirs["run"]
                pair_checks(ours, tsl)
                if not out:  # the same function, once per model, with tsl's trained weights
                    check = check_same_dcrnn if part == "dcrnn" else check_same_function
                    diff = check(tsl_module(part, args, theirs["weights"]), prep, args)
                    if diff > 1e-9:
                        raise RuntimeError(f"{part}: with tsl's weights our model's output "
                                           f"differs by {diff:.3g}")
                    checks.append(f"{part}: {ours.n_params} parameters on both sides; tsl's "
                                  f"trained weights in ours give outputs within {diff:.1g} "
                                  "(float64)")
                out.append((ours, tsl))
                for r in (ours, tsl):
                    r.label = f"{r.label}, {threads} thread(s)"
                runs += [ours, tsl]
        profiles = []
        if args.profile:
            for part in ("tts", "dcrnn"):
                for side in ("profile-sciml", "profile-tsl"):
                    profiles.append(run_worker(side, part, args.threads[0], 1, args, tmp)
                                    ["profile"])
        if pairs:
            graph.append(pairs[0][0])
        if args.baselines and "tts" in args.parts:
            th, ep = args.threads[0], args.epochs
            default = run_worker("sciml", "default", th, ep, args, tmp)["run"]
            for name in ("persistence", "node_gru"):
                baselines[name] = run_worker("sciml", name, th, ep, args, tmp)["run"]
            runs += [default, *baselines.values()]
            graph.append(default)
        scaling = scaling_part(args, tmp) if "scaling" in args.parts else []
    load1 = os.getloadavg()
    split = pairs[0][1].split if pairs else (dcrnn[0][1].split if dcrnn else ["-"] * 3)
    notes = [
        f"- data: LOS {series.n_steps} steps x {series.n_nodes} sensors, windows 12 -> 12; "
        f"sciml train/val/test {len(prep.train)}/{len(prep.val)}/{n_test}, tsl "
        f"{'/'.join(map(str, split))}: same test windows (checked); tsl's TemporalSplitter "
        f"(given the same counts, {n_val} val / {n_test} test) leaves a gap of 12 windows "
        f"before val and test where ours leaves {WINDOW + HORIZON - 1}, so tsl trains on 11 "
        "more windows; tsl drops the last short training batch, we keep it.",
        *[f"- {c}" for c in checks],
        f"- time-then-space: hidden {args.hidden}, 1 GRU layer, {args.gcn_layers} GraphConv "
        f"layers, MLP read-out; DCRNN: {DCRNN}, tsl's DCRNNModel on a SparseTensor adjacency, "
        "ours with decoder mlp.",
        f"- training: Adam lr {args.lr}, batch {args.batch_size}, grad clip {GRAD_CLIP}, masked "
        f"MAE in mph, seed {args.seed}; each training in its own process, sciml then tsl at each "
        "thread count; tsl: Lightning without logger, checkpoints, progress bar or sanity "
        "check; sciml: Trainer without run folder (as a user runs it, with the engine's "
        "allocator setting).",
        f"- load average (1 min) at start {load0[0]:.2f}, at end {load1[0]:.2f}.",
    ]
    lines = verdicts(pairs, dcrnn, graph, baselines)
    print("\n".join(lines))
    los = bool(set(args.parts) - {"scaling"})
    text = markdown(runs, lines, notes) if los else "- environment: `.venv-tsl`\n"
    if profiles:
        text += ("\nTop operators of one training step (3 steps profiled after 2 warm-up steps, "
                 "one batch of 64 windows; tsl's model in a plain torch loop):\n\n"
                 + "\n".join(profiles))
    comps, figures = comparisons(pairs, dcrnn, graph, baselines, args), []
    if scaling:
        text += "\n" + scaling_markdown(scaling, args)
        more, figures = scaling_records(scaling, args)
        comps += more
    title = (f"forecasting: sciml vs tsl on LOS ({args.epochs} epochs; DCRNN "
             f"{args.dcrnn_epochs})" if los else
             "forecasting: sciml vs tsl, scaling with the number of nodes (GPVAR)")
    run.record(title, text, comps, figures)
    return 0


# ----------------------------------------------------------------------------------- scaling
def scaling_part(args: argparse.Namespace, tmp: Path) -> list[dict]:
    """Each size of ``--scaling-nodes``: the time-then-space model (tsl's architecture) on a
    GPVAR graph of that many nodes, each side in its own process at 1 thread; a side that
    fails (e.g. stopped above ``--memory-limit-mb``) is noted and not run at larger sizes."""
    rows, stopped = [], {}
    for n in args.scaling_nodes:
        row: dict[str, Any] = {"nodes": n}
        for side in ("sciml", "tsl"):
            if side in stopped:
                row[side] = None
                row[f"{side}_error"] = f"not run (failed at {stopped[side]} nodes)"
                continue
            try:
                res = run_worker(side, "tts", 1, args.scaling_epochs, args, tmp, gpvar_nodes=n,
                                 memory_limit_mb=args.memory_limit_mb)
            except WorkerFailed as err:
                last = str(err).strip().splitlines()[-1]
                row[side] = None
                row[f"{side}_error"] = (last if last.startswith("stopped:") else
                                        f"exit {err.returncode}: {last}")
                stopped[side] = n
                print(f"{side} at {n} nodes: {row[f'{side}_error']}", flush=True)
                continue
            r = res["run"]
            row[side] = {"epoch_s": r.epoch_seconds[-1], "peak_mb": r.peak_rss_mb,
                         "params": r.n_params, "windows": r.split[0],
                         "steps_per_epoch": r.steps_per_epoch}
        ours, theirs = row["sciml"], row["tsl"]
        if ours and theirs and ours["params"] != theirs["params"]:
            raise RuntimeError(f"{n} nodes: parameter counts differ ({ours['params']} vs "
                               f"{theirs['params']})")
        rows.append(row)
    return rows


def scaling_markdown(rows: list[dict], args: argparse.Namespace) -> str:
    def cell(side: dict | None, key: str, fmt: str) -> str:
        return "–" if side is None else format(side[key], fmt)

    lines = [f"Scaling: time-then-space (tsl's architecture, hidden {args.hidden}) on generated "
             f"GPVAR series ({args.scaling_steps} steps, random geometric graphs of expected "
             f"degree {args.mean_degree:g}: sciml.solvers.gpvar with mean_degree), 1 thread per "
             f"side, batch {args.batch_size}; the last of {args.scaling_epochs} epochs timed "
             "(training batches only); peak MB: the training process's VmHWM. µs per node-window: "
             "epoch time / (nodes × training windows).", "",
             "| nodes | sciml s/epoch | tsl s/epoch | ratio | sciml peak MB | tsl peak MB | "
             "sciml µs per node-window | tsl µs per node-window | notes |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        ours, theirs, n = row["sciml"], row["tsl"], row["nodes"]
        ratio = f"{ours['epoch_s'] / theirs['epoch_s']:.2f}" if ours and theirs else "–"

        def per(side: dict | None, n: int = n) -> str:
            if side is None:
                return "–"
            return f"{side['epoch_s'] / (n * side['windows']) * 1e6:.2f}"

        notes = "; ".join(f"{k[:-6]}: {v}" for k, v in row.items() if k.endswith("_error"))
        lines.append(f"| {n} | {cell(ours, 'epoch_s', '.2f')} | {cell(theirs, 'epoch_s', '.2f')}"
                     f" | {ratio} | {cell(ours, 'peak_mb', '.0f')} | "
                     f"{cell(theirs, 'peak_mb', '.0f')} | {per(ours)} | {per(theirs)} | "
                     f"{notes} |")
    return "\n".join(lines) + "\n"


def scaling_records(rows: list[dict], args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """The page's rows (the largest size both sides finished) and its two figures."""
    both = [r for r in rows if r["sciml"] and r["tsl"]]
    comps = []
    if both:
        r = both[-1]
        where = (f"GPVAR {r['nodes']} nodes (the largest both finished), {args.scaling_steps} "
                 f"steps, degree {args.mean_degree:g}, 1 thread")
        comps.append(_record.comparison(
            "forecast_vs_tsl.scaling.epoch_time_largest",
            "time-then-space on the largest GPVAR graph both fit: seconds per epoch, sciml / tsl",
            r["sciml"]["epoch_s"], r["tsl"]["epoch_s"], unit="s", anchor_name="tsl",
            target=("ratio", "<=", TARGETS["time_ratio"]), setting=where))
        comps.append(_record.comparison(
            "forecast_vs_tsl.scaling.peak_rss_largest",
            "time-then-space on the largest GPVAR graph both fit: peak memory, sciml / tsl",
            r["sciml"]["peak_mb"], r["tsl"]["peak_mb"], unit="MB", anchor_name="tsl",
            target=("ratio", "<=", 1.0), setting=where))
    nodes = [r["nodes"] for r in rows]

    def series(key: str) -> dict:
        return {side: (nodes, [r[side][key] if r[side] else None for r in rows])
                for side in ("sciml", "tsl")}

    note = (f"GPVAR, {args.scaling_steps} steps, expected degree {args.mean_degree:g}, 1 thread "
            "per side; a missing point: that side did not finish (see the log)")
    figures = [
        _record.figure("forecast_vs_tsl.scaling_time", "Time-then-space: seconds per epoch",
                       "nodes", "seconds per epoch", series("epoch_s"), note=note),
        _record.figure("forecast_vs_tsl.scaling_memory", "Time-then-space: peak memory",
                       "nodes", "peak resident memory (MB)", series("peak_mb"), note=note)]
    return comps, figures


if __name__ == "__main__":
    sys.exit(main())
