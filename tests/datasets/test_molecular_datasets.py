"""Molecular readers on the shipped files (rMD17 npz, XYZ, ASE db), splits, units, bad input."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
import torch
from sciml.datasets import (
    KCAL_PER_MOL_IN_MEV,
    QM9_TARGETS,
    energy_in_mev,
    load_md17,
    load_molecule_file,
    load_qm9,
    load_rmd17,
    random_split,
    read_ase_db,
    read_rmd17_npz,
    read_sgdml_npz,
    read_xyz,
    rmd17_archive,
)
from sciml.datasets._molecular_qm9 import _convert, parse_qm9_xyz

from sciml.data import DownloadError
from sciml.errors import ConfigError, DataError
from sciml.registry import DATASETS

ASPIRIN_Z = [6, 6, 6, 6, 6, 6, 6, 8, 8, 8, 6, 6, 8] + [1] * 8


@pytest.fixture
def rmd17_npz(shared_data):
    return shared_data / "molecular" / "rmd17_aspirin_15frames.npz"


def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_rmd17_npz_matches_the_extended_xyz_of_the_same_frames(rmd17_npz, shared_data):
    mols = read_rmd17_npz(rmd17_npz)
    xyz = read_xyz(shared_data / "molecular" / "aspirin.xyz")
    assert len(mols) == len(xyz) == 15
    assert mols.z[0].tolist() == ASPIRIN_Z
    assert mols.pos[3].shape == (21, 3) and mols.forces[3].shape == (21, 3)
    np.testing.assert_allclose(mols.energy, xyz.energy, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.stack(mols.forces), np.stack(xyz.forces), atol=1e-6)
    np.testing.assert_allclose(np.stack(mols.pos), np.stack(xyz.pos), atol=1e-6)
    assert mols.energy_unit == "kcal/mol"


def test_plain_xyz_reads_energy_line_and_force_columns(shared_data):
    mols = read_xyz(shared_data / "molecular" / "ethanol_snip.xyz")
    assert len(mols) == 3
    assert sorted(mols.z[0].tolist()) == [1, 1, 1, 1, 1, 1, 6, 6, 8]
    assert mols.energy[0] == pytest.approx(-97208.40600498248)
    assert mols.forces[0][0, 0] == pytest.approx(1.4517297437249999)
    assert mols.pos[0][0].tolist() == pytest.approx([0.0072, -0.5687, 0.0])


def test_sgdml_layout_and_md17_loader(rmd17_npz, tmp_path):
    a = np.load(rmd17_npz)
    path = _write_npz(tmp_path / "md17_aspirin.npz", z=a["nuclear_charges"], R=a["coords"],
                      E=a["energies"][:, None], F=a["forces"])
    mols = read_sgdml_npz(path)
    np.testing.assert_array_equal(mols.energy, a["energies"])
    data = load_md17(str(path), n_train=10, n_val=2)
    assert (len(data.train), len(data.val), len(data.test)) == (10, 2, 3)
    assert data.species == (1, 6, 8)


def test_graphs_batch_with_pyg_loader(rmd17_npz):
    from torch_geometric.loader import DataLoader

    data = load_rmd17(path=str(rmd17_npz), split=None, n_train=10, n_val=2)
    g = data.train[0]
    assert g.z.dtype == torch.int64 and g.pos.shape == (21, 3) and g.energy.shape == (1,)
    assert g.energy.dtype == torch.float64  # -4e5 kcal/mol would lose 0.03 in float32
    batch = next(iter(DataLoader(data.train, batch_size=5)))
    assert batch.z.shape == (105,) and batch.forces.shape == (105, 3)
    assert batch.energy.shape == (5,) and batch.batch.max().item() == 4
    assert data.energy_to_mev == pytest.approx(KCAL_PER_MOL_IN_MEV)


def _archive_layout(tmp_path, rmd17_npz, train=range(10), test=range(10, 15)):
    folder = tmp_path / "rmd17"
    (folder / "npz_data").mkdir(parents=True)
    (folder / "splits").mkdir()
    shutil.copy(rmd17_npz, folder / "npz_data" / "rmd17_aspirin.npz")
    (folder / "splits" / "index_train_01.csv").write_text("\n".join(map(str, train)) + "\n")
    (folder / "splits" / "index_test_01.csv").write_text("\n".join(map(str, test)) + "\n")
    return folder


def test_official_split_files(tmp_path, rmd17_npz):
    folder = _archive_layout(tmp_path, rmd17_npz, train=[3, 1, 4, 0, 5, 9, 2, 6], test=[7, 8])
    (folder / "splits" / "index_test_01.csv").write_text("index\n7\n8\n")  # a header is skipped
    data = load_rmd17("aspirin", root=str(tmp_path), split=1, n_val=2, download=False)
    assert data.train.indices.tolist() == [3, 1, 4, 0, 5, 9]
    assert data.val.indices.tolist() == [2, 6]
    assert data.test.indices.tolist() == [7, 8]
    assert rmd17_archive(tmp_path, download_missing=False) == folder


def test_missing_split_file_names_the_file(tmp_path, rmd17_npz):
    folder = _archive_layout(tmp_path, rmd17_npz)
    (folder / "splits" / "index_test_01.csv").unlink()
    with pytest.raises(DataError, match=r"index_test_01\.csv is missing"):
        load_rmd17("aspirin", root=str(tmp_path), split=1, n_val=2, download=False)


def test_split_file_out_of_range(tmp_path, rmd17_npz):
    _archive_layout(tmp_path, rmd17_npz, train=[0, 1, 99])
    with pytest.raises(DataError, match=r"index_train_01\.csv.*15 frames"):
        load_rmd17("aspirin", root=str(tmp_path), split=1, n_val=1, download=False)


def test_offline_archive_error_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError, match=r"place it at .*rmd17\.tar\.bz2"):
        rmd17_archive(tmp_path, download_missing=False)


def test_corrupt_archive_fails_the_checksum(tmp_path):
    (tmp_path / "rmd17.tar.bz2").write_bytes(b"not the archive")
    with pytest.raises(DownloadError, match="does not start with cddeea2ec2c4"):
        rmd17_archive(tmp_path, download_missing=False)


@pytest.mark.parametrize("case, match", [
    ("atoms", r"coords.*21 atoms per frame but 'nuclear_charges' has 20.*mismatched"),
    ("forces", r"'forces' has shape .*mismatched"),
    ("element", r"unknown element \(atomic number 200"),
    ("nan", r"frame 4, atom 2 has NaN"),
    ("key", r"key 'forces' is missing"),
])
def test_bad_npz_files(tmp_path, rmd17_npz, case, match):
    a = {k: np.array(v) for k, v in np.load(rmd17_npz).items()}
    if case == "atoms":
        a["nuclear_charges"] = a["nuclear_charges"][:20]
    elif case == "forces":
        a["forces"] = a["forces"][:, :20]
    elif case == "element":
        a["nuclear_charges"][3] = 200
    elif case == "nan":
        a["coords"][4, 2, 1] = np.nan
    else:
        del a["forces"]
    path = _write_npz(tmp_path / "bad.npz", **a)
    with pytest.raises(DataError, match=match) as info:
        read_rmd17_npz(path)
    assert "bad.npz" in str(info.value)


def test_bad_xyz_files(tmp_path, shared_data):
    text = (shared_data / "molecular" / "ethanol_snip.xyz").read_text().splitlines()
    unknown = tmp_path / "unknown.xyz"
    unknown.write_text("\n".join(text[:2] + ["Xx" + text[2][1:]] + text[3:]) + "\n")
    with pytest.raises(DataError, match=r"unknown\.xyz: frame 0 has unknown element 'Xx'"):
        read_xyz(unknown)
    short = tmp_path / "short.xyz"
    short.write_text("\n".join(text[:-1]) + "\n")  # last frame one atom line short
    with pytest.raises(DataError, match=r"short\.xyz: frame 2 declares 9 atoms"):
        read_xyz(short)
    nan = tmp_path / "nan.xyz"
    nan.write_text("\n".join(text[:3] + [text[3].replace("-1.2854", "nan")] + text[4:]) + "\n")
    with pytest.raises(DataError, match=r"nan\.xyz: frame 0, atom 1 has NaN"):
        read_xyz(nan)


def test_singular_periodic_cell_is_an_error(tmp_path):
    path = tmp_path / "cell.xyz"
    path.write_text('2\nLattice="1 0 0 2 0 0 0 0 1" Properties=species:S:1:pos:R:3 energy=1.0 '
                    'pbc="T T T"\nH 0 0 0\nH 0.5 0 0\n')
    with pytest.raises(DataError, match=r"cell\.xyz: frame 0 is periodic but its cell .* singular"):
        read_xyz(path)


def test_ase_missing_names_the_extra(monkeypatch, shared_data):
    monkeypatch.setitem(sys.modules, "ase", None)
    with pytest.raises(ImportError, match=r"sciml\[molecular\]"):
        read_xyz(shared_data / "molecular" / "aspirin.xyz")


def test_xyz_and_db_files_through_the_registry(shared_data):
    data = DATASETS.build("molecule_file", {"path": str(shared_data / "molecular" / "aspirin.xyz"),
                                            "n_train": 10, "n_val": 2})
    assert len(data.train) == 10 and data.train[0].forces.shape == (21, 3)
    with pytest.raises(ConfigError, match="valid keys"):
        DATASETS.build("rmd17", {"molecule": "aspirin", "bogus": 1})
    with pytest.raises(ConfigError, match="unknown rMD17 molecule"):
        load_rmd17("caffeine")
    # schnetpack's QM9 database has no property named energy: the error lists what it has
    with pytest.raises(DataError, match=r"test_qm9\.db: no energy under 'energy'; the file "
                       r"holds .*energy_U0.*set data\.options\.energy_key"):
        load_molecule_file(str(shared_data / "molecular" / "test_qm9.db"), n_train=10, n_val=2)


# ------------------------------------------------------------------------------------------ QM9

# dsgdb9nsd_000001.xyz of the QM9 release (methane), in the release's format; its positions and
# properties are row 0 of schnetpack's test_qm9.db.
_CH4 = "\n".join([
    "5",
    "gdb 1\t157.7118\t157.70997\t157.70699\t0.\t13.21\t-0.3877\t0.1171\t0.5048\t35.3641\t"
    "0.044749\t-40.47893\t-40.476062\t-40.475117\t-40.498597\t6.469",
    "C\t-0.0126981359\t 1.0858041578\t 0.0080009958\t-0.535689",
    "H\t 0.002150416\t-0.0060313176\t 0.0019761204\t 0.133921",
    "H\t 1.0117308433\t 1.4637511618\t 0.0002765748\t 0.133922",
    "H\t-0.540815069\t 1.4475266138\t-0.8766437152\t 0.133923",
    "H\t-0.5238136345\t 1.4379326443\t 0.9063972942\t 0.133923",
    "1341.307\t1341.3284\t1341.365\t1562.6731\t1562.7453\t3038.3205\t3151.6034\t3151.6788\t"
    "3151.7078",
    "C\tC",
    "InChI=1S/CH4/h1H4\tInChI=1S/CH4/h1H4",
]) + "\n"


def test_qm9_db_and_release_parser_agree_on_methane(shared_data):
    db = shared_data / "molecular" / "test_qm9.db"
    z, pos, raw = parse_qm9_xyz(_CH4, "dsgdb9nsd_000001.xyz")
    from_release = _convert(raw[None], [z])[0]
    for j, name in enumerate(QM9_TARGETS):
        data = load_qm9(name, path=str(db), n_train=12, n_val=4)
        assert data.targets == (name,) and data.target_units == (QM9_TARGETS[name][0],)
        y = data.train.y[0, 0]  # row 0 of the database is methane
        assert y == pytest.approx(from_release[j], rel=1e-5, abs=1e-6), name
    # PyG's QM9 U0_atom of methane: -17.1722 eV (U0 minus the free-atom energies)
    assert from_release[list(QM9_TARGETS).index("U0")] == pytest.approx(-17.1722, abs=1e-3)
    assert from_release[list(QM9_TARGETS).index("homo")] == pytest.approx(-0.3877 * 27.2114,
                                                                        rel=1e-5)
    assert z.tolist() == [6, 1, 1, 1, 1]
    np.testing.assert_allclose(pos, read_ase_db(db)[0].pos[0], atol=1e-9)


def test_qm9_split_and_errors(shared_data):
    db = str(shared_data / "molecular" / "test_qm9.db")
    data = load_qm9("gap", path=db, n_train=12, n_val=4)
    idx = np.concatenate([data.train.indices, data.val.indices, data.test.indices])
    assert sorted(idx.tolist()) == list(range(20))
    perm = np.random.RandomState(42).permutation(20)
    np.testing.assert_array_equal(data.train.indices, perm[:12])
    assert data.species == (1, 6, 7, 8)
    with pytest.raises(ConfigError, match="unknown QM9 target"):
        load_qm9("epsilon", path=db)
    with pytest.raises(ConfigError, match="leave"):
        load_qm9("gap", path=db)  # 110000 training molecules of 20
    with pytest.raises(DataError, match="unknown element 'Cl'"):
        parse_qm9_xyz(_CH4.replace("\nC\t-0.01", "\nCl\t-0.01"), "x.xyz")


def test_random_split_is_seeded_and_disjoint():
    a = random_split(100, 60, 10, seed=3)
    b = random_split(100, 60, 10, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert len(set(np.concatenate(a).tolist())) == 100


def test_units():
    import ase.units

    kcal_mol_in_ev = ase.units.kcal / ase.units.mol / ase.units.eV
    assert KCAL_PER_MOL_IN_MEV == pytest.approx(1000 * kcal_mol_in_ev, rel=1e-6)
    assert energy_in_mev(2.0, "eV") == 2000.0
    assert energy_in_mev(1.0, "Ha") == pytest.approx(1000 * ase.units.Hartree, rel=1e-6)
    assert energy_in_mev(1.0, "kJ/mol") == pytest.approx(1000 * ase.units.kJ / ase.units.mol,
                                                        rel=1e-6)
    with pytest.raises(ValueError, match="unknown unit 'kJoule'"):
        energy_in_mev(1.0, "kJoule")
    with pytest.raises(ValueError, match="unknown energy unit 'eV/Ang': it is not an energy"):
        energy_in_mev(1.0, "eV/Ang")


def test_qm9_release_archive_is_parsed_into_the_cache(tmp_path, monkeypatch):
    """A three-molecule stand-in for dsgdb9nsd.xyz.tar.bz2 (checksum and exclusion count
    patched): the excluded molecule is dropped, the others parsed, cached as HDF5 and loaded."""
    import io
    import tarfile

    import sciml.datasets._molecular_qm9 as q

    files = {"dsgdb9nsd_000001.xyz": _CH4}
    for k, homo in ((2, "-0.3000"), (3, "-0.2500")):
        files[f"dsgdb9nsd_00000{k}.xyz"] = _CH4.replace("gdb 1\t", f"gdb {k}\t").replace(
            "\t-0.3877\t", f"\t{homo}\t")
    with tarfile.open(tmp_path / "dsgdb9nsd.xyz.tar.bz2", "w:bz2") as tf:
        for name, text in files.items():
            blob = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    (tmp_path / "uncharacterized.txt").write_text("header\n   1  0.5 ...\n")
    monkeypatch.setattr(q, "QM9_SHA256_PREFIX", "")
    monkeypatch.setattr(q, "_N_EXCLUDED", 1)
    cached = q.qm9_release(tmp_path, download_missing=False)
    data = load_qm9("homo", root=str(tmp_path), n_train=1, n_val=0, download=False)
    assert cached.name == "qm9.h5" and (len(data.train), len(data.test)) == (1, 1)
    # molecules 2 and 3 remain, in the order of their gdb index
    np.testing.assert_allclose(data.train.y[:, 0], [-0.3 * 27.211386, -0.25 * 27.211386],
                               rtol=1e-6)
    assert data.species == (1, 6)
    monkeypatch.setattr(q, "QM9_SHA256_PREFIX", "ffffffffffff")
    (tmp_path / "qm9.h5").unlink()
    with pytest.raises(DownloadError, match="does not start with ffffffffffff"):
        q.qm9_release(tmp_path, download_missing=False)
