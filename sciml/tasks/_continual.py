"""The loop of continual learning (``trainer.continual``) for any Trainer job.

Task ``k`` of ``trainer.continual.tasks`` is the recipe with that entry merged over its ``data``
section. Every task builds its own task object (its normalisation, graph, ...) around **one**
model: the recipe's model, or a :class:`sciml.nn.HyperModel` around it that generates its
weights per task. Task ``k`` trains for the recipe's budget in ``continual/task-<k>/`` of the
run folder (a Trainer folder of its own: checkpoints, metrics.csv), with the method's penalty
built from the weights task ``k − 1`` ended with; after it, every task learned so far is
evaluated on its own test data. A killed run resumes inside the task it was in: the tasks before
it are read back from their folders and the penalties rebuilt from their weights, which gives
the same penalty as the first time. The run's own checkpoint, report, plots and ``sciml
eval`` / ``predict`` are those of the last task (the hypernetwork generating its weights).
"""
from __future__ import annotations

import copy
from typing import Any

import torch

from sciml.errors import ConfigError

__all__ = ["fit_continual", "task_recipes", "wrap_model"]


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def task_recipes(recipe: dict[str, Any], tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One recipe per task: ``tasks[k]`` merged over the data section, without
    ``train.continual`` (each is a plain recipe)."""
    out = []
    for over in tasks:
        r = copy.deepcopy(recipe)
        r["data"] = _merge(r.get("data") or {}, over)
        train = dict(r.get("train") or {})
        train.pop("continual", None)
        r["train"] = train
        out.append(r)
    return out


def wrap_model(model: torch.nn.Module, cc: dict[str, Any], seed: int) -> torch.nn.Module:
    """The model a continual run trains: a :class:`sciml.nn.HyperModel` around ``model`` for
    ``method: hypernetwork``, ``model`` itself otherwise."""
    if cc["method"] != "hypernetwork":
        return model
    from sciml.nn import HyperModel

    return HyperModel(model, len(cc["tasks"]), seed=seed, **cc["hypernetwork"])


def _metric(job: Any, test: dict[str, float]) -> tuple[str, float]:
    name = getattr(job, "continual_metric", "test/loss")
    if name not in test:
        name = "test/loss" if "test/loss" in test else next(iter(test))
    return name, float(test[name])


def fit_continual(job: Any, run: Any, resume: bool, extend: bool) -> dict[str, Any]:
    """Train ``job``'s recipe over its ``trainer.continual`` tasks into ``run``; the report."""
    import dataclasses

    from sciml.data import atomic_write
    from sciml.runs import load_task_state
    from sciml.train import (
        EWCPenalty,
        OutputRegulariser,
        PenalisedTask,
        Trainer,
        barrier,
        dist_env,
        empirical_fisher,
        forgetting_summary,
    )

    cfg = job.trainer_config()
    cc = cfg.continual
    if extend:
        raise ConfigError("a continual run (trainer.continual) cannot be extended: each task's "
                          "budget is fixed by the order the tasks were learned in")
    env = dist_env()
    if env.data_parallel:
        raise ConfigError("trainer.continual runs in one process, not under torchrun")
    jobs = [type(job)(r) for r in task_recipes(job.recipe, cc["tasks"])]
    datas = [j.load_data() for j in jobs]
    specs = [j.describe(d) for j, d in zip(jobs, datas, strict=True)]
    if resume:
        run.check_spec(specs[-1])
    torch.manual_seed(job.seed)
    tasks = [j.build_task(s) for j, s in zip(jobs, specs, strict=True)]
    shapes = {n: tuple(p.shape) for n, p in tasks[0].model.named_parameters()}
    for k, t in enumerate(tasks[1:], 1):
        other = {n: tuple(p.shape) for n, p in t.model.named_parameters()}
        if other != shapes:
            diff = next((n for n in shapes if shapes[n] != other.get(n)), None) or next(
                n for n in other if n not in shapes)
            raise ConfigError(f"trainer.continual.tasks[{k}] needs a model of another shape "
                              f"than task 0 (parameter {diff}: {other.get(diff)} against "
                              f"{shapes.get(diff)}); one model must fit every task")
    model = wrap_model(tasks[0].model, cc, job.seed)
    for t in tasks:
        t.model = model
    trainer_cfg = dataclasses.replace(cfg, continual=None)
    eval_datas = [j.eval_data(d) for j, d in zip(jobs, datas, strict=True)]
    if env.is_main:
        run.claim(job.recipe, specs[-1], None)
    hyper = cc["method"] == "hypernetwork"
    matrix: list[list[float]] = []
    full: list[list[dict[str, float]]] = []
    metric = None
    results = []
    penalty = None
    try:
        for k, (j, t, d) in enumerate(zip(jobs, tasks, datas, strict=True)):
            if hyper:
                model.set_task(k)
            wrapped = PenalisedTask(t, penalty)
            trainer = Trainer(trainer_cfg, run_dir=run.path / "continual" / f"task-{k}")
            results.append(j.train(trainer, wrapped, d, resume=resume, extend=False))
            folder = run.path / "continual" / f"task-{k}" / "checkpoints"
            best = folder / "best.pt"
            load_task_state(best if best.is_file() else folder / "last.pt", wrapped)
            row, rows = [], []
            for i in range(k + 1):
                if hyper:
                    model.set_task(i)
                last_report = jobs[i].test_report(tasks[i], eval_datas[i], specs[i],
                                                  jobs[i].eval_trainer())
                test = last_report["test"]
                metric, value = _metric(job, test)
                row.append(value)
                rows.append(test)
            matrix.append(row)
            full.append(rows)
            if hyper:
                model.set_task(k)
            if k + 1 < len(tasks):
                penalty = _next_penalty(cc, model, t, j, d, penalty, OutputRegulariser,
                                        EWCPenalty, empirical_fisher, k)
    except BaseException:
        if env.is_main:
            run.release()
        raise
    barrier(env)
    task = tasks[-1]
    if env.is_main:
        run.checkpoint("last").parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(run.checkpoint("last")) as tmp:
            torch.save({"task_state": task.state_dict(), "continual": True}, tmp)
    # the last task's test report is the matrix's last entry (made with the same weights)
    report = {**job.head(specs[-1]), **last_report,
              **jobs[-1].fit_report(results[-1], task, datas[-1])}
    lower = not (metric or "").endswith(("accuracy", "acc", "auc", "ap"))
    report["continual"] = {
        "method": cc["method"], "tasks": cc["tasks"], "metric": metric,
        "matrix": matrix, **forgetting_summary(matrix, lower_is_better=lower),
        "note": ("matrix[t][j]: the metric on task j's test data after learning task t; "
                 "final: mean over the tasks after the last one; just_learned: mean of the "
                 "diagonal; forgetting: mean over all but the last task of how much worse it "
                 "became from just after it was learned to the end"),
        "test": full,
        **({"hypernetwork": {"kind": model.hnet.kind, "parameters": sum(
            p.numel() for p in model.hnet.parameters()), "generated": model.hnet.n_outputs}}
           if hyper else {}),
        **({"beta": cc["beta"]} if hyper else {}),
        **({"ewc_lambda": cc["ewc_lambda"]} if cc["method"] == "ewc" else {})}
    if env.is_main:
        job.plots(run.path, task, eval_datas[-1], specs[-1])
        from sciml.data import write_json

        write_json(run.path / "report.json", report)
    return report


def _next_penalty(cc: dict[str, Any], model: Any, task: Any, job: Any, data: Any, previous: Any,
                  regulariser: Any, ewc: Any, fisher_of: Any, k: int) -> Any:
    """The penalty of task ``k + 1`` from the weights task ``k`` ended with."""
    from sciml.train import move_to

    if cc["method"] == "finetune":
        return None
    if cc["method"] == "hypernetwork":
        with torch.no_grad():
            targets = torch.stack([model.weights(model.hnet.task_embeddings[i].detach())
                                   for i in range(k + 1)])
        return regulariser(model, cc["beta"], targets)
    train, _ = job.splits(data)
    collate = job.collate_fn or torch.utils.data.default_collate
    bs = job.trainer_config().batch_size
    device = next(model.parameters()).device
    batches = (move_to(collate([train[i] for i in range(s, min(s + bs, len(train)))]), device)
               for s in range(0, len(train), bs))
    fisher = fisher_of(task, batches)
    if previous is not None:
        fisher = {n: f + getattr(previous, f"fisher_{previous.names.index(n)}")
                  for n, f in fisher.items()}
    anchor = {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}
    return ewc(model, cc["ewc_lambda"], fisher, anchor)
