"""Molecules read from files: the :class:`Molecules` container, its checks, the units a file
states, and the readers of rMD17 and MD17/sGDML npz files (XYZ and ASE databases:
:mod:`sciml.datasets._molecular_ase`).

Every reader returns :class:`Molecules` after checking it: atom counts that differ between the
arrays of a frame, unknown elements, NaN or infinite coordinates and singular periodic cells are
:class:`~sciml.errors.DataError` naming the file, the frame and the problem. A file of another
format under a known suffix (an SQLite database named ``.npz``) is an error that names what the
file is.

Units: energies stay in the unit of the file: the one the file states (schnetpack metadata,
extended-XYZ comment keys), else the one the caller gives, else the format's convention
(:data:`CONVENTIONS`: MD17 / rMD17 npz and sGDML's plain XYZ kcal/mol, after Chmiela et al.,
Sci. Adv. 2017 and Christensen and von Lilienfeld, MLST 2020; extended XYZ and ASE databases
eV, the ASE convention). Forces are converted to that energy unit per Å, positions to Å.
:attr:`Molecules.units_from` says which rule gave the unit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sciml.datasets._molecular_units import (
    ENERGY_UNITS_IN_MEV,
    HARTREE_IN_EV,
    KCAL_PER_MOL_IN_MEV,
    canonical_energy_unit,
    energy_in_mev,
    force_factor,
)

from sciml.errors import ConfigError, DataError

__all__ = [
    "Molecules",
    "KCAL_PER_MOL_IN_MEV",
    "HARTREE_IN_EV",
    "ENERGY_UNITS_IN_MEV",
    "CONVENTIONS",
    "energy_in_mev",
    "file_kind",
    "resolve_units",
    "read_rmd17_npz",
    "read_sgdml_npz",
    "read_npz",
]

_MAX_Z = 118
#: Energy unit of each format where the file states none.
CONVENTIONS: dict[str, str] = {
    "npz": "kcal/mol",  # MD17 / rMD17 / sGDML
    "xyz": "kcal/mol",  # sGDML's plain XYZ exports (energy alone on line 2)
    "extxyz": "eV",  # ASE convention
    "ase_db": "eV",  # ASE convention
}
_FORMAT_NAMES = {"npz": "MD17/rMD17 npz", "xyz": "plain (sGDML) XYZ", "extxyz": "extended XYZ",
                 "ase_db": "ASE database"}


def file_kind(path: Path) -> str:
    """What a file is by its first bytes: ``zip`` (npz), ``sqlite`` (ASE .db), ``json``,
    ``npy``, ``hdf5``, ``pickle``, ``text`` or ``binary``."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"\x89HDF"):
        return "hdf5"
    if head[:1] == b"\x80":
        return "pickle"
    if head.lstrip()[:1] == b"{":
        return "json"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        try:  # a multi-byte character cut at byte 512
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "binary"
    return "text"


_KIND_NAMES = {"zip": "a zip archive (an npz file)", "sqlite": "an SQLite database (an ASE .db)",
               "json": "a JSON file (an ASE .json database?)", "npy": "a single .npy array",
               "hdf5": "an HDF5 file", "pickle": "a Python pickle", "text": "a text file",
               "binary": "a binary file of unknown format"}


def wrong_kind(path: Path, expected: str, kind: str) -> DataError:
    """The error for a file whose content is not what its reader reads."""
    return DataError(f"{path}: expected {expected}, but the file is {_KIND_NAMES[kind]}; "
                     "data.name: molecule_file picks the reader from the suffix (.npz, .xyz / "
                     ".extxyz, .db / .json)")


