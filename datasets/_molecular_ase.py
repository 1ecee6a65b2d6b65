"""Readers of XYZ files (plain sGDML-style and extended) and ASE databases, through ase.

Where energies and forces live depends on the tool that wrote the file:

- extended XYZ (ASE, MACE, nequip): ``energy=`` in the comment line and a ``forces`` column,
  which ase attaches as calculator results, or other names (``REF_energy=``, ``REF_forces``)
  that stay in ``atoms.info`` / ``atoms.arrays``;
- ASE databases written through a calculator (``db.write(atoms)`` with a
  ``SinglePointCalculator``): the calculator results of each row;
- ASE databases written by schnetpack (``ASEAtomsData``): each row's ``data`` dictionary, with
  the units in the database's metadata (``_property_unit_dict``, ``_distance_unit``);
- scalars stored as key-value pairs (``db.write(atoms, dft_energy=...)``).

``energy_key`` / ``forces_key`` name the property (default ``energy`` / ``forces``); each row or
frame is searched in that order (calculator results, ``row.data``, key-value pairs; for extended
XYZ the comment keys and per-atom columns, then calculator results). Units: the file's statement
(schnetpack metadata; extended-XYZ comment keys ``energy_unit=`` / ``forces_unit=``), else the
caller's, else the format's convention (see :data:`~sciml.datasets._molecular_io.CONVENTIONS`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from sciml.datasets._molecular_io import Molecules, file_kind, resolve_units, wrong_kind

from sciml.errors import ConfigError, DataError

__all__ = ["require_ase", "read_xyz", "read_ase_db", "atoms_to_molecules"]

#: Extended-XYZ comment keys that state units.
XYZ_UNIT_KEYS = ("energy_unit", "forces_unit")


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


def read_xyz(path: str | os.PathLike, energy_unit: str | None = None,
             forces_unit: str | None = None, energy_key: str | None = None,
             forces_key: str | None = None, need_energy: bool = False) -> Molecules:
    """Read an XYZ file: extended XYZ (through ase) or plain MD17-style XYZ.

    Plain XYZ as in sGDML's exports: line 2 of each frame is the energy alone and atom lines are
    ``symbol x y z [fx fy fz]`` (kcal/mol and kcal/mol/Å unless ``energy_unit`` says otherwise).
    Extended XYZ: energy and forces from ``energy=`` and the ``forces`` column (or the names
    ``energy_key`` / ``forces_key``); ``Lattice`` with ``pbc`` gives a cell; units from the
    comment keys ``energy_unit=`` / ``forces_unit=``, else the arguments, else eV and eV/Å.

    Args:
        path: The file.
        energy_unit, forces_unit: Units of the file where it states none.
        energy_key, forces_key: Names of the energy and forces in an extended XYZ file.
        need_energy: A file without energies is an error (for training).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no XYZ file at {path}")
    kind = file_kind(path)
    if kind != "text":
        raise wrong_kind(path, "an XYZ text file", kind)
    ase = require_ase("reading XYZ files")
    with open(path) as f:
        head = [f.readline() for _ in range(2)]
    if len(head) == 2 and _is_number(head[1].strip()):
        for name, value in (("energy_key", energy_key), ("forces_key", forces_key)):
            if value is not None:
                raise ConfigError(f"{path} is a plain XYZ file (energy alone on line 2, forces "
                                  f"in columns 5-7): {name}={value!r} applies to extended XYZ, "
                                  "npz and ASE databases only")
        return _read_plain_xyz(path, energy_unit, forces_unit)
    try:
        frames = ase.io.read(path, index=":", format="extxyz")
    except (KeyError, ValueError, IndexError, AssertionError) as e:
        raise DataError(f"{path}: cannot read as extended XYZ ({type(e).__name__}: {e}); check "
                        "that each frame's atom count matches its atom lines and that element "
                        "symbols are known") from e
    return atoms_to_molecules(frames, str(path), energy_unit, forces_unit, energy_key,
                              forces_key, need_energy)


def _read_plain_xyz(path: Path, energy_unit: str | None, forces_unit: str | None) -> Molecules:
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
        try:
            energy.append(float(lines[i + 1].split()[0]))
        except (ValueError, IndexError) as e:
            raise DataError(f"{path}: line {i + 2} should be the energy of frame {frame}, got "
                            f"{lines[i + 1]!r}") from e
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
    unit, factor, rule = resolve_units(str(path), "xyz", None, None, "", energy_unit, forces_unit)
    read_from = {"energy": "line 2 of each frame"}
    if have_forces:
        read_from["forces"] = "columns 5-7 of the atom lines"
    return Molecules(str(path), z, pos, np.array(energy),
                     [f * factor for f in forces] if have_forces else None,
                     energy_unit=unit, units_from=rule, read_from=read_from).check()


