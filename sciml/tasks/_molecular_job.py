"""The molecular job: recipe → molecule graphs, statistics, equivariant model, Trainer → run folder.

``objective.kind: energy_forces`` trains :class:`EnergyForceTask` (rMD17, MD17, XYZ / ASE files
with energies and forces); ``property`` trains :class:`PropertyTask` (QM9 targets). The report
gives test errors in meV and meV/Å (energies and forces) or in the target's unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import write_hdf5
from sciml.datasets import MolecularData, MoleculeDataset
from sciml.datasets._molecular_io import ENERGY_UNITS_IN_MEV, Molecules
from sciml.errors import ConfigError, DataError
from sciml.registry import MODELS, TASKS
from sciml.tasks._job import AbstractJob, build_data, write_json, write_yaml
from sciml.tasks._molecular import EnergyForceTask, PropertyTask, energy_force_statistics
from sciml.train import Trainer, TrainerConfig
from sciml.train._distributed import barrier, dist_env

__all__ = ["MolecularJob", "MolecularDataConfig", "MolecularObjectiveConfig",
           "MolecularEvalConfig", "collate_molecules"]

_KINDS = ("energy_forces", "property")


@dataclass(frozen=True)
class MolecularDataConfig:
    """Which molecular data set (its options are checked against the data set's own config)."""

    name: str = "rmd17"
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MolecularObjectiveConfig:
    """``kind``: energy_forces | property; ``w_E``, ``w_F`` of the energy-force loss."""

    kind: str = "energy_forces"
    energy_weight: float = 1.0 / 500.0
    force_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}, got {self.kind!r}")
        if self.energy_weight < 0 or self.force_weight < 0:
            raise ValueError("energy_weight and force_weight must be >= 0, got "
                             f"{self.energy_weight}, {self.force_weight}")


@dataclass(frozen=True)
class MolecularEvalConfig:
    """``eval_rotations``: average test predictions over this many random rotations."""

    eval_rotations: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.eval_rotations, bool) or self.eval_rotations < 0:
            raise ValueError(f"eval_rotations must be an integer >= 0, got {self.eval_rotations}")


def collate_molecules(graphs: list) -> Any:
    """Batch molecule graphs with PyG (by their declared schema)."""
    from torch_geometric.data import Batch

    return Batch.from_data_list(graphs)


