"""The user's own molecule files: every layout other tools write (ASE calculator results,
schnetpack's row.data with units in the metadata, key-value pairs, extended XYZ with and without
unit keys, sGDML npz with e_unit / r_unit), units read from the file and the same in every code
path, energy-only files, the reader picked by the suffix, and bad input."""

from __future__ import annotations

import ase
import ase.db
import ase.io
import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from sciml.datasets import (
    KCAL_PER_MOL_IN_MEV,
    load_molecule_file,
    load_rmd17,
    read_ase_db,
    read_molecule_file,
    read_npz,
    read_xyz,
)
from sciml.datasets._molecular_units import (
    BOHR_IN_ANGSTROM,
    HARTREE_IN_EV,
    canonical_energy_unit,
    force_factor,
    parse_unit,
)

from sciml.errors import ConfigError, DataError
from sciml.registry import DATASETS

SCHNETPACK_UNITS = {"energy": "kcal/mol", "forces": "kcal/mol/Ang"}


@pytest.fixture
def frames(shared_data):
    """The 15 MD17 aspirin frames (kcal/mol, kcal/mol/Å), read by ase itself."""
    out = ase.io.read(shared_data / "molecular" / "aspirin.xyz", index=":")
    energy = np.array([a.get_potential_energy() for a in out])
    forces = np.stack([a.get_forces() for a in out])
    return out, energy, forces


def _bare(atoms):
    return ase.Atoms(atoms.numbers, positions=atoms.positions)


def write_calculator_db(path, frames, energy, forces):
    """Rows with calculator results, as ``db.write(atoms)`` after a calculation."""
    with ase.db.connect(str(path)) as db:
        for atoms, e, f in zip(frames, energy, forces, strict=True):
            a = _bare(atoms)
            a.calc = SinglePointCalculator(a, energy=float(e), forces=f)
            db.write(a)
    return path


def write_schnetpack_db(path, frames, energy, forces, units=None, distance_unit="Ang"):
    """schnetpack's ASEAtomsData layout: properties in row.data, units in the metadata."""
    db = ase.db.connect(str(path))
    with db:
        for atoms, e, f in zip(frames, energy, forces, strict=True):
            data = {"energy": np.array([e])}
            if f is not None:
                data["forces"] = f
            db.write(_bare(atoms), data=data)
    db.metadata = {"_property_unit_dict": units or SCHNETPACK_UNITS,
                   "_distance_unit": distance_unit, "atomrefs": {}}
    return path


def test_schnetpack_db_reads_row_data_in_the_units_of_its_metadata(tmp_path, frames):
    atoms, energy, forces = frames
    path = write_schnetpack_db(tmp_path / "aspirin_spk.db", atoms, energy, forces)
    mols, props, meta = read_ase_db(path)
    assert mols.energy_unit == "kcal/mol" and "_property_unit_dict" in mols.units_from
    np.testing.assert_allclose(mols.energy, energy)
    np.testing.assert_allclose(np.stack(mols.forces), forces)
    assert mols.read_from == {"energy": "row.data 'energy'", "forces": "row.data 'forces'"}
    data = DATASETS.build("molecule_file", {"path": str(path)})
    assert data.energy_unit == "kcal/mol" and data.energy_to_mev == pytest.approx(
        KCAL_PER_MOL_IN_MEV)
    assert (len(data.train), len(data.val), len(data.test)) == (12, 1, 2)  # 80 / 10 / rest
    # the file's statement wins over nothing, and contradicting it is an error, not a guess
    assert read_ase_db(path, energy_unit="kcal/mol")[0].energy_unit == "kcal/mol"
    with pytest.raises(ConfigError, match=r"energy_unit='eV', but .*aspirin_spk\.db states "
                       r"'kcal/mol' \(metadata _property_unit_dict\)"):
        load_molecule_file(str(path), energy_unit="eV")


