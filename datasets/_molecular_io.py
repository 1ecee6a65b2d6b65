"""Readers of molecular files: rMD17 and MD17/sGDML npz, plain and extended XYZ, ASE databases.

Every reader returns :class:`Molecules` (per-molecule arrays in the units of the file) after
checking it: atom counts that differ between the arrays of a frame, unknown elements, NaN or
infinite coordinates and singular periodic cells are :class:`~sciml.errors.DataError` naming the
file, the frame and the problem. XYZ files and ASE databases need ase (the ``molecular`` extra).

Units: MD17 and rMD17 store energies in kcal/mol and forces in kcal/mol/Å, positions in Å
(Chmiela et al., Sci. Adv. 2017; Christensen and von Lilienfeld, MLST 2020); papers report mean
absolute errors in meV and meV/Å, hence :data:`KCAL_PER_MOL_IN_MEV`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sciml.errors import DataError

__all__ = [
    "Molecules",
    "KCAL_PER_MOL_IN_MEV",
    "HARTREE_IN_EV",
    "ENERGY_UNITS_IN_MEV",
    "energy_in_mev",
    "read_rmd17_npz",
    "read_sgdml_npz",
    "read_xyz",
    "read_ase_db",
    "require_ase",
]

# 1 kcal/mol = 4184 J / N_A / e (CODATA 2018 exact N_A and e), in meV.
KCAL_PER_MOL_IN_MEV = 4184.0 / (6.02214076e23 * 1.602176634e-19) * 1e3
HARTREE_IN_EV = 27.211386245988  # CODATA 2018
#: Energy unit -> meV per unit (forces: the same factor per Å).
ENERGY_UNITS_IN_MEV: dict[str, float] = {
    "kcal/mol": KCAL_PER_MOL_IN_MEV,
    "eV": 1000.0,
    "meV": 1.0,
    "Ha": HARTREE_IN_EV * 1000.0,
}
_MAX_Z = 118


def energy_in_mev(values: Any, unit: str) -> Any:
    """Convert energies (or forces per Å) from ``unit`` to meV (meV/Å).

    Args:
        values: Numbers, a numpy array or a tensor.
        unit: One of :data:`ENERGY_UNITS_IN_MEV` (``"kcal/mol"``, ``"eV"``, ``"meV"``, ``"Ha"``).
    """
    if unit not in ENERGY_UNITS_IN_MEV:
        raise ValueError(f"unknown energy unit {unit!r}; known: {sorted(ENERGY_UNITS_IN_MEV)}")
    return values * ENERGY_UNITS_IN_MEV[unit]


@dataclass
class Molecules:
    """Molecules (or frames of one molecule) read from a file, in the file's units.

    Attributes:
        source: The file read (named in error messages).
        z: Atomic numbers per molecule, ``(n_i,)`` int64.
        pos: Positions per molecule, ``(n_i, 3)`` float64, Å.
        energy: ``(m,)`` energies, or None.
        forces: Forces per molecule ``(n_i, 3)``, or None.
        cell: Per molecule a ``(3, 3)`` cell (rows are lattice vectors) if periodic, else None.
        energy_unit: Unit of ``energy`` (forces are per Å).
        extra: Further per-molecule properties ``name -> (m,)`` array.
    """

    source: str
    z: list[np.ndarray]
    pos: list[np.ndarray]
    energy: np.ndarray | None = None
    forces: list[np.ndarray] | None = None
    cell: list[np.ndarray | None] | None = None
    energy_unit: str = "kcal/mol"
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pos)

    def check(self) -> Molecules:
        """Raise :class:`DataError` naming the file and frame for inconsistent or bad values."""
        m = len(self.pos)
        if len(self.z) != m:
            raise DataError(f"{self.source}: {len(self.z)} atom lists for {m} frames")
        if m == 0:
            raise DataError(f"{self.source}: no molecules in the file")
        for i, (z, pos) in enumerate(zip(self.z, self.pos, strict=True)):
            _check_frame(self.source, i, z, pos)
            if self.forces is not None and self.forces[i].shape != pos.shape:
                raise DataError(
                    f"{self.source}: frame {i} has forces of shape {self.forces[i].shape} but "
                    f"{pos.shape[0]} atoms (mismatched atom counts)")
            if self.cell is not None and self.cell[i] is not None:
                _check_cell(self.source, i, self.cell[i])
        for name, values in (("energy", self.energy), *self.extra.items()):
            if values is None:
                continue
            if len(values) != m:
                raise DataError(f"{self.source}: {len(values)} values of {name!r} for {m} frames")
            bad = ~np.isfinite(np.asarray(values, dtype=np.float64))
            if bad.any():
                raise DataError(f"{self.source}: {name!r} of frame {int(np.argmax(bad))} is "
                                f"{values[int(np.argmax(bad))]} (NaN or infinite)")
        if self.forces is not None:
            for i, f in enumerate(self.forces):
                if not np.isfinite(f).all():
                    raise DataError(f"{self.source}: forces of frame {i} contain NaN or infinity")
        return self


def _check_frame(source: str, i: int, z: np.ndarray, pos: np.ndarray) -> None:
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise DataError(f"{source}: frame {i} has positions of shape {pos.shape}, expected (n, 3)")
    if z.shape != (pos.shape[0],):
        raise DataError(f"{source}: frame {i} has {pos.shape[0]} positions but {z.size} atomic "
                        "numbers (mismatched atom counts)")
    bad = (z < 1) | (z > _MAX_Z)
    if bad.any():
        raise DataError(f"{source}: frame {i}, atom {int(np.argmax(bad))} has unknown element "
                        f"(atomic number {int(z[np.argmax(bad)])}; valid 1..{_MAX_Z})")
    if not np.isfinite(pos).all():
        atom = int(np.argmax(~np.isfinite(pos).all(axis=1)))
        raise DataError(f"{source}: frame {i}, atom {atom} has NaN or infinite coordinates "
                        f"{pos[atom].tolist()}")


def _check_cell(source: str, i: int, cell: np.ndarray) -> None:
    cell = np.asarray(cell, dtype=np.float64)
    if cell.shape != (3, 3) or not np.isfinite(cell).all():
        raise DataError(f"{source}: frame {i} has a periodic cell {cell.tolist()} that is not a "
                        "finite 3x3 matrix")
    volume = abs(float(np.linalg.det(cell)))
    scale = float(np.prod(np.linalg.norm(cell, axis=1)))
    if scale == 0.0 or volume <= 1e-10 * scale:
        raise DataError(f"{source}: frame {i} is periodic but its cell {cell.tolist()} is "
                        f"singular (volume {volume:g} Å^3); give three independent lattice "
                        "vectors or switch periodicity off (pbc=F)")


def _load_npz(path: Path, keys: tuple[str, ...], layout: str) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"no {layout} npz file at {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise DataError(f"{path}: not the {layout} npz layout: key {missing[0]!r} is "
                                f"missing (keys present: {sorted(f.files)}; expected {list(keys)})")
            return {k: np.asarray(f[k]) for k in keys}
    except (OSError, ValueError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: cannot read as npz (truncated or corrupt?): {e}") from e


def _frames(path: Path, z: np.ndarray, pos: np.ndarray, energy: np.ndarray,
            forces: np.ndarray, names: tuple[str, str, str, str]) -> Molecules:
    kz, kr, ke, kf = names
    z = np.asarray(z).reshape(-1).astype(np.int64)
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise DataError(f"{path}: {kr!r} has shape {pos.shape}, expected (frames, atoms, 3)")
    if pos.shape[1] != z.size:
        raise DataError(f"{path}: {kr!r} has {pos.shape[1]} atoms per frame but {kz!r} has "
                        f"{z.size} (mismatched atom counts)")
    if forces.shape != pos.shape:
        raise DataError(f"{path}: {kf!r} has shape {forces.shape} but {kr!r} has {pos.shape} "
                        "(mismatched atom or frame counts)")
    energy = np.asarray(energy, dtype=np.float64).reshape(-1)
    if energy.size != pos.shape[0]:
        raise DataError(f"{path}: {ke!r} has {energy.size} values for {pos.shape[0]} frames")
    pos = pos.astype(np.float64)
    forces = forces.astype(np.float64)
    return Molecules(str(path), [z] * pos.shape[0], list(pos), energy, list(forces),
                     energy_unit="kcal/mol").check()


def read_rmd17_npz(path: str | os.PathLike) -> Molecules:
    """Read an rMD17 file (``nuclear_charges``, ``coords``, ``energies``, ``forces``).

    Christensen and von Lilienfeld, "On the role of gradients for machine learning of molecular
    energies and forces", MLST 2020. Energies kcal/mol, forces kcal/mol/Å, positions Å.
    """
    path = Path(path)
    keys = ("nuclear_charges", "coords", "energies", "forces")
    a = _load_npz(path, keys, "rMD17")
    return _frames(path, a["nuclear_charges"], a["coords"], a["energies"], a["forces"], keys)


def read_sgdml_npz(path: str | os.PathLike) -> Molecules:
    """Read an original MD17 / sGDML file (``z``, ``R``, ``E``, ``F``; kcal/mol, Å).

    Chmiela et al., "Machine learning of accurate energy-conserving molecular force fields",
    Science Advances 2017.
    """
    path = Path(path)
    keys = ("z", "R", "E", "F")
    a = _load_npz(path, keys, "MD17/sGDML")
    return _frames(path, a["z"], a["R"], a["E"], a["F"], keys)


def require_ase(what: str) -> Any:
    """Import ase, or raise ImportError naming the ``molecular`` extra."""
    try:
        import ase  # noqa: F401
        import ase.db  # noqa: F401
        import ase.io  # noqa: F401
    except ImportError as e:
        raise ImportError(f"{what} needs ase: pip install 'sciml[molecular]' (or pip install "
                          "ase)") from e
    return ase


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_xyz(path: str | os.PathLike, energy_unit: str = "kcal/mol") -> Molecules:
    """Read an XYZ file: extended XYZ (through ase) or plain MD17-style XYZ.

    Plain XYZ as in sGDML's exports: line 2 of each frame is the energy alone and atom lines are
    ``symbol x y z [fx fy fz]``. Extended XYZ: energy and forces from ``energy=`` and the
    ``forces`` property (or an attached calculator); ``Lattice`` with ``pbc`` gives a cell.

    Args:
        path: The file.
        energy_unit: Unit of the energies in the file (MD17 exports: kcal/mol).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no XYZ file at {path}")
    ase = require_ase("reading XYZ files")
    with open(path) as f:
        head = [f.readline() for _ in range(2)]
    if len(head) == 2 and _is_number(head[1].strip()):
        return _read_plain_xyz(path, energy_unit, ase)
    try:
        frames = ase.io.read(path, index=":", format="extxyz")
    except (KeyError, ValueError, IndexError, AssertionError) as e:
        raise DataError(f"{path}: cannot read as extended XYZ ({type(e).__name__}: {e}); check "
                        "that each frame's atom count matches its atom lines and that element "
                        "symbols are known") from e
    return atoms_to_molecules(frames, str(path), energy_unit)


