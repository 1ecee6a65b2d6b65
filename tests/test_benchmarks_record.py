"""benchmarks/_record.py: log entry, JSON record, results page, and what the page leaves out."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import py_compile
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"


def _load_record():
    spec = importlib.util.spec_from_file_location("_record", BENCH / "_record.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_record", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


rec = _load_record()


def _args(*argv: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    rec.add_record_args(ap)
    return ap.parse_args(list(argv))


def _run(monkeypatch, out: Path | None, *, commit="abc1234", dirty=False, quick=False,
         flags: tuple[str, ...] = ()) -> rec.Run:
    monkeypatch.setattr(rec, "tree_state", lambda: (commit, dirty))
    argv = (["--out", str(out)] if out is not None else []) + list(flags)
    return rec.start("kernels", _args(*argv), quick=quick, argv=["--only", "radius"])


def _comp(value: float, cid: str = "kernels.gather_scatter.fwd_bwd.E1e6.cpu") -> dict:
    return rec.comparison(cid, "gather_scatter fwd+bwd", value, 10.0, unit="ms",
                          anchor_name="PyG", ratio_of="anchor / sciml", target=("ratio", ">=", 1.2))


def test_comparison_computes_ratio_and_verdict():
    speed = rec.comparison("a", "x", 2.0, 5.0, ratio_of="anchor / sciml", target=("ratio", ">=", 2))
    assert speed["ratio"] == pytest.approx(2.5) and speed["met"] is True
    assert speed["target"]["text"] == "ratio ≥ 2"
    slow = rec.comparison("b", "x", 3.0, 2.0, target=("ratio", "<=", 1.0))
    assert slow["ratio"] == pytest.approx(1.5) and slow["met"] is False
    on_value = rec.comparison("c", "x", 0.0067, 0.1054, target=("sciml", "<=", 0.007))
    assert on_value["met"] is True
    text = rec.comparison("d", "x", 0.003, 0.99, target="LPINN ≤ 0.01 and PINN ≥ 0.3", met=True)
    assert text["target"] == {"text": "LPINN ≤ 0.01 and PINN ≥ 0.3"} and text["met"] is True
    assert rec.comparison("e", "x", 1.0, None)["ratio"] is None
    with pytest.raises(ValueError, match="ratio_of"):
        rec.comparison("f", "x", 1.0, 2.0, ratio_of="anchor / anchor")
    with pytest.raises(ValueError, match="target"):
        rec.comparison("g", "x", 1.0, 2.0, target=("ratio", "=<", 1.0))


def test_record_writes_log_entry_record_and_page(tmp_path, monkeypatch):
    run = _run(monkeypatch, tmp_path)
    path = run.record("sciml.kernels (cpu)", "| a | b |\n|---|---|\n| 1 | 2 |", [_comp(4.0)])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert path.parent == tmp_path / "records" / "kernels"
    assert data["commit"] == "abc1234" and data["dirty"] is False and data["quick"] is False
    assert data["argv"] == ["--only", "radius"] and data["source"] == "run"
    assert {"platform", "cpus", "python"} <= set(data["machine"]) and "threads" in data
    assert data["comparisons"][0]["ratio"] == pytest.approx(2.5)
    anchor = data["log"]["anchor"]
    assert anchor.startswith("kernels-") and anchor.endswith("-abc1234")
    log = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert f'<a id="{anchor}"></a>' in log and data["log"]["heading"] in log
    assert "- command: `python benchmarks/kernels.py --only radius`" in log
    assert "| 1 | 2 |" in log
    page = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert page == rec.render(tmp_path)
    row = next(line for line in page.splitlines() if "gather_scatter fwd+bwd |" in line)
    assert "| 4 ms | 10 ms (PyG) | 2.5 (anchor / sciml) | ratio ≥ 1.2 | yes | abc1234 |" in row
    assert f"(RESULTS.md#{anchor})" in row
    # a second run in the same second gets its own anchor and its own record
    again = run.record("sciml.kernels (cpu)", "body", [_comp(5.0)])
    assert again != path and again.exists()
    log = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert f'<a id="{anchor}-2"></a>' in log and log.count("<a id=") == 2


def test_figures_are_drawn_from_the_latest_committed_record(tmp_path, monkeypatch):
    def fig(y):
        return rec.figure("scaling.time", "epoch time against nodes", "nodes", "s / epoch",
                          {"sciml": ([100, 1000, 10000], [0.1, 1.0, y]),
                           "tsl": ([100, 1000, 10000], [0.3, 3.0, None])}, note="one epoch")

    _run(monkeypatch, tmp_path, commit="1111111").record("k", "a", [_comp(4.0)], [fig(10.0)])
    dirty = _run(monkeypatch, tmp_path, commit="2222222", dirty=True)
    dirty.started = dirty.started.replace(year=dirty.started.year + 1)
    dirty.record("k", "b", [_comp(4.0)], [fig(99.0)])
    svg = (tmp_path / "figures" / "scaling.time.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.count("<polyline") == 2  # tsl: one segment, 2 points
    assert svg.count("<circle") == 5 and ">sciml<" in svg and ">tsl<" in svg
    assert svg == rec.svg_chart(fig(10.0))  # the clean record's curve, not the dirty one's
    page = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "![epoch time against nodes](figures/scaling.time.svg)" in page
    assert "commit 1111111" in page and ": one epoch" in page
    res = subprocess.run([sys.executable, str(BENCH / "_record.py"), "--check", "--root",
                          str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    (tmp_path / "figures" / "scaling.time.svg").write_text("stale", encoding="utf-8")
    res = subprocess.run([sys.executable, str(BENCH / "_record.py"), "--check", "--root",
                          str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "scaling.time.svg is stale" in res.stderr
    with pytest.raises(ValueError, match="plain file name"):
        rec.figure("../x", "t", "x", "y", {})
    with pytest.raises(ValueError, match="2 x and 1 y"):
        rec.figure("x", "t", "x", "y", {"a": ([1, 2], [1])})


def test_uncommitted_unknown_and_quick_runs_are_never_headline_rows(tmp_path, monkeypatch):
    _run(monkeypatch, tmp_path, commit="1111111").record("k", "clean", [_comp(4.0)])
    # later runs that must not replace the clean row
    _run(monkeypatch, tmp_path, commit="2222222", dirty=True).record("k", "dirty", [_comp(1.0)])
    _run(monkeypatch, tmp_path, commit="3333333", dirty=None).record("k", "no git", [_comp(2.0)])
    _run(monkeypatch, tmp_path, commit="4444444", quick=True).record("k", "quick", [_comp(3.0)])
    records = rec.load_records(tmp_path)
    assert sorted(r["dirty"] for r in records if r["dirty"] is not None) == [False, False, True]
    best = rec.headline(records)
    assert best["kernels.gather_scatter.fwd_bwd.E1e6.cpu"][0]["commit"] == "1111111"
    page = rec.render(tmp_path)
    rows = [line for line in page.splitlines() if line.startswith("| kernels |")]
    assert len(rows) == 1 and "| 1111111 |" in rows[0] and "| 4 ms |" in rows[0]
    for commit in ("2222222", "3333333", "4444444"):
        assert commit not in page
    log = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "2222222 (plus uncommitted changes)" in log and "(quick) ·" in log
    # a comparison with no clean record is listed as such
    assert "- `kernels`: radius_graph, 1e5 points, open box" in page


def test_newer_clean_record_replaces_the_row(tmp_path, monkeypatch):
    _run(monkeypatch, tmp_path, commit="1111111").record("k", "old", [_comp(4.0)])
    run = _run(monkeypatch, tmp_path, commit="5555555")
    run.started = run.started.replace(year=run.started.year + 1)
    run.record("k", "new", [_comp(9.0)])
    row = next(line for line in rec.render(tmp_path).splitlines()
               if line.startswith("| kernels |"))
    assert "| 5555555 |" in row and "| 9 ms |" in row and "| no |" in row


def test_retired_comparisons_leave_the_table_for_their_own_list(tmp_path, monkeypatch):
    old = "kernels.retired.old_speed"
    _run(monkeypatch, tmp_path, commit="1111111").record(
        "k", "both", [_comp(4.0), _comp(7.0, cid=old)])
    bench = next(b for b in rec.BENCHMARKS if b.name == "kernels")
    retiring = dataclasses.replace(bench, retired=((old, "replaced by gather_scatter"),))
    monkeypatch.setattr(rec, "BENCHMARKS", tuple(retiring if b is bench else b
                                                 for b in rec.BENCHMARKS))
    page = rec.render(tmp_path)
    rows = [line for line in page.splitlines() if line.startswith("| kernels |")]
    assert len(rows) == 1 and "| 4 ms |" in rows[0]
    retired = page.split("## Retired comparisons", 1)[1].split("##", 1)[0]
    assert f"- `{old}` (kernels, last run" in retired and "replaced by gather_scatter" in retired
    assert "1111111" in retired and "RESULTS.md#" in retired


def test_quick_and_no_record_runs_write_nothing_into_benchmarks(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("nothing may be written")

    monkeypatch.setattr(rec, "_write_atomic", refuse)
    quick = _run(monkeypatch, None, quick=True)
    assert quick.root == BENCH and not quick.writes
    assert quick.record("k", "body", [_comp(1.0)]) is None
    off = _run(monkeypatch, tmp_path, flags=("--no-record",))
    assert off.record("k", "body", [_comp(1.0)]) is None
    assert not any(tmp_path.iterdir())


def test_dirty_check_ignores_the_benchmark_outputs(monkeypatch):
    status = {"out": " M benchmarks/RESULTS.md\n M benchmarks/README.md\n"
                     "?? benchmarks/records/kernels/x.json\n"}
    monkeypatch.setattr(rec, "_git", lambda *a: "abc1234\n" if a[0] == "rev-parse"
                        else status["out"])
    assert rec.tree_state() == ("abc1234", False)
    status["out"] += " M benchmarks/kernels.py\n"
    assert rec.tree_state() == ("abc1234", True)
    status["out"] = "?? sciml/new_module.py\n"
    assert rec.tree_state() == ("abc1234", True)
    monkeypatch.setattr(rec, "_git", lambda *a: None)
    monkeypatch.setenv("SCIML_RECORD_COMMIT", "feed123")
    assert rec.tree_state() == ("feed123", None)


def test_import_takes_records_and_log_entries_of_another_folder(tmp_path, monkeypatch):
    src, dest = tmp_path / "gpu", tmp_path / "bench"
    _run(monkeypatch, src, commit="7777777").record("k", "from the GPU", [_comp(2.0)])
    _run(monkeypatch, src, commit="7777777", quick=True).record("k", "smoke", [_comp(9.0)])
    _run(monkeypatch, dest, commit="1111111").record("k", "here", [_comp(4.0)])
    taken = rec.import_run(src, dest)
    assert len(taken) == 1
    log = (dest / "RESULTS.md").read_text(encoding="utf-8")
    assert "from the GPU" in log and "smoke" not in log and "here" in log
    assert (dest / "README.md").read_text(encoding="utf-8") == rec.render(dest)
    assert rec.import_run(src, dest) == []  # already there


def test_bad_record_is_an_error_naming_the_file(tmp_path):
    bad = tmp_path / "records" / "kernels" / "x.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="x.json: not a readable JSON record"):
        rec.render(tmp_path)
    bad.write_text('{"benchmark": "kernels"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"x.json: record lacks \['commit', 'comparisons'"):
        rec.render(tmp_path)


# ------------------------------------------------------------------ the committed page and log
def test_committed_page_is_what_the_renderer_writes():
    page = (BENCH / "README.md").read_text(encoding="utf-8")
    assert page == rec.render(BENCH), "run: python benchmarks/_record.py --render"
    res = subprocess.run([sys.executable, str(BENCH / "_record.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_every_committed_record_links_to_its_log_entry():
    log = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    anchors = re.findall(r'<a id="([^"]+)"></a>', log)
    assert len(anchors) == len(set(anchors)), "duplicate anchors in RESULTS.md"
    records = rec.load_records(BENCH)
    assert records, "no committed records"
    for r in records:
        assert r["log"]["anchor"] in anchors, r["_path"]
        assert r["commit"] in log[log.index(f'<a id="{r["log"]["anchor"]}">'):][:600]
        for c in r["comparisons"]:
            assert {"id", "what", "sciml", "anchor", "ratio", "target", "met"} <= set(c)


def test_every_benchmark_records_through_the_helper_and_is_listed():
    scripts = sorted(p for p in BENCH.glob("*.py") if not p.name.startswith("_")
                     and p.name != "gpu_check.py")
    assert {p.stem for p in scripts} == {b.name for b in rec.BENCHMARKS}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    development = readme[readme.index("## Development"):]
    page = (BENCH / "README.md").read_text(encoding="utf-8")
    for path in scripts:
        source = path.read_text(encoding="utf-8")
        py_compile.compile(str(path), doraise=True)
        assert "_record.add_record_args(" in source and "_record.start(" in source, path.name
        assert ".record(" in source, path.name
        assert not re.search(r"RESULTS\.md.{0,20}[\"']a[\"']", source), path.name
        assert "--no-write" not in source and "--no-append" not in source, path.name
        assert f"`{path.name}`" in development, f"README.md Development lacks {path.name}"
        assert f"`benchmarks/{path.name}`" in page
    assert "benchmarks/README.md" in development


def test_transcribed_records_cite_their_entry_and_skip_uncommitted_ones():
    log = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    for r in rec.load_records(BENCH):
        if r["source"] == "run":
            continue
        assert r["source"].startswith("transcribed from the RESULTS.md entry"), r["_path"]
        entry = log[log.index(f'<a id="{r["log"]["anchor"]}">'):]
        entry = entry[:entry.index("\n- date") + 40]
        assert f"- commit: {r['commit']}" in entry and r["date"] in entry, r["_path"]
        assert "uncommitted" not in entry.split("- commit:")[1].split("\n")[0], r["_path"]


def test_code_fingerprint_follows_the_code_and_ignores_the_outputs(tmp_path):
    (tmp_path / "sciml").mkdir()
    (tmp_path / "benchmarks" / "records").mkdir(parents=True)
    (tmp_path / "sciml" / "a.py").write_text("x = 1\n", encoding="utf-8")
    first = rec.tree_fingerprint(tmp_path)
    (tmp_path / "benchmarks" / "RESULTS.md").write_text("log\n", encoding="utf-8")
    (tmp_path / "benchmarks" / "records" / "r.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "sciml" / "a.pyc").write_bytes(b"cache")
    assert rec.tree_fingerprint(tmp_path) == first
    (tmp_path / "sciml" / "a.py").write_text("x = 2\n", encoding="utf-8")
    assert rec.tree_fingerprint(tmp_path) != first
    (tmp_path / "sciml" / "a.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "benchmarks" / "new.py").write_text("", encoding="utf-8")
    assert rec.tree_fingerprint(tmp_path) != first


def test_fingerprint_of_a_clean_checkout_is_its_commits():
    commit, dirty = rec.tree_state()
    if dirty is not False:
        pytest.skip("needs a git checkout without uncommitted code")
    assert rec.tree_fingerprint() == rec.commit_fingerprint(commit)


def test_import_accepts_a_copied_tree_only_with_the_commits_code(tmp_path, monkeypatch):
    src, dest = tmp_path / "gpu", tmp_path / "bench"
    for commit, fingerprint in (("8888888", "same"), ("9999999", "other")):
        run = _run(monkeypatch, src, commit=commit, dirty=None)
        run.fingerprint = fingerprint
        run.record("k", f"copied tree at {commit}", [_comp(2.0 if commit == "8888888" else 1.0)])
    monkeypatch.setattr(rec, "commit_fingerprint", lambda commit: "same")
    assert len(rec.import_run(src, dest)) == 2
    by_commit = {r["commit"]: r for r in rec.load_records(dest)}
    assert by_commit["8888888"]["dirty"] is False and by_commit["9999999"]["dirty"] is None
    row = next(line for line in (dest / "README.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| kernels |"))
    assert "| 8888888 |" in row
    log = (dest / "RESULTS.md").read_text(encoding="utf-8")
    assert "equals commit 8888888's, so it ran committed code" in log
    assert "is not commit 9999999's (same): not a committed run" in log
