"""Units of molecular files: energies, forces and lengths, parsed from the strings files carry.

Files name their units in several ways: schnetpack's ``_property_unit_dict`` (``"kcal/mol"``,
``"kcal/mol/Ang"``, ``"Ha"``, ``"Hartree/Bohr"``; parsed there by ``ase.units``), extended-XYZ
comment keys (``energy_unit=eV``), or the user's recipe. :func:`parse_unit` reads products and
quotients of the usual names with exponents (``eV/Ang``, ``Ha/a0``, ``kcal/mol/Å``,
``eV*Ang^-1``) into a factor in meV and Å. Energies stay in their file's unit (named canonically,
e.g. ``Hartree`` → ``Ha``); forces are converted on reading to that energy unit per Å; positions
to Å.

Constants are CODATA 2018 (exact e and N_A; Hartree energy and Bohr radius).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["KCAL_PER_MOL_IN_MEV", "HARTREE_IN_EV", "BOHR_IN_ANGSTROM", "ENERGY_UNITS_IN_MEV",
           "parse_unit", "energy_unit_in_mev", "canonical_energy_unit", "force_factor",
           "length_in_angstrom", "energy_in_mev"]

_E_CHARGE = 1.602176634e-19  # C (exact)
_AVOGADRO = 6.02214076e23  # 1/mol (exact)
# 1 kcal/mol = 4184 J / N_A / e, in meV.
KCAL_PER_MOL_IN_MEV = 4184.0 / (_AVOGADRO * _E_CHARGE) * 1e3
HARTREE_IN_EV = 27.211386245988
BOHR_IN_ANGSTROM = 0.529177210903
#: Canonical energy units -> meV per unit (forces: the same factor per Å).
ENERGY_UNITS_IN_MEV: dict[str, float] = {
    "kcal/mol": KCAL_PER_MOL_IN_MEV,
    "kJ/mol": KCAL_PER_MOL_IN_MEV / 4.184,
    "eV": 1000.0,
    "meV": 1.0,
    "Ha": HARTREE_IN_EV * 1000.0,
}

# name -> (factor in meV^a Å^b, a, b); "mol" is a count (1 / N_A per molecule).
_J_IN_MEV = 1e3 / _E_CHARGE
_TOKENS: dict[str, tuple[float, int, int]] = {
    **{n: (1000.0, 1, 0) for n in ("eV", "ev")},
    "meV": (1.0, 1, 0),
    **{n: (HARTREE_IN_EV * 1000.0, 1, 0) for n in ("Ha", "Hartree", "hartree", "Eh")},
    **{n: (HARTREE_IN_EV * 500.0, 1, 0) for n in ("Ry", "Rydberg")},
    "kcal": (4184.0 * _J_IN_MEV, 1, 0),
    "cal": (4.184 * _J_IN_MEV, 1, 0),
    "kJ": (1000.0 * _J_IN_MEV, 1, 0),
    "J": (_J_IN_MEV, 1, 0),
    "mol": (_AVOGADRO, 0, 0),
    **{n: (1.0, 0, 1) for n in ("Ang", "Angstrom", "angstrom", "A", "Å", "AA")},
    **{n: (BOHR_IN_ANGSTROM, 0, 1) for n in ("Bohr", "bohr", "a0", "au_length")},
    "nm": (10.0, 0, 1),
    "pm": (0.01, 0, 1),
}
_FACTOR = re.compile(r"^\s*([A-Za-zÅ_][A-Za-zÅ_0-9]*)\s*(?:\^\s*\(?\s*([-+]?\d+)\s*\)?)?\s*$")


def parse_unit(text: Any) -> tuple[float, int, int]:
    """``(factor, energy power, length power)`` of a unit: ``"kcal/mol/Ang"`` → (43.36…, 1, -1)
    with the factor in meV^a Å^b.

    Raises:
        ValueError: not a string, or a name that is not known (the message lists the known
            ones).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"unit must be a string such as 'eV' or 'kcal/mol/Ang', got {text!r}")
    factor, energy, length = 1.0, 0, 0
    pieces = re.split(r"([*/])", text.replace("**", "^").strip())
    sign = 1
    for piece in pieces:
        if piece in ("*", "/"):
            sign = 1 if piece == "*" else -1
            continue
        m = _FACTOR.match(piece)
        if m is None or m.group(1) not in _TOKENS:
            raise ValueError(f"unknown unit {text!r} (cannot read {piece.strip()!r}); known "
                             f"names: {', '.join(sorted(_TOKENS))}, joined by / and * with ^n")
        f, a, b = _TOKENS[m.group(1)]
        power = sign * int(m.group(2) or 1)
        factor *= f ** power
        energy += a * power
        length += b * power
    return factor, energy, length


def energy_unit_in_mev(unit: str) -> float:
    """meV per ``unit`` (an energy: ``eV``, ``kcal/mol``, ``Hartree``...).

    Raises:
        ValueError: unknown, or not an energy (the message names its dimension).
    """
    factor, energy, length = parse_unit(unit)
    if (energy, length) != (1, 0):
        raise ValueError(f"unknown energy unit {unit!r}: it is not an energy (energy^{energy} "
                         f"length^{length}); e.g. {', '.join(ENERGY_UNITS_IN_MEV)}")
    return factor


def canonical_energy_unit(unit: str) -> str:
    """The name of :data:`ENERGY_UNITS_IN_MEV` equal to ``unit`` (``Hartree`` → ``Ha``,
    ``kcal / mol`` → ``kcal/mol``), else ``unit`` itself (stripped)."""
    factor = energy_unit_in_mev(unit)
    for name, value in ENERGY_UNITS_IN_MEV.items():
        if abs(factor - value) <= 1e-9 * value:
            return name
    return unit.strip()


def force_factor(forces_unit: str, energy_unit: str) -> float:
    """Factor from forces in ``forces_unit`` to ``energy_unit`` per Å (``Ha/Bohr`` to ``Ha/Å``:
    1 / 0.529…).

    Raises:
        ValueError: either unit unknown, or ``forces_unit`` is not an energy per length.
    """
    factor, energy, length = parse_unit(forces_unit)
    if (energy, length) != (1, -1):
        raise ValueError(f"forces unit {forces_unit!r} is not an energy per length (e.g. "
                         "'eV/Ang', 'kcal/mol/Ang', 'Ha/Bohr')")
    return factor / energy_unit_in_mev(energy_unit)


def length_in_angstrom(unit: str) -> float:
    """Å per ``unit`` (``Ang``, ``Bohr``, ``nm``...)."""
    factor, energy, length = parse_unit(unit)
    if (energy, length) != (0, 1):
        raise ValueError(f"distance unit {unit!r} is not a length (e.g. 'Ang', 'Bohr')")
    return factor


def energy_in_mev(values: Any, unit: str) -> Any:
    """Convert energies (or forces per Å) from ``unit`` to meV (meV/Å).

    Args:
        values: Numbers, a numpy array or a tensor.
        unit: An energy unit (``"kcal/mol"``, ``"eV"``, ``"meV"``, ``"Ha"``, ``"kJ/mol"``, or
            any that :func:`parse_unit` reads).
    """
    return values * energy_unit_in_mev(unit)