def test_one_file_has_one_unit_in_every_code_path(tmp_path, frames):
    """The calculator layout states no unit: ASE's convention (eV) in the reader, the data set
    and prediction alike (the loader used to assume kcal/mol for the same file)."""
    atoms, energy, forces = frames
    path = write_calculator_db(tmp_path / "calc.db", atoms, energy, forces)
    from sciml.tasks.molecular import read_molecules

    units = {read_ase_db(path)[0].energy_unit, read_molecule_file(path).energy_unit,
             load_molecule_file(str(path)).energy_unit, read_molecules(path).energy_unit}
    assert units == {"eV"}
    mols = read_molecule_file(path)
    assert "ASE database convention (eV" in mols.units_from
    assert mols.read_from["energy"] == "calculator results 'energy'"
    np.testing.assert_allclose(np.stack(mols.forces), forces)
    told = load_molecule_file(str(path), energy_unit="kcal/mol")
    assert told.energy_unit == "kcal/mol" and told.energy_to_mev == pytest.approx(43.364, rel=1e-4)
    assert told.train.molecules.units_from == "given as energy_unit"


def test_key_value_pair_energies_are_an_energy_only_data_set(tmp_path, frames):
    atoms, energy, _ = frames
    path = tmp_path / "kvp.db"
    with ase.db.connect(str(path)) as db:
        for a, e in zip(atoms, energy, strict=True):
            db.write(_bare(a), dft_energy=float(e))
    data = load_molecule_file(str(path), energy_key="dft_energy", energy_unit="kcal/mol")
    mols = data.train.molecules
    assert mols.forces is None and mols.read_from == {"energy": "key-value pair 'dft_energy'"}
    np.testing.assert_allclose(mols.energy, energy)
    assert mols.units() == {"energy": "kcal/mol", "forces": None, "positions": "Å",
                            "from": "given as energy_unit"}
    with pytest.raises(DataError, match=r"kvp\.db: no forces under 'forces'; the file holds "
                       r"dft_energy"):
        read_ase_db(path, energy_key="dft_energy", forces_key="forces")


def test_qm9_database_energies_in_hartree_from_its_metadata(shared_data):
    """schnetpack's own test_qm9.db: U0 in row.data, 'Ha' in _property_unit_dict."""
    db = shared_data / "molecular" / "test_qm9.db"
    data = load_molecule_file(str(db), energy_key="energy_U0")
    mols = data.train.molecules
    assert data.energy_unit == "Ha" and mols.forces is None
    assert mols.units_from == "stated in the file (metadata _property_unit_dict)"
    assert mols.energy[0] == pytest.approx(-40.47893)  # methane, as in the QM9 release
    assert data.energy_to_mev == pytest.approx(HARTREE_IN_EV * 1000)


def test_hartree_per_bohr_forces_and_bohr_positions_are_converted(tmp_path, frames):
    atoms, energy, forces = frames
    e_ha = energy * KCAL_PER_MOL_IN_MEV / (HARTREE_IN_EV * 1000)
    f_ha_bohr = forces * KCAL_PER_MOL_IN_MEV / (HARTREE_IN_EV * 1000) * BOHR_IN_ANGSTROM
    in_bohr = [ase.Atoms(a.numbers, positions=a.positions / BOHR_IN_ANGSTROM) for a in atoms]
    path = write_schnetpack_db(tmp_path / "au.db", in_bohr, e_ha, f_ha_bohr,
                               units={"energy": "Hartree", "forces": "Hartree/Bohr"},
                               distance_unit="Bohr")
    mols = read_molecule_file(path)
    assert mols.energy_unit == "Ha"
    assert "forces converted from Hartree/Bohr to Ha/Å" in mols.units_from
    assert "positions converted from Bohr to Å" in mols.units_from
    np.testing.assert_allclose(np.stack(mols.pos), np.stack([a.positions for a in atoms]),
                               atol=1e-9)
    # energies and forces in meV and meV/Å are the file's, whatever unit it used
    np.testing.assert_allclose(mols.energy * HARTREE_IN_EV * 1000, energy * KCAL_PER_MOL_IN_MEV,
                               rtol=1e-12)
    np.testing.assert_allclose(np.stack(mols.forces) * HARTREE_IN_EV * 1000,
                               forces * KCAL_PER_MOL_IN_MEV, rtol=1e-9, atol=1e-9)


