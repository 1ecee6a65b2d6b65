"""Molecules from the user's own files: the reader picked by the suffix, energies and forces
found in any of the layouts other tools write, units read from the file.

``data: {name: molecule_file, options: {path: ...}}`` in a molecular recipe reads

- ``.npz``: rMD17 (``nuclear_charges``, ``coords``, ``energies``, ``forces``) or MD17/sGDML
  (``z``, ``R``, ``E``, ``F``; ``e_unit`` / ``r_unit`` where present), default kcal/mol;
- ``.xyz`` / ``.extxyz``: extended XYZ (``energy=`` and a ``forces`` column, units from the
  comment keys ``energy_unit=`` / ``forces_unit=``, default eV) or plain sGDML-style XYZ (energy
  on line 2, default kcal/mol);
- ``.db`` / ``.json``: ASE databases, with energies and forces as calculator results, in
  ``row.data`` (schnetpack, units from the metadata's ``_property_unit_dict``) or as key-value
  pairs (default eV).

A file without forces trains on energies alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from sciml.datasets._molecular import MolecularData, MoleculeDataset, _species, random_split
from sciml.datasets._molecular_ase import read_ase_db, read_xyz
from sciml.datasets._molecular_io import Molecules, read_npz

from sciml.errors import ConfigError, DataError

__all__ = ["MOLECULE_FILE_SUFFIXES", "read_molecule_file", "load_molecule_file"]

#: Suffix -> what is read.
MOLECULE_FILE_SUFFIXES = {
    ".npz": "rMD17 or MD17/sGDML npz",
    ".xyz": "extended or plain XYZ",
    ".extxyz": "extended XYZ",
    ".db": "ASE database (SQLite)",
    ".json": "ASE database (JSON)",
}


def read_molecule_file(path: str | os.PathLike, energy_key: str | None = None,
                       forces_key: str | None = None, energy_unit: str | None = None,
                       forces_unit: str | None = None, need_energy: bool = False
                       ) -> Molecules:
    """Molecules from an npz, (extended) XYZ or ASE database file, the reader chosen by suffix.

    Args:
        path: The file (suffix one of :data:`MOLECULE_FILE_SUFFIXES`).
        energy_key, forces_key: Names of the energy and forces in the file (default the
            format's: ``energy`` / ``forces``, ``energies`` / ``forces``, ``E`` / ``F``).
        energy_unit, forces_unit: Units where the file states none (default the format's
            convention); a unit the file contradicts is an error.
        need_energy: A file without energies is an error (for training).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MOLECULE_FILE_SUFFIXES:
        raise DataError(f"{path}: unknown molecule file suffix {path.suffix!r}; known: "
                        + ", ".join(f"{s} ({what})" for s, what in MOLECULE_FILE_SUFFIXES.items()))
    if not path.is_file():
        raise FileNotFoundError(f"no molecule file at {path}")
    if suffix == ".npz":
        return read_npz(path, energy_key, forces_key, energy_unit, forces_unit, need_energy)
    if suffix in (".xyz", ".extxyz"):
        return read_xyz(path, energy_unit, forces_unit, energy_key, forces_key, need_energy)
    return read_ase_db(path, energy_unit, forces_unit, energy_key, forces_key, need_energy)[0]


def load_molecule_file(path: str, n_train: int | None = None, n_val: int | None = None,
                       n_test: int | None = None, seed: int = 0, energy_key: str | None = None,
                       forces_key: str | None = None, energy_unit: str | None = None,
                       forces_unit: str | None = None) -> MolecularData:
    """Energies and forces (or energies alone) from your own npz, XYZ or ASE database file.

    The molecules are split at random with ``seed``; units are read from the file where it
    states them. XYZ and ASE databases need ase (the ``molecular`` extra).

    Args:
        path: The file; the reader is picked by its suffix (``.npz``, ``.xyz`` / ``.extxyz``,
            ``.db`` / ``.json``).
        n_train: Training molecules (default 80 % of the file).
        n_val: Validation molecules (default 10 %).
        n_test: Test molecules (default the rest).
        seed: Seed of the random split.
        energy_key: Name of the energy in the file (default ``energy``; npz: the layout's).
        forces_key: Name of the forces (default ``forces``); a file without them trains on
            energies alone.
        energy_unit: Energy unit where the file states none (default the format's convention:
            eV for extended XYZ and ASE databases, kcal/mol for npz and plain XYZ).
        forces_unit: Forces unit where the file states none (default energy_unit per Å).
    """
    mols = read_molecule_file(path, energy_key, forces_key, energy_unit, forces_unit,
                              need_energy=True)
    n = len(mols)
    n_train = (8 * n) // 10 if n_train is None else n_train
    n_val = n // 10 if n_val is None else n_val
    if n < 2:
        raise ConfigError(f"{path}: {n} molecule; training and testing need at least 2")
    tr, va, te = random_split(n, n_train, n_val, seed, n_test, str(path))
    p = Path(path)
    return MolecularData(p.stem, MoleculeDataset(mols, tr), MoleculeDataset(mols, va),
                         MoleculeDataset(mols, te), _species(mols), mols.energy_unit,
                         source=str(p))