@TASKS.register("molecular", help="molecules: energies and forces (rMD17) or properties (QM9)")
class MolecularJob(AbstractJob):
    """Molecular recipes: ``data`` (MolecularDataConfig), ``model`` (name + config),
    ``objective`` (MolecularObjectiveConfig), ``train`` (TrainerConfig), ``eval``."""

    sections = ("data", "model", "objective", "train", "eval")
    configs = {"data": ("data_cfg", MolecularDataConfig),
               "objective": ("objective", MolecularObjectiveConfig),
               "eval": ("eval_cfg", MolecularEvalConfig), "train": ("train_cfg", TrainerConfig)}
    registered_data = True
    data_cfg: MolecularDataConfig
    objective: MolecularObjectiveConfig
    eval_cfg: MolecularEvalConfig
    train_cfg: TrainerConfig

    # ---------------------------------------------------------------- building
    def load_data(self) -> MolecularData:
        data = build_data(self.data_cfg.name, self.data_cfg.options, MolecularData,
                          "a molecular data set")
        if self.objective.kind == "property" and not data.targets:
            raise ConfigError(f"objective.kind=property needs a data set with targets (qm9); "
                              f"{self.data_cfg.name!r} has energies and forces")
        if self.objective.kind == "energy_forces" and data.train.molecules.forces is None:
            raise ConfigError(f"objective.kind=energy_forces needs forces; {data.source} has "
                              "none (use kind: property)")
        return data

    def build_task(self, data: MolecularData) -> EnergyForceTask | PropertyTask:
        model = MODELS.build(self.model_name, self.model_values, where="model",
                             in_channels=len(data.species), out_channels=1)
        if self.objective.kind == "property":
            y = data.train.y[data.train.indices]
            unit = data.target_units[0]
            return PropertyTask(model, data.species, float(y.mean()), float(y.std()),
                                to_mev=ENERGY_UNITS_IN_MEV.get(unit))
        per_atom, scale = energy_force_statistics(data.train)
        return EnergyForceTask(model, data.species, per_atom, scale,
                               energy_weight=self.objective.energy_weight,
                               force_weight=self.objective.force_weight,
                               to_mev=data.energy_to_mev,
                               eval_rotations=self.eval_cfg.eval_rotations,
                               seed=self.train_cfg.seed)

    # ---------------------------------------------------------------- the three commands
    def fit(self, run_dir: Path, resume: bool = True, progress: bool = True) -> dict[str, Any]:
        run_dir = Path(run_dir)
        if dist_env().is_main:
            write_yaml(run_dir / "recipe.yaml", self.recipe)
        data = self.load_data()
        torch.manual_seed(self.train_cfg.seed)
        task = self.build_task(data)
        trainer = self._trainer(run_dir, progress)
        val = data.val if len(data.val) else None
        result = trainer.fit(task, data.train, val, collate_fn=collate_molecules, resume=resume)
        barrier(dist_env())
        history = result.history
        extra = {"epochs": result.epochs_run,
                 "parameters": sum(p.numel() for p in task.model.parameters()),
                 "n_train": len(data.train), "n_val": len(data.val), "n_test": len(data.test)}
        if history:
            extra["train_loss_first_epoch"] = history[0].get("train/loss")
            extra["train_loss_last_epoch"] = history[-1].get("train/loss")
        return self._evaluate(run_dir, data, task, trainer, extra)

    def _evaluate(self, run_dir: Path, data: MolecularData, task, trainer: Trainer,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
        self._load_best(run_dir, task)
        metrics = trainer.evaluate(task, data.test, collate_fn=collate_molecules, prefix="test")
        units = ({"test/energy_mae": "meV", "test/force_mae": "meV/Å"}
                 if self.objective.kind == "energy_forces"
                 else {"test/mae": data.target_units[0], "test/mae_mev": "meV"})
        report: dict[str, Any] = {"model": self.model_name, "data": data.name,
                                  "source": data.source, "test": metrics,
                                  "units": {k: v for k, v in units.items() if k in metrics},
                                  "eval_rotations": self.eval_cfg.eval_rotations}
        report.update(extra or {})
        if dist_env().is_main:
            write_json(run_dir / "report.json", report)
        return report

    def evaluate(self, run_dir: Path) -> dict[str, Any]:
        data = self.load_data()
        task = self.build_task(data)
        trainer = self._trainer()
        return self._evaluate(Path(run_dir), data, task, trainer)

    def predict(self, run_dir: Path, input_path: Path, output: Path | None) -> list[Path]:
        """Input: an rMD17 / sGDML npz, XYZ or ASE database; output ``prediction.h5`` with the
        predicted ``energy`` (m,) and concatenated ``forces`` / ``pos`` / ``z`` with ``counts``
        (energies and forces in the training data's units), or ``y`` for property tasks."""
        from sciml.datasets import read_ase_db, read_rmd17_npz, read_sgdml_npz, read_xyz

        run_dir, input_path = Path(run_dir), Path(input_path)
        data = self.load_data()
        task = self.build_task(data)
        self._load_best(run_dir, task)
        task.eval()
        if input_path.suffix == ".npz":
            try:
                mols: Molecules = read_rmd17_npz(input_path)
            except DataError:
                mols = read_sgdml_npz(input_path)
        elif input_path.suffix in (".db", ".json"):
            mols = read_ase_db(input_path)[0]
        else:
            mols = read_xyz(input_path)
        ds = MoleculeDataset(mols, np.arange(len(mols)))
        outputs: dict[str, list] = {}
        for start in range(0, len(ds), 32):
            batch = collate_molecules([ds[i] for i in range(start, min(start + 32, len(ds)))])
            pred = task.predict(batch)
            if isinstance(pred, dict):
                for k, v in pred.items():
                    outputs.setdefault(k, []).append(v.detach().numpy())
            else:
                outputs.setdefault("y", []).append(pred.detach().numpy())
        arrays = {k: np.concatenate(v) for k, v in outputs.items()}
        arrays.update(z=np.concatenate(mols.z), pos=np.concatenate(mols.pos),
                      counts=np.array([len(z) for z in mols.z]))
        out = (Path(output) if output is not None else run_dir / "predictions") / "prediction.h5"
        write_hdf5(out, arrays, params={"run": str(run_dir), "input": str(input_path),
                                        "energy_unit": data.energy_unit})
        return [out]