def _read_plain_xyz(path: Path, energy_unit: str, ase: Any) -> Molecules:
    from ase.data import atomic_numbers

    lines = path.read_text().splitlines()
    z, pos, forces, energy = [], [], [], []
    i, frame = 0, 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        try:
            n = int(lines[i].split()[0])
        except ValueError as e:
            raise DataError(f"{path}: line {i + 1} should be the atom count of frame {frame}, "
                            f"got {lines[i]!r}") from e
        if i + 2 + n > len(lines):
            raise DataError(f"{path}: frame {frame} declares {n} atoms but the file ends after "
                            f"{len(lines) - i - 2} atom lines (mismatched atom counts)")
        energy.append(float(lines[i + 1].split()[0]))
        rows = [lines[i + 2 + k].split() for k in range(n)]
        widths = {len(r) for r in rows}
        if widths - {4, 7} or len(widths) != 1:
            raise DataError(f"{path}: frame {frame} has atom lines with {sorted(widths)} columns; "
                            "expected 'symbol x y z' or 'symbol x y z fx fy fz' on every line "
                            "(or the atom count does not match)")
        unknown = [r[0] for r in rows if r[0] not in atomic_numbers]
        if unknown:
            raise DataError(f"{path}: frame {frame} has unknown element {unknown[0]!r}")
        z.append(np.array([atomic_numbers[r[0]] for r in rows], dtype=np.int64))
        values = np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float64)
        pos.append(values[:, :3])
        forces.append(values[:, 3:6] if values.shape[1] == 6 else None)
        i += 2 + n
        frame += 1
    have_forces = all(f is not None for f in forces)
    if not have_forces and any(f is not None for f in forces):
        raise DataError(f"{path}: some frames have forces and others do not")
    return Molecules(str(path), z, pos, np.array(energy), forces if have_forces else None,
                     energy_unit=energy_unit).check()


