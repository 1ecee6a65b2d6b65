"""Molecular tasks: energies and forces (rMD17) and property regression (QM9) on molecule graphs.

Energies and forces follow PONITA's MD17 protocol (Bekkers et al., ICLR 2024) and the
energy-conserving force fields before it (Chmiela et al., Sci. Adv. 2017; Schütt et al., SchNet,
2017): the model predicts an energy ``E(pos)`` and the forces are ``F = -∂E/∂pos`` by automatic
differentiation, with ``create_graph=True`` while training so that the force loss trains the
parameters. Targets are standardised: ``(E - n_atoms·ē) / s`` and ``F / s`` with ``ē`` the mean
energy per atom and ``s`` the RMS force component of the training set (for one molecule the
per-atom shift equals the reference's mean-energy shift). The loss is
``w_E·MSE(E) + w_F·MSE(F)`` in these units (the reference's ``λ_F = 500`` is ``w_E = 1/500``,
``w_F = 1``). Metrics are mean absolute errors in meV and meV/Å; evaluation may average the
prediction over ``eval_rotations`` random rotations of each molecule (forces rotated back), as
the reference does for its orientation grid.

Data sets without forces (a QM9-style database of energies, an energy-only XYZ file) train
:class:`EnergyTask`: the same model and read-out with the force term dropped (``w_F = 0``), the
energy standardised by the spread of the training energies instead of the force scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from sciml.errors import DataError
from sciml.geometry import random_rotation
from sciml.kernels import scatter
from sciml.metrics import energy_mae_sum_count, force_mae_sum_count, mae_sum_count
from sciml.train import AbstractTask

__all__ = ["EnergyForceTask", "EnergyTask", "PropertyTask", "AtomTypeEncoder",
           "energy_force_statistics", "energy_statistics"]


class AtomTypeEncoder(nn.Module):
    """One-hot encoding of atomic numbers over a fixed list of species.

    Args:
        species: Atomic numbers of the vocabulary (e.g. ``(1, 6, 8)`` for aspirin).
    """

    def __init__(self, species: Sequence[int]) -> None:
        super().__init__()
        species = sorted({int(s) for s in species})
        if not species or species[0] < 1 or species[-1] > 118:
            raise ValueError(f"species must be atomic numbers in 1..118, got {species}")
        table = torch.full((119,), -1, dtype=torch.long)
        table[torch.tensor(species)] = torch.arange(len(species))
        self.register_buffer("table", table)
        self.species = tuple(species)

    @property
    def num_species(self) -> int:
        return len(self.species)

    def forward(self, z: Tensor) -> Tensor:
        """``(n,)`` atomic numbers -> ``(n, num_species)`` float one-hot."""
        idx = self.table[z.clamp(0, 118)]
        if (idx < 0).any() or (z > 118).any():
            bad = sorted({int(v) for v in z[(idx < 0) | (z > 118)]})
            raise DataError(f"atomic numbers {bad} are not among the species {self.species} "
                            "the model was built for")
        return nn.functional.one_hot(idx, self.num_species).float()


def energy_force_statistics(dataset: Any) -> tuple[float, float]:
    """``(mean energy per atom, RMS force component)`` over a data set of molecule graphs."""
    per_atom, sq, count = 0.0, 0.0, 0
    for i in range(len(dataset)):
        g = dataset[i]
        per_atom += float(g.energy.double().sum()) / g.z.numel()
        sq += float(g.forces.double().pow(2).sum())
        count += g.forces.numel()
    if len(dataset) == 0 or count == 0:
        raise DataError("cannot compute energy/force statistics of an empty training set")
    rms = (sq / count) ** 0.5
    return per_atom / len(dataset), rms if rms > 0 else 1.0


def energy_statistics(dataset: Any) -> tuple[float, float]:
    """``(mean energy per atom ē, RMS of E - n_atoms·ē)`` over a data set of molecule graphs:
    the shift and scale of :class:`EnergyTask` (1.0 where the energies leave no spread)."""
    per_atom, values = 0.0, []
    for i in range(len(dataset)):
        g = dataset[i]
        values.append((float(g.energy.double().sum()), g.z.numel()))
        per_atom += values[-1][0] / values[-1][1]
    if not values:
        raise DataError("cannot compute energy statistics of an empty training set")
    per_atom /= len(values)
    rms = (sum((e - n * per_atom) ** 2 for e, n in values) / len(values)) ** 0.5
    return per_atom, rms if rms > 0 else 1.0


def _num_atoms(batch: Any) -> Tensor:
    ones = torch.ones_like(batch.batch, dtype=torch.float64)
    return scatter(ones, batch.batch, 0, int(batch.num_graphs), "sum")


def _cell(batch: Any) -> Tensor | None:
    return batch.cell if "cell" in batch else None


class EnergyForceTask(AbstractTask):
    """Energy and force regression with ``F = -∂E/∂pos``.

    Args:
        model: ``model(pos, x, batch, cell=...) -> (energy (g, 1), _)`` (e.g. :class:`Ponita`
            with ``task_level="graph"``), in standardised units.
        species: Atomic numbers of the one-hot vocabulary.
        energy_per_atom: Mean training energy per atom (file units).
        force_scale: RMS force component of the training set (file units per Å).
        energy_weight, force_weight: ``w_E``, ``w_F`` of the loss.
        to_mev: Factor from the file's energy unit to meV.
        eval_rotations: Average evaluation predictions over this many random rotations (0: none).
        seed: Seed of the evaluation rotations (the same rotations at every evaluation).
    """

    def __init__(self, model: nn.Module, species: Sequence[int], energy_per_atom: float,
                 force_scale: float, energy_weight: float = 1.0 / 500.0,
                 force_weight: float = 1.0, to_mev: float = 1.0, eval_rotations: int = 0,
                 seed: int = 0) -> None:
        super().__init__(model)
        if force_scale <= 0:
            raise ValueError(f"force_scale must be > 0, got {force_scale}")
        if energy_weight < 0 or force_weight < 0 or energy_weight + force_weight == 0:
            raise ValueError(f"energy_weight and force_weight must be >= 0 and not both 0, got "
                             f"{energy_weight}, {force_weight}")
        if eval_rotations < 0:
            raise ValueError(f"eval_rotations must be >= 0, got {eval_rotations}")
        self.encoder = AtomTypeEncoder(species)
        self.register_buffer("energy_per_atom", torch.tensor(float(energy_per_atom),
                                                             dtype=torch.float64))
        self.register_buffer("force_scale", torch.tensor(float(force_scale), dtype=torch.float64))
        self.energy_weight, self.force_weight = float(energy_weight), float(force_weight)
        self.to_mev, self.eval_rotations, self.seed = float(to_mev), int(eval_rotations), seed

    def _normalised(self, batch: Any, pos: Tensor, create_graph: bool) -> tuple[Tensor, Tensor]:
        """Standardised energy ``(g,)`` and forces ``(n, 3)`` at positions ``pos``."""
        with torch.enable_grad():
            pos = pos.detach().requires_grad_(True)
            x = self.encoder(batch.z).to(pos.dtype)
            energy = self.model(pos, x, batch.batch, cell=_cell(batch))[0].reshape(-1)
            (grad,) = torch.autograd.grad(energy.sum(), pos, create_graph=create_graph)
        return energy, -grad

    def predict(self, batch: Any) -> dict[str, Tensor]:
        """Energies ``(g,)`` (float64) and forces ``(n, 3)`` in file units, averaged over
        ``eval_rotations`` random rotations when set (and the model is in eval mode)."""
        return self._decode(batch, *self._averaged(batch))

    def _averaged(self, batch: Any, plain: tuple[Tensor, Tensor] | None = None
                  ) -> tuple[Tensor, Tensor]:
        k = self.eval_rotations if not self.training else 0
        if k == 0:
            e, f = plain if plain is not None else self._normalised(batch, batch.pos, False)
            return e.detach(), f.detach()
        gen = torch.Generator().manual_seed(self.seed)
        e, f = 0.0, 0.0
        for _ in range(k):
            rot = random_rotation(3, generator=gen, dtype=batch.pos.dtype).to(batch.pos.device)
            er, fr = self._normalised(batch, batch.pos @ rot.T, create_graph=False)
            e, f = e + er.detach(), f + fr.detach() @ rot
        return e / k, f / k

    def _decode(self, batch: Any, e: Tensor, f: Tensor) -> dict[str, Tensor]:
        energy = e.double() * self.force_scale + _num_atoms(batch) * self.energy_per_atom
        return {"energy": energy, "forces": f * self.force_scale.to(f.dtype)}

    def _loss(self, batch: Any, e: Tensor, f: Tensor) -> Tensor:
        n = _num_atoms(batch)
        target_e = ((batch.energy.double() - n * self.energy_per_atom) / self.force_scale)
        target_f = batch.forces / self.force_scale.to(f.dtype)
        return (self.energy_weight * (e - target_e.to(e.dtype)).pow(2).mean()
                + self.force_weight * (f - target_f).pow(2).mean())

    def forward(self, batch: Any) -> Tensor:
        e, f = self._normalised(batch, batch.pos, create_graph=self.training)
        return self._loss(batch, e, f)

    def metrics(self, batch: Any) -> dict[str, tuple[Tensor, Tensor]]:
        e, f = self._normalised(batch, batch.pos, create_graph=False)
        loss = self._loss(batch, e.detach(), f.detach())
        pred = self._decode(batch, *self._averaged(batch, (e, f)))
        g = torch.tensor(float(batch.num_graphs), device=loss.device)
        return {
            "loss": (loss * g, g),
            "energy_mae": energy_mae_sum_count(pred["energy"], batch.energy, self.to_mev),
            "force_mae": force_mae_sum_count(pred["forces"], batch.forces, self.to_mev),
        }


class EnergyTask(EnergyForceTask):
    """Energy regression for molecules without reference forces (``w_F = 0``).

    The loss is ``MSE((E - n_atoms·ē) / s)`` with ``ē`` the mean training energy per atom and
    ``s`` the RMS of the training energies about ``n_atoms·ē`` (:func:`energy_statistics`);
    training needs no gradient with respect to the positions. The metric is the energy MAE in
    meV. :meth:`predict` still gives forces ``-∂E/∂pos`` of the learnt energy (its buffer
    ``force_scale`` holds ``s``), but nothing has fitted them to reference forces.

    Args:
        model: ``model(pos, x, batch, cell=...) -> (energy (g, 1), _)``.
        species: Atomic numbers of the one-hot vocabulary.
        energy_per_atom: Mean training energy per atom ``ē`` (file units).
        energy_scale: ``s`` (file units).
        to_mev: Factor from the file's energy unit to meV.
        eval_rotations: Average evaluation energies over this many random rotations (0: none).
        seed: Seed of the evaluation rotations.
    """

    def __init__(self, model: nn.Module, species: Sequence[int], energy_per_atom: float,
                 energy_scale: float, to_mev: float = 1.0, eval_rotations: int = 0,
                 seed: int = 0) -> None:
        super().__init__(model, species, energy_per_atom, energy_scale, energy_weight=1.0,
                         force_weight=0.0, to_mev=to_mev, eval_rotations=eval_rotations,
                         seed=seed)

    def _energy(self, batch: Any, pos: Tensor) -> Tensor:
        x = self.encoder(batch.z).to(pos.dtype)
        return self.model(pos, x, batch.batch, cell=_cell(batch))[0].reshape(-1)

    def _energy_loss(self, batch: Any, e: Tensor) -> Tensor:
        target = (batch.energy.double() - _num_atoms(batch) * self.energy_per_atom) \
            / self.force_scale
        return (e - target.to(e.dtype)).pow(2).mean()

    def forward(self, batch: Any) -> Tensor:
        return self._energy_loss(batch, self._energy(batch, batch.pos))

    def metrics(self, batch: Any) -> dict[str, tuple[Tensor, Tensor]]:
        e = self._energy(batch, batch.pos).detach()
        loss = self._energy_loss(batch, e)
        k = self.eval_rotations if not self.training else 0
        if k:
            gen = torch.Generator().manual_seed(self.seed)
            total = 0.0
            for _ in range(k):
                rot = random_rotation(3, generator=gen, dtype=batch.pos.dtype).to(
                    batch.pos.device)
                total = total + self._energy(batch, batch.pos @ rot.T).detach()
            e = total / k
        energy = e.double() * self.force_scale + _num_atoms(batch) * self.energy_per_atom
        g = torch.tensor(float(batch.num_graphs), device=loss.device)
        return {"loss": (loss * g, g),
                "energy_mae": energy_mae_sum_count(energy, batch.energy, self.to_mev)}


class PropertyTask(AbstractTask):
    """Regression of one molecular property (QM9) from the graph read-out.

    The target is standardised by the training mean and standard deviation; the loss is the
    mean absolute error in standardised units (as PONITA's QM9 wrapper); metrics are the MAE in
    the target's unit (``mae``) and, for energies in eV, in meV (``mae_mev``).

    Args:
        model: ``model(pos, x, batch) -> (y (g, 1), _)``.
        species: Atomic numbers of the one-hot vocabulary.
        mean, std: Training statistics of the target.
        to_mev: Factor from the target's unit to meV, or None if it is not an energy.
    """

    def __init__(self, model: nn.Module, species: Sequence[int], mean: float, std: float,
                 to_mev: float | None = None) -> None:
        super().__init__(model)
        self.encoder = AtomTypeEncoder(species)
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std) if std > 0 else 1.0))
        self.to_mev = to_mev

    def _normalised(self, batch: Any) -> Tensor:
        x = self.encoder(batch.z).to(batch.pos.dtype)
        return self.model(batch.pos, x, batch.batch, cell=_cell(batch))[0].reshape(-1, 1)

    def predict(self, batch: Any) -> Tensor:
        return self._normalised(batch) * self.std + self.mean

    def forward(self, batch: Any) -> Tensor:
        return (self._normalised(batch) - (batch.y - self.mean) / self.std).abs().mean()

    def metrics(self, batch: Any) -> dict[str, tuple[Tensor, Tensor]]:
        pred = self.predict(batch)
        err = mae_sum_count(pred, batch.y)
        out = {"loss": mae_sum_count(pred / self.std, batch.y / self.std), "mae": err}
        if self.to_mev is not None:
            out["mae_mev"] = (err[0] * self.to_mev, err[1])
        return out
