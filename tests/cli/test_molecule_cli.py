"""Molecules from the user's own files on the command line: a recipe pointed at an ASE database
written in schnetpack's layout, fit → report with the units named → eval → predict; the shipped
molecules-ponita recipe pointed at an XYZ file with one --set; bad input as one-line errors."""

from __future__ import annotations

import json

import ase
import ase.db
import ase.io
import numpy as np
import pytest
import yaml

from sciml.cli import main
from sciml.data import read_hdf5

TINY = {"name": "ponita", "hidden_size": 8, "n_layers": 1, "num_ori": 4, "basis_dim": 8,
        "task_level": "graph"}
TINY_SETS = [f"--set=model.{k}={v}" for k, v in TINY.items() if k != "name"]


@pytest.fixture
def schnetpack_db(shared_data, tmp_path):
    """The aspirin frames as schnetpack writes them: row.data, units in the metadata."""
    path = tmp_path / "aspirin_spk.db"
    db = ase.db.connect(str(path))
    with db:
        for a in ase.io.read(shared_data / "molecular" / "aspirin.xyz", index=":"):
            data = {"energy": np.array([a.get_potential_energy()]), "forces": a.get_forces()}
            db.write(ase.Atoms(a.numbers, positions=a.positions), data=data)
    db.metadata = {"_property_unit_dict": {"energy": "kcal/mol", "forces": "kcal/mol/Ang"},
                   "_distance_unit": "Ang"}
    return path


def test_own_database_fit_eval_predict(schnetpack_db, shared_data, tmp_path, capsys):
    recipe = tmp_path / "my_molecules.yaml"
    recipe.write_text(yaml.safe_dump({
        "task": "molecular",
        "data": {"name": "molecule_file", "options": {"path": str(schnetpack_db)}},
        "model": TINY,
        "train": {"max_epochs": 2, "batch_size": 6,
                  "scheduler": {"name": "warmup_cosine", "warmup": 0.1}},
    }))
    run = tmp_path / "run"
    assert main(["fit", str(recipe), "--run-dir", str(run), "--quiet"]) == 0
    assert "test/energy_mae" in capsys.readouterr().out
    report = json.loads((run / "report.json").read_text())
    units = {"energy": "kcal/mol", "forces": "kcal/mol/Å", "positions": "Å",
             "from": "stated in the file (metadata _property_unit_dict)"}
    assert report["data_units"] == units
    assert report["read_from"] == {"energy": "row.data 'energy'", "forces": "row.data 'forces'"}
    assert report["units"] == {"test/energy_mae": "meV", "test/force_mae": "meV/Å"}
    assert (report["n_train"], report["n_val"], report["n_test"]) == (12, 1, 2)
    assert np.isfinite(report["test"]["test/force_mae"]) and "note" not in report

    assert main(["eval", str(run)]) == 0
    evaluated = json.loads((run / "eval.json").read_text())
    assert evaluated["data_units"] == units
    assert evaluated["test"]["test/energy_mae"] == pytest.approx(
        report["test"]["test/energy_mae"], rel=1e-6)

    out = tmp_path / "out"
    assert main(["predict", str(run), "--input", str(shared_data / "molecular" / "aspirin.xyz"),
                 "--output", str(out)]) == 0
    arrays, attrs = read_hdf5(out / "prediction.h5")
    assert arrays["energy"].shape == (15,) and arrays["forces"].shape == (15 * 21, 3)
    params = attrs["sciml_params"]
    assert params["energy_unit"] == "kcal/mol" and params["forces_unit"] == "kcal/mol/Å"


def test_shipped_recipe_pointed_at_an_xyz_file(shared_data, tmp_path):
    """molecules-ponita with the path set (and, since nequip's aspirin.xyz states no unit while
    holding kcal/mol, the unit given); the rest are small-model settings for the test."""
    run = tmp_path / "run"
    xyz = shared_data / "molecular" / "aspirin.xyz"
    assert main(["fit", "molecules-ponita", f"--set=data.options.path={xyz}",
                 "--set=data.options.energy_unit=kcal/mol", *TINY_SETS,
                 "--set=train.max_epochs=1", "--run-dir", str(run), "--quiet"]) == 0
    report = json.loads((run / "report.json").read_text())
    assert report["data_units"]["energy"] == "kcal/mol"
    assert report["data_units"]["from"] == "given as energy_unit"
    assert report["read_from"] == {"energy": "comment key 'energy'",
                                   "forces": "per-atom column 'forces'"}


@pytest.mark.parametrize("recipe, sets, expected", [
    ("molecules-ponita", [], "missing key data.options.path"),
    ("rmd17-ponita", ["data.options.path={qm9}", "data.options.split=null"],
     "test_qm9.db: expected an rMD17 npz archive, but the file is an SQLite database"),
    ("molecules-ponita", ["data.options.path={qm9}"],
     "test_qm9.db: no energy under 'energy'; the file holds dipole_moment"),
    ("molecules-ponita", ["data.options.path={qm9}", "data.options.energy_key=energy_U0",
                          "data.options.energy_unit=eV"],
     "energy_unit='eV', but {qm9} states 'Ha' (metadata _property_unit_dict)"),
])
def test_bad_molecule_input_is_one_line(recipe, sets, expected, shared_data, tmp_path, capsys):
    qm9 = shared_data / "molecular" / "test_qm9.db"
    run = tmp_path / "run"
    args = [f"--set={s.format(qm9=qm9)}" for s in sets]
    assert main(["fit", recipe, *args, "--run-dir", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert expected.format(qm9=qm9) in err and len(err.splitlines()) == 1, err
    assert not (run / "recipe.yaml").exists()