def atoms_to_molecules(frames: list[Any], source: str, energy_unit: str) -> Molecules:
    """Convert ``ase.Atoms`` frames to :class:`Molecules` (energy and forces when all have them)."""
    z, pos, cells, energies, forces = [], [], [], [], []
    for i, atoms in enumerate(frames):
        z.append(np.asarray(atoms.numbers, dtype=np.int64))
        pos.append(np.asarray(atoms.positions, dtype=np.float64))
        cells.append(np.asarray(atoms.cell[:], dtype=np.float64) if atoms.pbc.any() else None)
        if atoms.pbc.any() and not atoms.pbc.all():
            raise DataError(f"{source}: frame {i} is periodic along some axes only "
                            f"(pbc={atoms.pbc.tolist()}); only fully periodic cells are supported")
        energies.append(_frame_value(atoms, "energy"))
        forces.append(_frame_value(atoms, "forces"))
    energy = (np.array(energies, dtype=np.float64)
              if all(e is not None for e in energies) else None)
    force_list = ([np.asarray(f, dtype=np.float64) for f in forces]
                  if all(f is not None for f in forces) else None)
    has_cell = any(c is not None for c in cells)
    return Molecules(source, z, pos, energy, force_list, cells if has_cell else None,
                     energy_unit=energy_unit).check()