def _frame_value(atoms: Any, key: str, per_atom: bool) -> tuple[Any, str | None]:
    """``(value, where)`` of ``key`` in one extended-XYZ frame, or ``(None, None)``."""
    # ase moves energy= and the forces column into calculator results, other names stay put
    where = f"per-atom column {key!r}" if per_atom else f"comment key {key!r}"
    table = atoms.arrays if per_atom else atoms.info
    if key in table:
        return table[key], where
    calc = getattr(atoms, "calc", None)
    if calc is not None and key in getattr(calc, "results", {}):
        return calc.results[key], where
    return None, None


def _stated_xyz_units(frames: list[Any], source: str) -> tuple[str | None, str | None]:
    out = []
    for key in XYZ_UNIT_KEYS:
        values = {str(a.info[key]) for a in frames if key in a.info}
        if len(values) > 1:
            raise DataError(f"{source}: the frames state different {key} values "
                            f"{sorted(values)}")
        if values and any(key not in a.info for a in frames):
            first = next(i for i, a in enumerate(frames) if key not in a.info)
            raise DataError(f"{source}: frame {first} has no {key}= but others state "
                            f"{values.pop()!r}")
        out.append(values.pop() if values else None)
    return out[0], out[1]


def atoms_to_molecules(frames: list[Any], source: str, energy_unit: str | None = None,
                       forces_unit: str | None = None, energy_key: str | None = None,
                       forces_key: str | None = None, need_energy: bool = False) -> Molecules:
    """Convert extended-XYZ ``ase.Atoms`` frames to :class:`Molecules` (see :func:`read_xyz`)."""
    if not frames:
        raise DataError(f"{source}: no molecules in the file")
    stated_e, stated_f = _stated_xyz_units(frames, source)
    unit, factor, rule = resolve_units(source, "extxyz", stated_e, stated_f,
                                       "comment keys energy_unit / forces_unit", energy_unit,
                                       forces_unit)
    z, pos, cells, energies, forces = [], [], [], [], []
    origins: dict[str, str] = {}
    for i, atoms in enumerate(frames):
        z.append(np.asarray(atoms.numbers, dtype=np.int64))
        pos.append(np.asarray(atoms.positions, dtype=np.float64))
        cells.append(np.asarray(atoms.cell[:], dtype=np.float64) if atoms.pbc.any() else None)
        if atoms.pbc.any() and not atoms.pbc.all():
            raise DataError(f"{source}: frame {i} is periodic along some axes only "
                            f"(pbc={atoms.pbc.tolist()}); only fully periodic cells are supported")
        e, where_e = _frame_value(atoms, energy_key or "energy", per_atom=False)
        f, where_f = _frame_value(atoms, forces_key or "forces", per_atom=True)
        energies.append(_scalar(e, source, i, energy_key or "energy"))
        forces.append(None if f is None else np.asarray(f, dtype=np.float64) * factor)
        for name, where in (("energy", where_e), ("forces", where_f)):
            if where is not None:
                origins.setdefault(name, where)
    keys = sorted({k for a in frames for k in a.info if k not in XYZ_UNIT_KEYS}
                  | {k for a in frames for k in a.arrays if k not in ("numbers", "positions")}
                  | {k for a in frames if a.calc is not None for k in a.calc.results})
    energy = _all_or_none(energies, source, "frame", energy_key, "energy", need_energy, keys)
    force_list = _all_or_none(forces, source, "frame", forces_key, "forces", False, keys)
    has_cell = any(c is not None for c in cells)
    return Molecules(source, z, pos, None if energy is None else np.array(energy), force_list,
                     cells if has_cell else None, energy_unit=unit, units_from=rule,
                     read_from={k: v for k, v in origins.items()
                                if (k == "energy" and energy is not None)
                                or (k == "forces" and force_list is not None)}).check()


def _scalar(value: Any, source: str, i: int, key: str) -> float | None:
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "fiu":
        raise DataError(f"{source}: {key!r} of molecule {i} is {value!r}, not one number")
    return float(arr.reshape(-1)[0])


def _all_or_none(values: list[Any], source: str, what: str, key: str | None, default: str,
                 required: bool, keys: list[str]) -> list[Any] | None:
    """All values, or None where no molecule has one; an error for a few missing, or for
    none found where the key was asked for (or ``required``)."""
    present = [v is not None for v in values]
    name = key or default
    if all(present):
        return values
    if any(present):
        raise DataError(f"{source}: {what} {present.index(False)} has no {name!r} but "
                        f"{what} {present.index(True)} has")
    if key is not None or required:
        option = f"{default}_key"
        raise DataError(f"{source}: no {default} under {name!r}; the file holds "
                        f"{', '.join(keys) or 'no properties'}: set data.options.{option}")
    return None


