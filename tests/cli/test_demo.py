"""`sciml demo --quick` runs every demo entry end to end (tiny settings) and writes its plots."""

from __future__ import annotations

from sciml.cli import main
from sciml.cli._demo import DEMOS


def test_demo_quick_runs_every_entry(tmp_path, capsys):
    assert main(["demo", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "demo finished" in out
    for _, recipe, _, _ in DEMOS:
        assert list((tmp_path / recipe).glob("*.png")), recipe
        assert (tmp_path / recipe / "report.json").is_file()