def _frame_value(atoms: Any, name: str) -> Any:
    if name == "energy" and "energy" in atoms.info:
        return float(atoms.info["energy"])
    if name == "forces" and "forces" in atoms.arrays:
        return atoms.arrays["forces"]
    calc = getattr(atoms, "calc", None)
    if calc is not None and name in getattr(calc, "results", {}):
        return calc.results[name]
    return None


def read_ase_db(path: str | os.PathLike, energy_unit: str = "eV"
                ) -> tuple[Molecules, list[dict[str, Any]], dict[str, Any]]:
    """Read an ASE database (SQLite ``.db`` or JSON).

    Returns:
        ``(molecules, data, metadata)``: the structures (energy and forces from each row's
        calculator where every row has them), each row's ``data`` and ``key_value_pairs``
        merged, and the database's metadata (e.g. schnetpack's ``_property_unit_dict``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ASE database at {path}")
    ase = require_ase("reading ASE databases")
    try:
        db = ase.db.connect(str(path))
        rows = list(db.select())
        metadata = dict(db.metadata)
    except Exception as e:  # ase raises sqlite3 / json errors of many kinds for corrupt files
        raise DataError(f"{path}: cannot read as an ASE database ({type(e).__name__}: {e})") from e
    frames, props = [], []
    for row in rows:
        frames.append(row.toatoms())
        merged = dict(row.key_value_pairs)
        merged.update(dict(row.data))
        props.append(merged)
    return atoms_to_molecules(frames, str(path), energy_unit), props, metadata