def read_ase_db(path: str | os.PathLike, energy_unit: str | None = None,
                forces_unit: str | None = None, energy_key: str | None = None,
                forces_key: str | None = None, need_energy: bool = False
                ) -> tuple[Molecules, list[dict[str, Any]], dict[str, Any]]:
    """Read an ASE database (SQLite ``.db`` or JSON) in any of its layouts (see the module).

    Args:
        path: The database.
        energy_unit, forces_unit: Units where the database states none (default eV and eV/Å,
            the ASE convention); schnetpack's ``_property_unit_dict`` takes precedence, and a
            different unit given here is an error.
        energy_key, forces_key: Property names (default ``energy`` / ``forces``).
        need_energy: A database without energies is an error (for training).

    Returns:
        ``(molecules, data, metadata)``: the structures with energies and forces where every
        row has them, each row's ``data`` and ``key_value_pairs`` merged, and the database's
        metadata (e.g. schnetpack's ``_property_unit_dict`` and ``atomrefs``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ASE database at {path}")
    kind = file_kind(path)
    if kind not in ("sqlite", "json"):
        raise wrong_kind(path, "an ASE database (SQLite or JSON)", kind)
    ase = require_ase("reading ASE databases")
    from ase.calculators.calculator import all_properties

    try:
        db = ase.db.connect(str(path), type="db" if kind == "sqlite" else "json")
        rows = list(db.select())
        metadata = dict(db.metadata)
    except Exception as e:  # ase raises sqlite3 / json errors of many kinds for corrupt files
        raise DataError(f"{path}: cannot read as an ASE database ({type(e).__name__}: {e})") from e
    if not rows:
        raise DataError(f"{path}: no molecules in the database")
    units = metadata.get("_property_unit_dict") or {}
    ekey, fkey = energy_key or "energy", forces_key or "forces"
    unit, factor, rule = resolve_units(str(path), "ase_db", _unit(units, ekey, path),
                                       _unit(units, fkey, path), "metadata _property_unit_dict",
                                       energy_unit, forces_unit)
    scale = _distance_scale(metadata, path)
    if abs(scale - 1.0) > 1e-12:
        rule += f"; positions converted from {metadata['_distance_unit']} to Å"
    frames, props, energies, forces = [], [], [], []
    origins: dict[str, str] = {}
    for i, row in enumerate(rows):
        atoms = row.toatoms()
        if scale != 1.0:
            atoms.set_cell(atoms.cell[:] * scale, scale_atoms=False)
            atoms.positions = atoms.positions * scale
        frames.append(atoms)
        data = dict(row.data)
        props.append({**dict(row.key_value_pairs), **data})
        e, where_e = _row_value(row, data, ekey, all_properties)
        f, where_f = _row_value(row, data, fkey, all_properties)
        energies.append(_scalar(e, str(path), i, ekey))
        forces.append(None if f is None else np.asarray(f, dtype=np.float64) * factor)
        for name, where in (("energy", where_e), ("forces", where_f)):
            if where is not None:
                origins.setdefault(name, where)
    first = rows[0]
    keys = sorted({k for k in all_properties if first.get(k) is not None}
                  | set(first.key_value_pairs) | set(props[0]))
    energy = _all_or_none(energies, str(path), "row", energy_key, "energy", need_energy, keys)
    force_list = _all_or_none(forces, str(path), "row", forces_key, "forces", False, keys)
    z = [np.asarray(a.numbers, dtype=np.int64) for a in frames]
    pos = [np.asarray(a.positions, dtype=np.float64) for a in frames]
    cells = [np.asarray(a.cell[:], dtype=np.float64) if a.pbc.any() else None for a in frames]
    for i, a in enumerate(frames):
        if a.pbc.any() and not a.pbc.all():
            raise DataError(f"{path}: row {i + 1} is periodic along some axes only "
                            f"(pbc={a.pbc.tolist()}); only fully periodic cells are supported")
    read_from = {k: v for k, v in origins.items()
                 if (k == "energy" and energy is not None)
                 or (k == "forces" and force_list is not None)}
    mols = Molecules(str(path), z, pos, None if energy is None else np.array(energy), force_list,
                     cells if any(c is not None for c in cells) else None, energy_unit=unit,
                     units_from=rule, read_from=read_from).check()
    return mols, props, metadata


def _unit(units: dict[str, Any], key: str, path: Path) -> str | None:
    value = units.get(key)
    if value is not None and not isinstance(value, str):
        raise DataError(f"{path}: metadata _property_unit_dict[{key!r}] is {value!r}, not a "
                        "unit name")
    return value


def _distance_scale(metadata: dict[str, Any], path: Path) -> float:
    from sciml.datasets._molecular_units import length_in_angstrom

    unit = metadata.get("_distance_unit")
    if unit is None:
        return 1.0
    try:
        return length_in_angstrom(unit)
    except ValueError as e:
        raise DataError(f"{path}: metadata _distance_unit: {e}") from e


def _row_value(row: Any, data: dict[str, Any], key: str, calculator_properties: Any
               ) -> tuple[Any, str | None]:
    """``(value, where)`` of ``key`` in one database row: calculator results, then
    ``row.data``, then key-value pairs."""
    if key in calculator_properties and row.get(key) is not None:
        return row.get(key), f"calculator results {key!r}"
    if key in data:
        return data[key], f"row.data {key!r}"
    if key in row.key_value_pairs:
        return row.key_value_pairs[key], f"key-value pair {key!r}"
    return None, None