def test_extended_xyz_unit_comment_keys_and_other_names(tmp_path, frames):
    atoms, energy, forces = frames
    stated, named = [], []
    for a, e, f in zip(atoms, energy, forces, strict=True):
        b = _bare(a)
        b.calc = SinglePointCalculator(b, energy=float(e), forces=f)
        b.info["energy_unit"] = "kcal/mol"
        b.info["forces_unit"] = "kcal/mol/Ang"
        stated.append(b)
        c = _bare(a)
        c.info["REF_energy"] = float(e)
        c.arrays["REF_forces"] = f
        named.append(c)
    ase.io.write(tmp_path / "stated.extxyz", stated, format="extxyz")
    ase.io.write(tmp_path / "named.xyz", named, format="extxyz")
    assert "energy_unit=kcal/mol" in (tmp_path / "stated.extxyz").read_text().splitlines()[1]
    mols = read_molecule_file(tmp_path / "stated.extxyz")
    assert mols.energy_unit == "kcal/mol" and "comment keys" in mols.units_from
    mols = read_xyz(tmp_path / "named.xyz", energy_key="REF_energy", forces_key="REF_forces")
    assert mols.energy_unit == "eV" and "extended XYZ convention" in mols.units_from
    assert mols.read_from == {"energy": "comment key 'REF_energy'",
                              "forces": "per-atom column 'REF_forces'"}
    np.testing.assert_allclose(np.stack(mols.forces), forces)
    assert read_xyz(tmp_path / "named.xyz").energy is None  # no property named energy
    with pytest.raises(DataError, match=r"named\.xyz: no energy under 'energy'; the file holds "
                       r"REF_energy, REF_forces"):
        load_molecule_file(str(tmp_path / "named.xyz"))


def test_energy_only_extended_xyz(tmp_path, frames):
    atoms, energy, _ = frames
    out = []
    for a, e in zip(atoms, energy, strict=True):
        b = _bare(a)
        b.calc = SinglePointCalculator(b, energy=float(e))
        out.append(b)
    ase.io.write(tmp_path / "energies.xyz", out, format="extxyz")
    data = load_molecule_file(str(tmp_path / "energies.xyz"), energy_unit="kcal/mol")
    assert data.train.molecules.forces is None and "forces" not in data.train[0]
    np.testing.assert_allclose(data.train.molecules.energy, energy)


def test_sgdml_npz_units_keys_and_energy_only_npz(tmp_path, shared_data):
    a = np.load(shared_data / "molecular" / "rmd17_aspirin_15frames.npz")
    np.savez(tmp_path / "ev.npz", z=a["nuclear_charges"], R=a["coords"] / 10, E=a["energies"],
             F=a["forces"], e_unit="eV", r_unit="nm")
    mols = read_npz(tmp_path / "ev.npz")
    assert mols.energy_unit == "eV" and "stated in the file (e_unit / r_unit)" in mols.units_from
    np.testing.assert_allclose(np.stack(mols.pos), a["coords"], rtol=1e-12)
    np.testing.assert_allclose(np.stack(mols.forces), a["forces"] / 10, rtol=1e-12)  # eV/nm
    np.savez(tmp_path / "energies.npz", nuclear_charges=a["nuclear_charges"],
             coords=a["coords"], old_energies=a["energies"])
    data = load_molecule_file(str(tmp_path / "energies.npz"), energy_key="old_energies")
    assert data.energy_unit == "kcal/mol" and data.train.molecules.forces is None


def test_the_suffix_picks_the_reader_and_content_is_checked(tmp_path, shared_data):
    db = shared_data / "molecular" / "test_qm9.db"
    disguised = tmp_path / "molecules.npz"
    disguised.write_bytes(db.read_bytes())
    for call in (lambda: read_molecule_file(disguised),
                 lambda: load_rmd17(path=str(disguised), split=None, n_train=10, n_val=2)):
        with pytest.raises(DataError, match=r"molecules\.npz: expected an? .*npz archive, but "
                           r"the file is an SQLite database \(an ASE \.db\)"):
            call()
    with pytest.raises(DataError, match=r"test_qm9\.db: expected an rMD17 npz archive, but the "
                       r"file is an SQLite database"):
        load_rmd17(path=str(db), split=None, n_train=10, n_val=2)
    npz_as_db = tmp_path / "frames.db"
    npz_as_db.write_bytes((shared_data / "molecular" / "rmd17_aspirin_15frames.npz").read_bytes())
    with pytest.raises(DataError, match=r"frames\.db: expected an ASE database .*zip archive"):
        read_molecule_file(npz_as_db)
    (tmp_path / "frames.pdb").write_text("ATOM\n")
    with pytest.raises(DataError, match=r"unknown molecule file suffix '\.pdb'; known: \.npz"):
        read_molecule_file(tmp_path / "frames.pdb")
    with pytest.raises(FileNotFoundError, match="no molecule file at"):
        read_molecule_file(tmp_path / "missing.xyz")


