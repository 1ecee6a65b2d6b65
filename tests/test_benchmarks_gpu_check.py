"""benchmarks/gpu_check.py (make gpu-check): the CPU dry run, end to end, and its refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.py"
STEPS = ["device", "install", "pytest-gpu", "kernels", "ponita"]


def test_dry_run_runs_every_step_and_writes_its_records_folder(tmp_path, shared_data):
    out = tmp_path / "gpu"
    ours = REPO / "benchmarks"
    before = sorted((ours / "records").rglob("*")), (ours / "RESULTS.md").read_bytes()
    res = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--out", str(out)],
                         cwd=REPO, capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    summary = json.loads((out / "gpu-check.json").read_text(encoding="utf-8"))
    assert summary["dry_run"] is True and summary["ok"] is True
    assert [s["name"] for s in summary["steps"]] == STEPS
    assert all(s["rc"] == 0 for s in summary["steps"])
    assert summary["seconds"] < summary["budget_s"] == 480
    install = summary["steps"][1]
    assert install["command"] is None  # a dry run installs nothing
    assert "pip install --no-deps --no-build-isolation -e ." in install["note"]
    script = (out / "logs" / "install.sh").read_text(encoding="utf-8")
    lines = script.splitlines()
    assert lines[0] == "set -e"
    assert lines[-1].endswith("-m pip install --no-deps --no-build-isolation -e .")
    for line in lines[1:-1]:  # the wheels: only from the carried folder, never torch
        assert "pip install --no-index --find-links" in line and "torch" not in line
    # pytest collected exactly the gpu-marked tests of the files that have them
    collected = (out / "logs" / "pytest-gpu.log").read_text(encoding="utf-8")
    assert "tests/kernels/test_triton.py::test_gather_scatter_on_gpu_matches_cpu" in collected
    assert "test_triton_kernel_matches_reference_in_interpreter" not in collected
    # both benchmarks recorded into the folder, marked quick, so the page there has no row
    for bench in ("kernels", "ponita_vs_mace"):
        (path,) = (out / "records" / bench).glob("*.json")
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["quick"] is True and record["machine"]["device"] == "cpu"
        assert f'<a id="{record["log"]["anchor"]}"></a>' in (out / "RESULTS.md").read_text(
            encoding="utf-8")
    page = (out / "README.md").read_text(encoding="utf-8")
    assert not [line for line in page.splitlines() if line.startswith("| kernels |")]
    # nothing was written into the repository's own results
    assert (sorted((ours / "records").rglob("*")), (ours / "RESULTS.md").read_bytes()) == before


def test_without_cuda_the_real_run_stops_at_the_device_step(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "gpu"
    res = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    summary = json.loads((out / "gpu-check.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in summary["steps"]] == ["device"] and summary["ok"] is False
    assert "sees no CUDA device" in summary["steps"][0]["note"]
    assert "\n" not in summary["steps"][0]["note"]


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    res = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--out", str(target)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and f"--out {target} is a file" in res.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_target_runs_the_script_with_the_machines_python():
    # --no-print-directory: under `make test` (CI) a nested make announces its directory
    res = subprocess.run(["make", "--no-print-directory", "-n", "gpu-check", "OUT=/tmp/g",
                          "GPU_CHECK_FLAGS=--dry-run"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "python3 benchmarks/gpu_check.py --out /tmp/g --dry-run"
