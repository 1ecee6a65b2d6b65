"""Checks of the code and docs as text: the static catalog matches the registries, the command
line answers before torch is imported, the README uses public names only, and no module imports
another package's private module."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_catalog_matches_the_registries():
    """In a fresh process: other tests register models of their own in this one."""
    from sciml._catalog import CATALOG_PATH

    code = ("import json; from sciml._catalog import build_catalog; "
            "print(json.dumps(build_catalog()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    live = json.loads(out)
    committed = json.loads(CATALOG_PATH.read_text())
    assert committed == live, "sciml/catalog.json is stale: run `python -m sciml._catalog --write`"


_NO_TORCH = """
import sys
from sciml.cli import main
code = main({argv!r})
assert "torch" not in sys.modules, "torch was imported"
sys.exit(code)
"""


@pytest.mark.parametrize("argv, code, expected", [
    (["list"], 0, "recipes:"),
    (["fit", "gpvar-tts", "--set", "x"], 2, "--set expects key=value, got 'x'"),
    (["fit", "gpvar-tts", "--set", "model.hiden_size=3"], 2, "unknown key model.hiden_size"),
    (["fit", "gpvar-tts", "--set", "train.max_epochs=ten"], 2,
     "train.max_epochs: expected an integer, got 'ten'"),
    (["fit", "gpvar-tts", "--set", "data.options.nodes=3"], 2, "unknown key data.options.nodes"),
    (["fit", "gpvar-tts", "--set", "model.name=transformerx"], 2, "unknown model 'transformerx'"),
    (["fit", "convection-pinn", "--set", "model.name=mgno"], 2, "model.name must be one of"),
    (["fit", "no-such-recipe"], 2, "unknown recipe 'no-such-recipe'"),
    (["fit", "gpvar-tts", "--set", "task=nope"], 2, "unknown job 'nope'"),
    (["eval", "no/such/run"], 2, "run folder no/such/run does not exist"),
    (["data", "generate", "darcy", "--help"], 0, "--resolution"),
    (["data", "generate", "darcy", "--resolutoin", "3"], 2, "unknown key darcy.resolutoin"),
    (["list", "--threads", "1"], 0, "models:"),
    (["fit", "darcy-mgno", "--set", "data.name=arrays", "--set",
      "data.options={path: a.npz, boundary: wall}"], 2,
     "data.options.boundary: 'wall' is not one of ['dirichlet', 'periodic', 'neumann']"),
    (["fit", "darcy-mgno", "--set", "data.name=arrays", "--set",
      "data.options={path: a.npz, extent: wide}"], 2, "data.options.extent: 'wide' matches none"),
])
def test_cli_answers_before_torch_is_imported(argv, code, expected, tmp_path):
    proc = subprocess.run([sys.executable, "-c", _NO_TORCH.format(argv=argv)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == code, proc.stderr
    out = proc.stdout + proc.stderr
    assert expected in out, out
    if code:
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_yaml_errors_keep_line_and_column(tmp_path):
    from sciml.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text("task: forecasting\nmodel:\n  name: dcrnn\n  hidden_size: [1, 2\n")
    proc = subprocess.run([sys.executable, "-m", "sciml", "fit", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert re.search(r"bad.yaml: not valid YAML at line \d+, column \d+", proc.stderr), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert main(["fit", str(tmp_path)]) == 2  # a folder where a recipe file belongs


def test_os_errors_name_the_path_and_its_role(tmp_path, capsys):
    from sciml.cli import main

    (tmp_path / "file").write_text("x")
    assert main(["fit", "gpvar-tts", "--run-dir", str(tmp_path / "file")]) == 2
    assert "run folder" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "file"), "--input", "x.csv"]) == 2
    assert "run folder" in capsys.readouterr().err


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _code_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.S)


def _notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _sources() -> list[tuple[str, str]]:
    blocks = _code_blocks((REPO / "README.md").read_text())
    assert blocks, "the README has no Python example"
    out = [("README.md", b) for b in blocks]
    return out + [(p.name, _notebook_code(p)) for p in sorted((REPO / "notebooks").glob("*.ipynb"))]


@pytest.mark.parametrize("where, block", _sources(), ids=lambda v: v if v.endswith(
    (".md", ".ipynb")) else "")
def test_readme_and_notebooks_use_public_names_only(where, block):
    """Every ``import`` / ``from ... import`` and every ``sciml.X`` in the README's Python blocks
    and the notebooks is public: no path or name with a leading underscore, and each name
    exists."""
    import importlib

    if True:
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module.startswith("sciml"):
                assert not any(p.startswith("_") for p in node.module.split(".")), node.module
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert not alias.name.startswith("_"), alias.name
                    assert hasattr(module, alias.name), f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not any(p.startswith("_") for p in alias.name.split(".")), alias.name
            elif isinstance(node, ast.Attribute):
                chain = []
                cur: ast.AST = node
                while isinstance(cur, ast.Attribute):
                    chain.append(cur.attr)
                    cur = cur.value
                if isinstance(cur, ast.Name) and cur.id == "sciml":
                    chain.reverse()
                    assert not any(_private(p) for p in chain), ".".join(chain)
                    obj = importlib.import_module("sciml")
                    for part in chain:
                        if not hasattr(obj, part):  # a method of a returned object, not a name
                            break
                        obj = getattr(obj, part)
                    else:
                        continue
                    assert chain[0] in dir(importlib.import_module("sciml")), chain


def test_no_module_imports_another_packages_private_module():
    """A private module (``_name``) is for its own package and that package's subpackages:
    ``sciml.tasks.forecasting`` may use ``sciml.tasks._job``, ``sciml.tasks`` may not use
    ``sciml.train._distributed``."""
    roots = {"sciml": "sciml", "solvers": "sciml.solvers", "datasets": "sciml.datasets"}
    bad = []
    for folder, package in roots.items():
        for path in (REPO / folder).rglob("*.py"):
            rel = path.relative_to(REPO / folder)
            own = ".".join([package, *rel.parts[:-1]])  # the package the file lies in
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                for name in names:
                    parts = name.split(".")
                    private = [i for i, p in enumerate(parts) if p.startswith("_")]
                    if parts[0] != "sciml" or not private:
                        continue
                    owner = ".".join(parts[:private[0]])
                    if own != owner and not own.startswith(owner + "."):
                        bad.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}")
    assert not bad, "\n".join(bad)


def test_train_does_not_import_models():
    for path in (REPO / "sciml" / "train").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("sciml.models"), (path, node.lineno)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("sciml.models") for a in node.names), path
