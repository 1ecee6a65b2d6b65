"""The molecular job: recipe → molecule graphs, statistics, equivariant model → run folder.

``objective.kind: energy_forces`` trains :class:`EnergyForceTask` (rMD17, MD17, the user's npz,
XYZ or ASE database files with energies and forces), or :class:`EnergyTask` where the file has
energies but no forces (the force weight is then 0, and the report says so); ``property`` trains
:class:`PropertyTask` (QM9 targets). The report gives test errors in meV and meV/Å (energies and
forces) or in the target's unit, and names the units the data were read in and which rule gave
them (``data_units``: stated in the file, given in the recipe, or the format's convention). The
run folder's data description holds the species, the units and the training statistics, so that
``eval`` and ``predict`` build the model without the training molecules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import write_hdf5
from sciml.datasets import (
    ENERGY_UNITS_IN_MEV,
    MolecularData,
    MoleculeDataset,
    Molecules,
    read_molecule_file,
)
from sciml.errors import ConfigError, DataError
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, build_data, input_file
from sciml.tasks.molecular._config import (
    MolecularDataConfig,
    MolecularEvalConfig,
    MolecularObjectiveConfig,
)
from sciml.tasks.molecular._task import (
    EnergyForceTask,
    EnergyTask,
    PropertyTask,
    energy_force_statistics,
    energy_statistics,
)
from sciml.train import TrainerConfig

__all__ = ["MolecularJob", "collate_molecules", "molecules_to_dict", "molecules_from_dict",
           "read_molecules"]


def collate_molecules(graphs: list) -> Any:
    """Batch molecule graphs with PyG (by their declared schema)."""
    from torch_geometric.data import Batch

    return Batch.from_data_list(graphs)


def molecules_to_dict(ds: MoleculeDataset) -> dict[str, Any]:
    """The molecules of a split as tensors (concatenated atoms with per-molecule counts)."""
    m, idx = ds.molecules, [int(i) for i in ds.indices]
    counts = [len(m.z[i]) for i in idx]
    out: dict[str, Any] = {
        "source": m.source, "energy_unit": m.energy_unit,
        "counts": torch.tensor(counts, dtype=torch.long),
        "z": torch.from_numpy(np.concatenate([m.z[i] for i in idx]).astype(np.int64)),
        "pos": torch.from_numpy(np.concatenate([m.pos[i] for i in idx]).astype(np.float64)),
        "energy": None if m.energy is None else torch.from_numpy(
            np.asarray(m.energy, np.float64)[idx]),
        "forces": None if m.forces is None else torch.from_numpy(
            np.concatenate([m.forces[i] for i in idx]).astype(np.float64)),
        "cell": None, "y": None if ds.y is None else torch.from_numpy(ds.y[idx]),
    }
    if m.cell is not None and any(m.cell[i] is not None for i in idx):
        out["cell"] = torch.from_numpy(np.stack([np.zeros((3, 3)) if m.cell[i] is None
                                                 else m.cell[i] for i in idx]))
    return out


def molecules_from_dict(d: dict[str, Any]) -> MoleculeDataset:
    """The inverse of :func:`molecules_to_dict`."""
    split = np.cumsum(d["counts"].numpy())[:-1]

    def pieces(t: torch.Tensor | None) -> list[np.ndarray] | None:
        return None if t is None else list(np.split(t.numpy(), split))

    mols = Molecules(source=d["source"], z=pieces(d["z"]), pos=pieces(d["pos"]),
                     energy=None if d["energy"] is None else d["energy"].numpy(),
                     forces=pieces(d["forces"]),
                     cell=None if d["cell"] is None else list(d["cell"].numpy()),
                     energy_unit=d["energy_unit"])
    y = None if d.get("y") is None else d["y"].numpy()
    return MoleculeDataset(mols, np.arange(len(mols)), y)


def read_molecules(path: Path) -> Molecules:
    """Molecules from an rMD17 / sGDML npz, (extended) XYZ or an ASE database (``.db`` /
    ``.json``), the reader picked by the suffix (:func:`sciml.datasets.read_molecule_file`)."""
    input_file(path, "a molecule file")
    return read_molecule_file(path)


@JOBS.register("molecular", help="molecules: energies and forces (rMD17) or properties (QM9)")
class MolecularJob(AbstractJob):
    """Molecular recipes: ``data`` (MolecularDataConfig), ``model`` (name + config),
    ``objective`` (MolecularObjectiveConfig), ``train`` (TrainerConfig), ``eval``."""

    sections = ("data", "model", "objective", "train", "eval")
    configs = {"data": ("data_cfg", MolecularDataConfig),
               "objective": ("objective", MolecularObjectiveConfig),
               "eval": ("eval_cfg", MolecularEvalConfig), "train": ("train_cfg", TrainerConfig)}
    data_kind = "a MolecularData (sciml.datasets.MolecularData)"
    collate_fn = staticmethod(collate_molecules)
    data_cfg: MolecularDataConfig
    objective: MolecularObjectiveConfig
    eval_cfg: MolecularEvalConfig
    train_cfg: TrainerConfig

    # ---------------------------------------------------------------- data
    def load_data(self) -> MolecularData:
        return self.check_data(build_data(self.data_cfg.name, self.data_cfg.options,
                                          MolecularData, "a molecular data set"))

    def check_data(self, data: Any) -> MolecularData:
        if not isinstance(data, MolecularData):
            raise TypeError(f"a molecular recipe takes {self.data_kind} as data, got "
                            f"{type(data).__name__}")
        if self.objective.kind == "property" and not data.targets:
            raise ConfigError(f"objective.kind=property needs a data set with targets (qm9); "
                              f"{data.name!r} has energies (use kind: energy_forces)")
        if self.objective.kind == "energy_forces" and data.train.molecules.energy is None:
            raise ConfigError(f"objective.kind=energy_forces needs energies; "
                              f"{data.source or data.name} has none (data.options.energy_key "
                              "names them in the file)")
        return data

    def describe(self, data: MolecularData) -> dict[str, Any]:
        mols = data.train.molecules
        spec: dict[str, Any] = {"name": data.name, "source": data.source,
                                "species": [int(z) for z in data.species],
                                "energy_unit": data.energy_unit,
                                "n_train": len(data.train), "n_val": len(data.val),
                                "n_test": len(data.test)}
        if self.objective.kind == "property":
            y = data.train.y[data.train.indices]
            spec.update(mean=float(y.mean()), std=float(y.std()), target=data.targets[0],
                        target_unit=data.target_units[0],
                        data_units={"target": data.target_units[0], "positions": "Å"})
        else:
            units = {**mols.units(), "energy": data.energy_unit}
            if mols.forces is None:
                per_atom, scale = energy_statistics(data.train)
                spec.update(forces=False, energy_scale=float(scale))
            else:
                per_atom, scale = energy_force_statistics(data.train)
                spec.update(forces=True, force_scale=float(scale))
            spec.update(energy_per_atom=float(per_atom), to_mev=float(data.energy_to_mev),
                        data_units={k: v for k, v in units.items() if v is not None},
                        read_from=dict(mols.read_from))
        return spec

    def splits(self, data: MolecularData) -> tuple[Any, Any]:
        return data.train, (data.val if len(data.val) else None)

    def eval_data(self, data: MolecularData) -> dict[str, Any]:
        return molecules_to_dict(data.test)

    # ---------------------------------------------------------------- task
    def build_task(self, spec: dict[str, Any]) -> EnergyForceTask | PropertyTask:
        model = MODELS.build(self.model_name, self.model_values, where="model",
                             in_channels=len(spec["species"]), out_channels=1)
        if self.objective.kind == "property":
            return PropertyTask(model, spec["species"], spec["mean"], spec["std"],
                                to_mev=ENERGY_UNITS_IN_MEV.get(spec["target_unit"]))
        if not spec.get("forces", True):
            return EnergyTask(model, spec["species"], spec["energy_per_atom"],
                              spec["energy_scale"], to_mev=spec["to_mev"],
                              eval_rotations=self.eval_cfg.eval_rotations,
                              seed=self.train_cfg.seed)
        return EnergyForceTask(model, spec["species"], spec["energy_per_atom"],
                               spec["force_scale"], energy_weight=self.objective.energy_weight,
                               force_weight=self.objective.force_weight, to_mev=spec["to_mev"],
                               eval_rotations=self.eval_cfg.eval_rotations,
                               seed=self.train_cfg.seed)

    # ---------------------------------------------------------------- reports
    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Model, data, the file read, its units (and where they came from) and, for data
        without forces, the note that training used energies alone."""
        out = {"model": self.model_name, "data": spec["name"], "source": spec["source"]}
        if "data_units" in spec:
            out["data_units"] = spec["data_units"]
        if spec.get("read_from"):
            out["read_from"] = spec["read_from"]
        if spec.get("forces") is False:
            out["note"] = (f"energy-only: {spec['source'] or spec['name']} has no forces, so "
                           "the force term is off (force weight 0, objective.force_weight "
                           "unused) and no force error is reported; predicted forces are "
                           "-dE/dpos of the learnt energy, not fitted to reference forces")
        return out

    def _test_set(self, eval_data: dict[str, Any]) -> MoleculeDataset:
        """The test molecules of ``eval_data``, rebuilt once for the report and the plot."""
        cached = getattr(self, "_test", None)
        if cached is None or cached[0] is not eval_data:
            cached = self._test = (eval_data, molecules_from_dict(eval_data))
        return cached[1]

    def test_samples(self, eval_data: dict[str, Any], spec: dict[str, Any]
                     ) -> tuple[MoleculeDataset, Any]:
        return self._test_set(eval_data), collate_molecules

    def test_report(self, task: Any, eval_data: dict[str, Any], spec: dict[str, Any],
                    trainer: Any) -> dict[str, Any]:
        test = self._test_set(eval_data)
        metrics = trainer.evaluate(task, test, collate_fn=collate_molecules, prefix="test")
        units = ({"test/energy_mae": "meV", "test/force_mae": "meV/Å"}
                 if self.objective.kind == "energy_forces"
                 else {"test/mae": spec.get("target_unit"), "test/mae_mev": "meV"})
        return {"test": metrics, "units": {k: v for k, v in units.items() if k in metrics},
                "eval_rotations": self.eval_cfg.eval_rotations}

    def fit_report(self, result: Any, task: Any, data: MolecularData) -> dict[str, Any]:
        extra = {**super().fit_report(result, task, data), "n_train": len(data.train),
                 "n_val": len(data.val), "n_test": len(data.test)}
        if result.history:
            extra["train_loss_first_epoch"] = result.history[0].get("train/loss")
            extra["train_loss_last_epoch"] = result.history[-1].get("train/loss")
        return extra

    def plots(self, run_dir: Path, task: Any, eval_data: dict[str, Any],
              spec: dict[str, Any]) -> None:
        from sciml.tasks.molecular._plots import parity_pairs, plot_parity

        test = self._test_set(eval_data)
        if len(test):
            plot_parity(parity_pairs(self, task, test, spec), run_dir / "parity.png")

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> Molecules:
        return read_molecules(Path(path))

    def predict(self, task: Any, spec: dict[str, Any], inputs: Any) -> dict[str, np.ndarray]:
        """Molecules (:class:`~sciml.datasets.Molecules` or a ``MoleculeDataset``) → ``energy``
        (m,) and concatenated ``forces`` (energies and forces in the training data's units),
        or ``y`` for property tasks."""
        ds = inputs if isinstance(inputs, MoleculeDataset) else MoleculeDataset(
            inputs, np.arange(len(inputs)))
        unknown = sorted({int(z) for i in ds.indices for z in ds.molecules.z[int(i)]}
                         - set(spec["species"]))
        if unknown:
            raise DataError(f"{ds.molecules.source}: atomic numbers {unknown} were not in the "
                            f"training data (species {spec['species']})")
        task.eval()
        outputs: dict[str, list] = {}
        for start in range(0, len(ds), 32):
            batch = collate_molecules([ds[i] for i in range(start, min(start + 32, len(ds)))])
            pred = task.predict(batch)
            for k, v in (pred.items() if isinstance(pred, dict) else [("y", pred)]):
                outputs.setdefault(k, []).append(v.detach().numpy())
        return {k: np.concatenate(v) for k, v in outputs.items()}

    def write_prediction(self, out_dir: Path, inputs: Molecules, outputs: dict[str, np.ndarray],
                         spec: dict[str, Any], source: str) -> list[Path]:
        arrays = dict(outputs)
        arrays.update(z=np.concatenate(inputs.z), pos=np.concatenate(inputs.pos),
                      counts=np.array([len(z) for z in inputs.z]))
        out = Path(out_dir) / "prediction.h5"
        write_hdf5(out, arrays, params={"input": source, "energy_unit": spec["energy_unit"],
                                        "forces_unit": f"{spec['energy_unit']}/Å",
                                        "positions_unit": "Å"})
        return [out]
