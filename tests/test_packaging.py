"""solvers/ and datasets/ install inside the sciml namespace only (DESIGN.md, Layout)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sciml.datasets
import sciml.solvers

REPO = Path(__file__).resolve().parents[1]


def test_namespaced_imports_come_from_the_top_level_folders():
    assert Path(sciml.solvers.__file__).parent == REPO / "solvers"
    assert Path(sciml.datasets.__file__).parent == REPO / "datasets"


def test_no_top_level_solvers_or_datasets_package_is_installed(tmp_path):
    # Run from an empty folder so the repository root is not on sys.path.
    code = (
        "import importlib.util as u; d = u.find_spec('datasets'); "
        "print(u.find_spec('solvers') is None, d is None or 'site-packages' in (d.origin or ''))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["True", "True"]


@pytest.mark.slow
def test_wheel_layout(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path)], check=True)
    (wheel,) = tmp_path.glob("sciml-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"sciml", wheel.name.split("-py")[0] + ".dist-info"}
    assert "sciml/solvers/__init__.py" in names and "sciml/datasets/__init__.py" in names
    assert any(n.startswith("sciml/recipes/") and n.endswith(".yaml") for n in names)
    assert importlib.util.find_spec("sciml") is not None