def test_bad_molecule_files(tmp_path, frames, shared_data):
    atoms, energy, forces = frames
    mixed = tmp_path / "mixed.db"
    with ase.db.connect(str(mixed)) as db:
        for i, a in enumerate(atoms[:4]):
            b = _bare(a)
            b.calc = SinglePointCalculator(b, energy=float(energy[i]),
                                           **({"forces": forces[i]} if i != 2 else {}))
            db.write(b)
    with pytest.raises(DataError, match=r"mixed\.db: row 2 has no 'forces' but row 0 has"):
        read_molecule_file(mixed)
    text = tmp_path / "text.db"
    with ase.db.connect(str(text)) as db:
        db.write(_bare(atoms[0]), dft_energy="high")
    with pytest.raises(DataError, match=r"text\.db: 'dft_energy' of molecule 0 is 'high', not "
                       "one number"):
        read_molecule_file(text, energy_key="dft_energy")
    spk = write_schnetpack_db(tmp_path / "odd.db", atoms[:3], energy[:3], forces[:3],
                              units={"energy": "kcal/mol", "forces": "kcal/mol"})
    with pytest.raises(ConfigError, match=r"odd\.db: metadata _property_unit_dict: forces unit "
                       r"'kcal/mol' is not an energy per length"):
        read_molecule_file(spk)
    spk = write_schnetpack_db(tmp_path / "furlong.db", atoms[:3], energy[:3], forces[:3],
                              units={"energy": "furlong", "forces": "eV/Ang"})
    with pytest.raises(ConfigError, match=r"furlong\.db: metadata _property_unit_dict energy "
                       r"unit: unknown unit 'furlong'"):
        read_molecule_file(spk)
    with pytest.raises(ConfigError, match=r"ethanol_snip\.xyz is a plain XYZ file .*"
                       r"energy_key='E' applies to extended XYZ"):
        read_xyz(shared_data / "molecular" / "ethanol_snip.xyz", energy_key="E")
    lines = (shared_data / "molecular" / "aspirin.xyz").read_text().splitlines()
    lines[1] = lines[1] + " energy_unit=eV"  # the first frame only
    (tmp_path / "halfway.xyz").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"halfway\.xyz: frame 1 has no energy_unit= but others "
                       "state 'eV'"):
        read_xyz(tmp_path / "halfway.xyz")
    one = tmp_path / "one.db"
    write_calculator_db(one, atoms[:1], energy[:1], forces[:1])
    with pytest.raises(ConfigError, match=r"one\.db: 1 molecule; training and testing need"):
        load_molecule_file(str(one))
    with pytest.raises(ConfigError, match="unknown key data.options.energy_keys"):
        DATASETS.build("molecule_file", {"path": str(one), "energy_keys": "e"},
                       where="data.options")


@pytest.mark.parametrize("text, expected", [
    ("kcal/mol", (KCAL_PER_MOL_IN_MEV, 1, 0)),
    ("kcal/mol/Ang", (KCAL_PER_MOL_IN_MEV, 1, -1)),
    ("Hartree/Bohr", (HARTREE_IN_EV * 1000 / BOHR_IN_ANGSTROM, 1, -1)),
    ("eV*Ang^-1", (1000.0, 1, -1)),
    ("Ha/a0", (HARTREE_IN_EV * 1000 / BOHR_IN_ANGSTROM, 1, -1)),
    ("a0^3", (BOHR_IN_ANGSTROM ** 3, 0, 3)),
    ("eV / Å", (1000.0, 1, -1)),
])
def test_unit_strings(text, expected):
    factor, energy, length = parse_unit(text)
    assert factor == pytest.approx(expected[0], rel=1e-12) and (energy, length) == expected[1:]


def test_unit_names_agree_with_ase():
    import ase.units as u

    assert canonical_energy_unit("Hartree") == "Ha" and canonical_energy_unit("eV") == "eV"
    assert canonical_energy_unit(" kcal / mol ") == "kcal/mol"
    assert force_factor("Hartree/Bohr", "eV") == pytest.approx(u.Hartree / u.Bohr, rel=1e-6)
    assert force_factor("kcal/mol/Ang", "eV") == pytest.approx(u.kcal / u.mol, rel=1e-6)
    with pytest.raises(ValueError, match="unknown unit 'eV per Ang'"):
        parse_unit("eV per Ang")
