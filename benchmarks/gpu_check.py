"""`make gpu-check`: the GPU checks in one script, for a CUDA machine that cannot download anything.

The machine is expected to have torch (a CUDA build), torch-geometric, e3nn, scipy, h5py, xarray
and numba. Everything else the checks import travels with the checkout in the carry folder
``.gpu-check/`` (ignored by git), made here with network access by ``--prepare``: wheels for
pytest, pyyaml, jaxtyping, pyamg and their small dependencies (plus setuptools and wheel for the
editable install), for CPython 3.10 to 3.13, and the shipped rMD17 aspirin frames that the PONITA
step reads. Send it along with the checkout (the device tool's ``carry: [".gpu-check"]``).

Steps, run in order with their own time limits and 8 minutes (``--budget``) for all of them:

1. ``device``: torch's version and the CUDA device's name (recorded: the card).
2. ``install``: into the interpreter that has torch, the packages that do not import yet, from
   ``.gpu-check/wheels`` only (``pip --no-index``), then sciml itself with ``pip install --no-deps
   --no-build-isolation -e .``. torch is never installed, upgraded or removed: its version and
   location are compared before and after, and a change fails the step.
3. ``pytest-gpu``: ``pytest -m gpu`` on the test files that have gpu tests (the other test files
   import dev-only packages this machine does not have); a JUnit XML file with the counts.
4. ``kernels``: ``benchmarks/kernels.py --device cuda`` (scatter and gather_scatter against PyG).
5. ``ponita``: ``benchmarks/ponita_vs_mace.py --device cuda --mace none``: PONITA's training steps
   per second in the issue's rMD17 setting (MACE lives in ``.venv-mace``, not on that machine).

Everything goes under ``--out`` (default ``$OUT``, else ``gpu-check-out/``): ``gpu-check.json``
(each step's command, exit code, seconds and log file, the card, the commit), ``logs/``, the
JUnit file, and the benchmarks' ``RESULTS.md``, ``records/`` and ``README.md``. Back here, ``python
benchmarks/_record.py --import DIR`` takes the records and log entries into ``benchmarks/``. A
copied tree has no git metadata, so give the commit it was copied from as
``SCIML_RECORD_COMMIT=<sha>``: every record carries a fingerprint of the code it ran, and the
import admits it as a run of committed code only if that equals the commit's fingerprint.

``--dry-run`` runs the same steps on the CPU, small: the device step accepts a CPU, the install
step only prints its pip commands and lists which wheels it would take, pytest only collects,
and the two benchmarks run ``--quick`` (written to ``--out`` marked quick, never to the page).
This script is plain standard library: it runs before sciml is installed.

    python3 benchmarks/gpu_check.py --prepare             # here, once: fill .gpu-check/
    make gpu-check OUT=/path/to/out                        # on the GPU machine
    .venv/bin/python benchmarks/gpu_check.py --dry-run --out /tmp/g   # here, on the CPU
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import _record  # noqa: E402

CARRY = REPO / ".gpu-check"
DATA_NAME = "rmd17_aspirin_15frames.npz"
SHARED_DATA = REPO.parent / "shared" / "data" / "molecular" / DATA_NAME
# (import name, distribution): what the checks import beyond the packages the machine has; the
# dependencies of each are listed too, so that pip --no-index finds them in the wheels folder.
NEEDED = (("yaml", "pyyaml"), ("jaxtyping", "jaxtyping"), ("wadler_lindig", "wadler-lindig"),
          ("pyamg", "pyamg"), ("pytest", "pytest"), ("pluggy", "pluggy"),
          ("iniconfig", "iniconfig"), ("pygments", "pygments"), ("packaging", "packaging"))
BUILD = (("setuptools", "setuptools>=68"), ("wheel", "wheel"))
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
BUDGET_S = 480
# Each step's own limit; the remaining budget caps it too.
LIMITS = {"device": 60, "install": 120, "pytest-gpu": 180, "kernels": 150, "ponita": 150}


def _now() -> str:
    return datetime.datetime.now().replace(microsecond=0).isoformat()


def _probe(python: str, code: str, timeout: float = 60) -> dict:
    """Run ``code`` in ``python``; it prints one JSON line. Returns {} on any failure."""
    try:
        res = subprocess.run([python, "-c", code], capture_output=True, text=True,
                             timeout=timeout, cwd=REPO)
        return json.loads(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else {}
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return {}


EXTERNALLY_MANAGED_PROBE = (
    "import json, os, sys, sysconfig; print(json.dumps(sys.prefix == sys.base_prefix and "
    "os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED'))))")
TORCH_PROBE = ("import json, torch; c = torch.cuda.is_available(); "
               "print(json.dumps({'torch': torch.__version__, 'file': torch.__file__, "
               "'cuda': c, 'cuda_version': torch.version.cuda, "
               "'device_name': torch.cuda.get_device_name() if c else None, "
               "'devices': torch.cuda.device_count()}))")


def missing_modules(python: str, names: list[str]) -> list[str]:
    code = ("import importlib.util, json; print(json.dumps([n for n in "
            f"{names!r} if importlib.util.find_spec(n) is None]))")
    res = _probe(python, code)
    return res if isinstance(res, list) else list(names)


def gpu_test_files() -> list[str]:
    """Test files with a gpu-marked test (the only ones pytest -m gpu would run)."""
    return sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").rglob("test_*.py")
                  if "pytest.mark.gpu" in p.read_text(encoding="utf-8"))


def data_file() -> Path | None:
    for path in (SHARED_DATA, CARRY / "data" / DATA_NAME):
        if path.is_file():
            return path
    return None


class Check:
    """The steps, their log files and the summary record ``gpu-check.json``."""

    def __init__(self, out: Path, python: str, dry_run: bool, budget: float) -> None:
        self.out, self.python, self.dry_run = out, python, dry_run
        self.deadline = time.monotonic() + budget
        commit, dirty = _record.tree_state()
        self.summary = {"schema": 1, "kind": "gpu-check", "dry_run": dry_run, "date": _now(),
                        "commit": commit, "dirty": dirty,
                        "fingerprint": _record.tree_fingerprint(), "python": python,
                        "budget_s": budget, "steps": []}
        (out / "logs").mkdir(parents=True, exist_ok=True)

    def save(self) -> None:
        _record._write_atomic(self.out / "gpu-check.json",
                              json.dumps(self.summary, indent=1, ensure_ascii=False) + "\n")

    def step(self, name: str, cmd: list[str] | None, *, note: str = "",
             env: dict | None = None) -> dict:
        """Run one command with its time limit; log its output; note the result."""
        log = self.out / "logs" / f"{name}.log"
        left = self.deadline - time.monotonic()
        entry = {"name": name, "command": cmd, "log": str(log.relative_to(self.out)),
                 "note": note}
        if cmd is None:
            entry.update(rc=0, seconds=0.0)
        elif left < 5:
            entry.update(rc=None, seconds=0.0, note="skipped: the 8-minute budget is spent")
        else:
            limit = min(LIMITS[name], left)
            t0 = time.monotonic()
            with open(log, "w", encoding="utf-8") as fh:
                fh.write(f"$ {' '.join(cmd)}\n")
                fh.flush()
                try:
                    rc = subprocess.run(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT,
                                        timeout=limit, env={**os.environ, **(env or {})}
                                        ).returncode
                except subprocess.TimeoutExpired:
                    rc = 124
                    entry["note"] = f"stopped at its limit of {limit:.0f} s"
            entry.update(rc=rc, seconds=round(time.monotonic() - t0, 1))
        self.summary["steps"].append(entry)
        self.save()
        state = "ok" if entry["rc"] == 0 else ("skipped" if entry["rc"] is None
                                               else f"FAILED (exit {entry['rc']})")
        print(f"[gpu-check] {name}: {state} in {entry['seconds']} s"
              + (f"; {entry['note']}" if entry["note"] else "") + f"; log {log}", flush=True)
        return entry

    def fail(self, name: str, message: str) -> dict:
        """A step that failed before running anything: one line, in the log and the summary."""
        (self.out / "logs" / f"{name}.log").write_text(message + "\n", encoding="utf-8")
        entry = {"name": name, "command": None, "log": f"logs/{name}.log", "rc": 1,
                 "seconds": 0.0, "note": message}
        self.summary["steps"].append(entry)
        self.save()
        print(f"[gpu-check] {name}: FAILED: {message}", flush=True)
        return entry

    # ------------------------------------------------------------------------------- steps
    def device(self) -> bool:
        info = _probe(self.python, TORCH_PROBE)
        if not info:
            self.fail("device", f"{self.python} cannot import torch (it must be there already)")
            return False
        self.summary["torch"] = info
        if not info["cuda"] and not self.dry_run:
            self.fail("device", f"torch {info['torch']} sees no CUDA device (on a CPU use "
                                "--dry-run)")
            return False
        self.summary["card"] = info["device_name"] or "none (dry run on the CPU)"
        self.step("device", None, note=f"torch {info['torch']} (CUDA {info['cuda_version']}), "
                                      f"device: {self.summary['card']}")
        return True

    def install(self) -> bool:
        """Install into the interpreter that has torch (a venv made from it would not see the
        packages of a venv or conda env it lives in). Where that interpreter is marked
        externally managed (PEP 668: a distribution's Python on a lent, disposable machine),
        pip needs ``--break-system-packages``; the summary says so."""
        wheels = CARRY / "wheels"
        base = self.python
        todo = [dist for mod, dist in NEEDED if mod in missing_modules(
            base, [m for m, _ in NEEDED])]
        build = [dist for mod, dist in BUILD if mod in missing_modules(
            base, [m for m, _ in BUILD])]
        managed = _probe(base, EXTERNALLY_MANAGED_PROBE) is True
        extra = ["--break-system-packages"] if managed else []
        pip = [base, "-m", "pip", "install", *extra, "--no-index", "--find-links", str(wheels)]
        editable = [base, "-m", "pip", "install", *extra, "--no-deps", "--no-build-isolation",
                    "-e", "."]
        cmds = ([pip + build] if build else []) + ([pip + todo] if todo else []) + [editable]
        script = "set -e\n" + "\n".join(shlex.join(c) for c in cmds)
        have = sorted(p.name for p in wheels.glob("*.whl")) if wheels.is_dir() else []
        lacking = [d for _, d in NEEDED + BUILD
                   if not any(_dist_key(w) == _dist_key(d) for w in have)]
        managed_note = "; the interpreter is externally managed (PEP 668)" if managed else ""
        if self.dry_run:
            sciml_here = _probe(base, "import importlib.util as u, json; s = u.find_spec("
                                      "'sciml'); print(json.dumps(s.origin if s else None))")
            (self.out / "logs" / "install.sh").write_text(script + "\n", encoding="utf-8")
            note = (f"would run logs/install.sh: {todo + build or 'no wheels (all import)'} "
                    f"from {wheels}, then sciml with pip install --no-deps --no-build-isolation "
                    f"-e .{managed_note}; sciml imports from {sciml_here or 'nowhere yet'}; "
                    f"wheels folder: {len(have)} wheels"
                    + (f", lacking {lacking} (run --prepare)" if lacking else ""))
            return self.step("install", None, note=note)["rc"] == 0
        if todo + build and not wheels.is_dir():
            self.fail("install", f"{todo + build} do not import and {wheels} is missing: run "
                                 "python3 benchmarks/gpu_check.py --prepare and carry .gpu-check")
            return False
        before = self.summary["torch"]
        entry = self.step("install", ["/bin/sh", "-c", script],
                          note=f"installed {todo + build or 'no wheels'} and sciml{managed_note}")
        after = _probe(base, TORCH_PROBE)
        if (after.get("torch"), after.get("file")) != (before["torch"], before["file"]):
            entry.update(rc=1, note=f"torch changed: {before['torch']} at {before['file']} -> "
                                    f"{after.get('torch')} at {after.get('file')}")
            self.save()
            print(f"[gpu-check] install: FAILED: {entry['note']}", flush=True)
        return entry["rc"] == 0

    def pytest_gpu(self) -> None:
        files = gpu_test_files()
        xml = self.out / "pytest-gpu.xml"
        cmd = [self.python, "-m", "pytest", "-m", "gpu", "-q", "-rs", "-p", "no:cacheprovider",
               f"--junitxml={xml}", *files]
        if self.dry_run:
            cmd.insert(cmd.index("-q"), "--collect-only")
        entry = self.step("pytest-gpu", cmd)
        if xml.is_file():
            suite = ET.parse(xml).getroot()
            suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
            if suite is not None:
                entry["counts"] = {k: int(suite.get(k, 0)) for k in
                                   ("tests", "failures", "errors", "skipped")}
                self.save()

    def kernels(self) -> None:
        cmd = [self.python, "benchmarks/kernels.py", "--out", str(self.out)]
        if self.dry_run:
            cmd += ["--device", "cpu", "--quick", "--only", "gather_scatter", "--edges", "2000",
                    "--repeats", "1"]
        else:
            cmd += ["--device", "cuda", "--only", "scatter", "--only", "gather_scatter"]
        self.step("kernels", cmd)

    def ponita(self) -> None:
        data = data_file()
        if data is None:
            self.fail("ponita", f"{DATA_NAME} is in neither {SHARED_DATA.parent} nor "
                                f"{CARRY / 'data'}: run --prepare and carry .gpu-check")
            return
        cmd = [self.python, "benchmarks/ponita_vs_mace.py", "--mace", "none", "--data",
               str(data), "--out", str(self.out)]
        if self.dry_run:
            cmd += ["--device", "cpu", "--quick"]
        else:
            cmd += ["--device", "cuda", "--steps", "20", "--warmup", "3", "--rounds", "3"]
        self.step("ponita", cmd)


def _dist_key(name: str) -> str:
    """Distribution name of a wheel file or requirement, normalised (pyyaml, wadler_lindig)."""
    base = re.split(r"[<>=!-]", Path(name).name, maxsplit=1)[0] if name.endswith(".whl") \
        else re.split(r"[<>=!]", name, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "_", base).lower()


def prepare(python: str) -> int:
    """Fill .gpu-check/: the wheels (for CPython 3.10-3.13) and the aspirin frames."""
    wheels = CARRY / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    dists = [d for _, d in NEEDED + BUILD]
    done = []
    for version in PYTHONS:
        cmd = [python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", version, "--dest", str(wheels), *dists]
        if subprocess.run(cmd).returncode == 0:
            done.append(version)
        else:
            print(f"warning: pip download for Python {version} failed; that Python is not "
                  "covered", file=sys.stderr)
    if not done:
        print("error: no wheels downloaded", file=sys.stderr)
        return 1
    if not SHARED_DATA.is_file():
        print(f"error: {SHARED_DATA} is missing", file=sys.stderr)
        return 1
    (CARRY / "data").mkdir(exist_ok=True)
    shutil.copy2(SHARED_DATA, CARRY / "data" / DATA_NAME)
    size = sum(p.stat().st_size for p in CARRY.rglob("*") if p.is_file())
    print(f"{CARRY}: {len(list(wheels.glob('*.whl')))} wheels (CPython {', '.join(done)}) and "
          f"{DATA_NAME}, {size / 2**20:.1f} MiB")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for everything written (default $OUT, else gpu-check-out/)")
    ap.add_argument("--dry-run", action="store_true",
                    help="the same steps on the CPU, small, installing nothing")
    ap.add_argument("--prepare", action="store_true",
                    help="download the wheels and copy the data into .gpu-check/ (needs PyPI)")
    ap.add_argument("--python", default=sys.executable,
                    help="the interpreter that has torch (default: this one)")
    ap.add_argument("--budget", type=float, default=BUDGET_S, help="seconds for all steps")
    args = ap.parse_args(argv)
    if args.prepare:
        return prepare(args.python)
    out = args.out or Path(os.environ.get("OUT") or REPO / "gpu-check-out")
    out = out.resolve()
    if out.exists() and not out.is_dir():
        ap.error(f"--out {out} is a file, not a folder")
    check = Check(out, args.python, args.dry_run, args.budget)
    t0 = time.monotonic()
    if check.device() and check.install():
        check.pytest_gpu()
        check.kernels()
        check.ponita()
    check.summary["seconds"] = round(time.monotonic() - t0, 1)
    failed = [s["name"] for s in check.summary["steps"] if s["rc"] != 0]
    check.summary["ok"] = not failed
    check.save()
    print(f"[gpu-check] {'all steps ok' if not failed else 'failed: ' + ', '.join(failed)} in "
          f"{check.summary['seconds']} s; card: {check.summary.get('card', '?')}; "
          f"summary {out / 'gpu-check.json'}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