def resolve_units(source: str, fmt: str, stated_energy: str | None,
                  stated_forces: str | None, where: str, energy_unit: str | None,
                  forces_unit: str | None) -> tuple[str, float, str]:
    """The energy unit of a file, the factor that brings its forces to that unit per Å, and
    which rule gave them.

    Args:
        source: The file (for messages).
        fmt: Its format, a key of :data:`CONVENTIONS`.
        stated_energy, stated_forces: Units the file states, or None.
        where: Where the file states them (e.g. ``"_property_unit_dict"``).
        energy_unit, forces_unit: Units the caller gives (recipe options), or None.

    Raises:
        ConfigError: a unit given that the file contradicts, or an unknown unit.
    """
    def checked(unit: str, what: str) -> str:
        try:
            return canonical_energy_unit(unit)
        except ValueError as e:
            raise ConfigError(f"{source}: {what}: {e}") from e

    def factor_of(text: str, origin: str) -> float:
        try:
            return force_factor(text, unit)
        except ValueError as e:
            raise ConfigError(f"{source}: {origin}: {e}") from e

    given = None if energy_unit is None else checked(energy_unit, "energy_unit")
    stated = None if stated_energy is None else checked(stated_energy, f"{where} energy unit")
    if given is not None and stated is not None and given != stated:
        raise ConfigError(f"energy_unit={energy_unit!r}, but {source} states {stated_energy!r} "
                          f"({where}); drop the option or correct the file")
    if stated is not None:
        unit, rule = stated, f"stated in the file ({where})"
    elif given is not None:
        unit, rule = given, "given as energy_unit"
    else:
        unit = CONVENTIONS[fmt]
        rule = f"the {_FORMAT_NAMES[fmt]} convention ({unit}); the file states no unit"
    factor = 1.0
    if stated_forces is not None:
        factor = factor_of(stated_forces, where)
    if forces_unit is not None:
        given_factor = factor_of(forces_unit, "forces_unit")
        if stated_forces is not None and abs(given_factor - factor) > 1e-9 * factor:
            raise ConfigError(f"forces_unit={forces_unit!r}, but {source} states "
                              f"{stated_forces!r} ({where}); drop the option or correct the file")
        factor = given_factor
    if abs(factor - 1.0) > 1e-12:
        shown = stated_forces if stated_forces is not None else forces_unit
        rule += f"; forces converted from {shown} to {unit}/Å"
    return unit, factor, rule


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
        energy_unit: Unit of ``energy``; forces are in this unit per Å.
        extra: Further per-molecule properties ``name -> (m,)`` array.
        units_from: Which rule gave the units (stated in the file, given, or the format's
            convention), for reports.
        read_from: Where the energies and forces were found (``{"energy": "row.data
            'energy'"}``), for reports.
    """

    source: str
    z: list[np.ndarray]
    pos: list[np.ndarray]
    energy: np.ndarray | None = None
    forces: list[np.ndarray] | None = None
    cell: list[np.ndarray | None] | None = None
    energy_unit: str = "kcal/mol"
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    units_from: str = ""
    read_from: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pos)

    def units(self) -> dict[str, str | None]:
        """The units of these molecules, and which rule gave them (for reports)."""
        return {"energy": self.energy_unit if self.energy is not None else None,
                "forces": f"{self.energy_unit}/Å" if self.forces is not None else None,
                "positions": "Å",
                "from": self.units_from or "not recorded (molecules built in memory)"}

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


#: npz layouts: name -> (atomic numbers, positions, energies, forces).
NPZ_LAYOUTS: dict[str, tuple[str, str, str, str]] = {
    "rMD17": ("nuclear_charges", "coords", "energies", "forces"),
    "MD17/sGDML": ("z", "R", "E", "F"),
}


def _load_npz(path: Path, layout: str) -> dict[str, np.ndarray]:
    """Every array of an npz file (no pickles), after checking that it is one."""
    if not path.is_file():
        raise FileNotFoundError(f"no {layout} npz file at {path}")
    kind = file_kind(path)
    if kind != "zip":
        raise wrong_kind(path, f"an {layout} npz archive", kind)
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: np.asarray(f[k]) for k in f.files}
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: cannot read as npz (truncated or corrupt?): {e}") from e


def _stated_npz_units(path: Path, a: dict[str, np.ndarray]) -> tuple[str | None, str | None,
                                                                       float]:
    """sGDML data sets carry ``e_unit`` and ``r_unit``: (energy, forces, Å per position unit)."""
    from sciml.datasets._molecular_units import length_in_angstrom

    def text(key: str) -> str | None:
        if key not in a:
            return None
        value = a[key]
        if value.dtype.kind not in "US" or value.size != 1:
            raise DataError(f"{path}: {key!r} should be a unit name, got {value!r}")
        return str(value.reshape(-1)[0])

    e_unit, r_unit = text("e_unit"), text("r_unit")
    if r_unit is None:
        return e_unit, None, 1.0
    try:
        scale = length_in_angstrom(r_unit)
    except ValueError as e:
        raise DataError(f"{path}: 'r_unit': {e}") from e
    return e_unit, (None if e_unit is None else f"{e_unit}/{r_unit}"), scale


def _npz_molecules(path: Path, a: dict[str, np.ndarray], layout: str,
                   energy_key: str | None, forces_key: str | None, energy_unit: str | None,
                   forces_unit: str | None, need_energy: bool, need_forces: bool) -> Molecules:
    kz, kr, ke, kf = NPZ_LAYOUTS[layout]
    ke, kf = energy_key or ke, forces_key or kf
    required = [kz, kr] + ([ke] if need_energy or energy_key else []) + (
        [kf] if need_forces or forces_key else [])
    missing = [k for k in required if k not in a]
    if missing:
        raise DataError(f"{path}: not the {layout} npz layout: key {missing[0]!r} is missing "
                        f"(keys present: {sorted(a)}; expected {required})")
    z = np.asarray(a[kz]).reshape(-1).astype(np.int64)
    pos = a[kr]
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise DataError(f"{path}: {kr!r} has shape {pos.shape}, expected (frames, atoms, 3)")
    if pos.shape[1] != z.size:
        raise DataError(f"{path}: {kr!r} has {pos.shape[1]} atoms per frame but {kz!r} has "
                        f"{z.size} (mismatched atom counts)")
    forces = a.get(kf)
    if forces is not None and forces.shape != pos.shape:
        raise DataError(f"{path}: {kf!r} has shape {forces.shape} but {kr!r} has {pos.shape} "
                        "(mismatched atom or frame counts)")
    energy = None if ke not in a else np.asarray(a[ke]).reshape(-1)
    if energy is not None:
        if energy.dtype.kind not in "fiu":
            raise DataError(f"{path}: {ke!r} holds {energy.dtype} values, not numbers")
        energy = energy.astype(np.float64)
        if energy.size != pos.shape[0]:
            raise DataError(f"{path}: {ke!r} has {energy.size} values for {pos.shape[0]} "
                            "frames")
    stated_e, stated_f, scale = _stated_npz_units(path, a)
    unit, factor, rule = resolve_units(str(path), "npz", stated_e, stated_f, "e_unit / r_unit",
                                       energy_unit, forces_unit)
    pos = pos.astype(np.float64) * scale
    read_from = {} if energy is None else {"energy": f"npz key {ke!r}"}
    if forces is not None:
        forces = list(forces.astype(np.float64) * factor)
        read_from["forces"] = f"npz key {kf!r}"
    return Molecules(str(path), [z] * pos.shape[0], list(pos), energy, forces,
                     energy_unit=unit, units_from=rule, read_from=read_from).check()


def read_rmd17_npz(path: str | os.PathLike) -> Molecules:
    """Read an rMD17 file (``nuclear_charges``, ``coords``, ``energies``, ``forces``).

    Christensen and von Lilienfeld, "On the role of gradients for machine learning of molecular
    energies and forces", MLST 2020. Energies kcal/mol, forces kcal/mol/Å, positions Å.
    """
    path = Path(path)
    return _npz_molecules(path, _load_npz(path, "rMD17"), "rMD17", None, None, None, None, True,
                          True)


def read_sgdml_npz(path: str | os.PathLike) -> Molecules:
    """Read an original MD17 / sGDML file (``z``, ``R``, ``E``, ``F``; kcal/mol and Å, or the
    units its ``e_unit`` / ``r_unit`` keys state).

    Chmiela et al., "Machine learning of accurate energy-conserving molecular force fields",
    Science Advances 2017.
    """
    path = Path(path)
    a = _load_npz(path, "MD17/sGDML")
    return _npz_molecules(path, a, "MD17/sGDML", None, None, None, None, True, True)


def read_npz(path: str | os.PathLike, energy_key: str | None = None,
             forces_key: str | None = None, energy_unit: str | None = None,
             forces_unit: str | None = None, need_energy: bool = False) -> Molecules:
    """Read an npz file in the rMD17 or the MD17/sGDML layout (told apart by its keys); forces
    are optional (an energy-only file), and so are energies unless ``need_energy``.

    Args:
        path: The file.
        energy_key, forces_key: Arrays to read instead of the layout's (e.g. rMD17's
            ``old_energies``).
        energy_unit, forces_unit: Units of the file where it states none (default kcal/mol and
            kcal/mol/Å, the MD17 convention).
        need_energy: A file without energies is an error (for training).
    """
    path = Path(path)
    a = _load_npz(path, "MD17/rMD17")
    for layout, (kz, kr, _, _) in NPZ_LAYOUTS.items():
        if kz in a and kr in a:
            return _npz_molecules(path, a, layout, energy_key, forces_key, energy_unit,
                                  forces_unit, need_energy, False)
    raise DataError(f"{path}: neither the rMD17 layout (nuclear_charges, coords, energies "
                    f"[, forces]) nor the MD17/sGDML one (z, R, E [, F]); keys present: "
                    f"{sorted(a)}")
