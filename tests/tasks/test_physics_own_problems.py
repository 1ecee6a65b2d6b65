"""Physics-informed problems beyond the built-ins, from recipes: boundary values and initial
conditions as expressions, Dirichlet / Neumann ends, sources, references from the method of
lines, from a file or none, exact enforcement of the conditions, the Lagrangian PINN on a
bounded domain, steady 2-D Poisson; bad problems are one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

import sciml
from sciml.cli import main
from sciml.errors import ConfigError, DataError

pytestmark = pytest.mark.usefixtures("one_thread")

SHORT = {"train.adam_steps": 150, "train.lbfgs_steps": 40, "train.lbfgs_chunk": 20,
         "train.n_x": 24, "train.n_t": 12, "train.n_boundary": 16, "eval.n_x": 41,
         "eval.n_t": 11, "train.checkpoint_every": 0}


def test_allen_cahn_recipe_from_the_command_line_holds_its_conditions_exactly(tmp_path):
    recipe = sciml.load_recipe("allen-cahn-pinn", SHORT)
    (tmp_path / "ac.yaml").write_text(yaml.safe_dump(dict(recipe)))
    assert main(["fit", str(tmp_path / "ac.yaml"), "--run-dir", str(tmp_path / "run"),
                 "--quiet"]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert 0 < report["test"]["test/rel_l2"] < 1.5  # a short fit; the benchmark trains it fully
    run = sciml.load_run(tmp_path / "run")
    x = np.linspace(-1, 1, 9)
    u0 = run.predict(np.stack([x, np.zeros_like(x)], 1))
    np.testing.assert_allclose(u0, x**2 * np.cos(np.pi * x), atol=1e-6)  # exactly, by the
    t = np.linspace(0, 1, 5)                                              # transform
    ends = run.predict(np.concatenate([np.stack([-np.ones(5), t], 1),
                                       np.stack([np.ones(5), t], 1)]))
    np.testing.assert_allclose(ends, -1.0, atol=1e-6)
    assert (tmp_path / "run" / "solution.png").is_file()


def _reaction_diffusion(**problem) -> dict:
    """u_t = 0.05 u_xx + u(1 − u) on [0, 1] with the given conditions (a registered PDE)."""
    base = {"pde": "reaction_diffusion", "params": {"nu": 0.05, "rho": 1.0},
            "x_range": [0.0, 1.0], "t_range": [0.0, 0.5],
            "boundary": {"left": {"kind": "dirichlet", "value": "0.5 + 0.5*sin(pi*t)"},
                         "right": {"kind": "neumann", "value": 0}},
            "initial": "0.5 * cos(pi*x/2)"}
    base.update(problem)
    return {"task": "physics_informed", "problem": base,
            "model": {"name": "pinn", "width": 16, "depth": 2, "periodic": False},
            "train": {"adam_steps": 300, "lbfgs_steps": 60, "lbfgs_chunk": 20, "n_x": 24,
                      "n_t": 12, "n_boundary": 16, "checkpoint_every": 0},
            "eval": {"n_x": 41, "n_t": 11}}


def test_dirichlet_values_neumann_end_and_the_method_of_lines_reference(tmp_path):
    report = sciml.fit(_reaction_diffusion(), tmp_path / "run", progress=False)
    rel = report["test"]["test/rel_l2"]
    assert np.isfinite(rel) and rel < 0.2, rel  # the ends' values are learned, not zero
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert "train/boundary" in rows[0] and "train/initial" in rows[0]


def test_reference_from_a_file_and_no_reference(tmp_path):
    from sciml.solvers import MOLBoundary, solve_pde

    from sciml.physics import get_pde, parse_expression

    x, t = np.linspace(0, 1, 33), np.linspace(0, 0.5, 6)
    sol = solve_pde(get_pde("reaction_diffusion", nu=0.05, rho=1.0), t, 513,
                    domain=(0.0, 1.0),
                    left=MOLBoundary(kind="dirichlet",
                                     value=parse_expression("0.5 + 0.5*sin(pi*t)", ("t",))),
                    right=MOLBoundary(kind="neumann", value=0.0),
                    u0=parse_expression("0.5 * cos(pi*x/2)", ("x",)))
    np.savez(tmp_path / "ref.npz", xs=x, ts=t, usol=sol.interpolate(x).T)  # (x, t) as Raissi
    with_file = sciml.fit(_reaction_diffusion(reference={"path": str(tmp_path / "ref.npz"),
                                                         "x": "xs", "t": "ts", "u": "usol"}),
                          tmp_path / "file", progress=False)
    solver = sciml.fit(_reaction_diffusion(), tmp_path / "solver", progress=False)
    assert with_file["test"]["test/rel_l2"] == pytest.approx(
        solver["test"]["test/rel_l2"], rel=0.2)  # another grid, the same solution
    none = sciml.fit(_reaction_diffusion(reference="none"), tmp_path / "none", progress=False)
    assert set(none["test"]) == {"test/mean_abs_residual"} and "no reference" in none["notes"][0]
    with pytest.raises(FileNotFoundError, match="no reference file at .*missing.npz"):
        sciml.fit(_reaction_diffusion(reference={"path": str(tmp_path / "missing.npz")}),
                  tmp_path / "bad", progress=False)


def test_a_source_term_with_a_manufactured_solution(tmp_path):
    """u = exp(-t) sin(πx) solves u_t = 0.05 u_xx + u(1 − u) + s for the s below."""
    s = ("-exp(-t)*sin(pi*x) + 0.05*pi**2*exp(-t)*sin(pi*x) - exp(-t)*sin(pi*x)"
         " + exp(-2*t)*sin(pi*x)**2")
    recipe = _reaction_diffusion(source=s, boundary="dirichlet", initial="sin(pi*x)",
                                 reference="none")
    recipe["train"]["adam_steps"] = 600
    report = sciml.fit(recipe, tmp_path, progress=False)
    run = sciml.load_run(tmp_path)
    xx, tt = np.meshgrid(np.linspace(0, 1, 21), np.linspace(0, 0.5, 6))
    pred = run.predict(np.stack([xx.ravel(), tt.ravel()], 1))
    exact = (np.exp(-tt) * np.sin(np.pi * xx)).ravel()
    assert np.linalg.norm(pred - exact) / np.linalg.norm(exact) < 0.1
    assert report["test"]["test/mean_abs_residual"] < 0.5


def test_steady_poisson_recipe(tmp_path):
    report = sciml.fit(sciml.load_recipe("poisson-pinn", {
        "train.adam_steps": 400, "train.lbfgs_steps": 600, "train.n_x": 20, "train.n_t": 20,
        "eval.n_x": 33, "eval.n_t": 33}), tmp_path, progress=False)
    assert report["test"]["test/rel_l2"] < 0.05, report["test"]
    run = sciml.load_run(tmp_path)
    u = run.predict(np.array([[0.5, 0.5], [0.25, 0.5]]))
    np.testing.assert_allclose(u, [1.0, np.sin(np.pi / 4)], atol=0.05)
    hard = sciml.fit(sciml.load_recipe("poisson-pinn", {
        "train.adam_steps": 100, "train.lbfgs_steps": 0, "train.n_x": 10, "train.n_t": 10,
        "train.hard_constraints": True, "eval.n_x": 17, "eval.n_t": 17}), tmp_path / "hard",
        progress=False)
    assert set(hard["test"]) == {"test/rel_l2", "test/max_abs_error"}
    edge = sciml.load_run(tmp_path / "hard").predict(np.array([[0.0, 0.3], [0.7, 1.0]]))
    np.testing.assert_allclose(edge, 0.0, atol=1e-7)


def test_lagrangian_pinn_on_a_bounded_domain_without_advection(tmp_path):
    report = sciml.fit(sciml.load_recipe("allen-cahn-lpinn", SHORT), tmp_path, progress=False)
    assert np.isfinite(report["test"]["test/rel_l2"])
    with pytest.raises(ConfigError, match="needs a PDE without advection"):
        sciml.fit(sciml.load_recipe("allen-cahn-lpinn", {**SHORT, "problem.pde": "burgers",
                                                          "problem.params": {"nu": 0.01}}),
                  tmp_path / "burgers", progress=False)


@pytest.mark.parametrize("override, expected", [
    ({"problem.initial": "__import__('os').getcwd()"}, "initial: .*not allowed"),
    ({"problem.boundary": {"left": {"kind": "robin"}, "right": "dirichlet"}},
     "boundary.left.kind must be one of"),
    ({"problem.boundary": {"left": "dirichlet"}}, "boundary needs both 'left' and 'right'"),
    ({"problem.boundary": {"left": {"kind": "neumann"}, "right": "dirichlet"}},
     "a Neumann end cannot be enforced"),
    ({"problem.pde": "poisson", "problem.params": {}}, "PDE 'poisson' is steady: give"),
    ({"model.periodic": True, "model.period": 2.0}, "periodic embedding needs"),
    ({"problem.reference": {"file": "x.npz"}}, "reference must be null, 'none' or a mapping"),
])
def test_bad_problems_are_named(override, expected, tmp_path):
    with pytest.raises((ConfigError, ValueError), match=expected) as info:
        sciml.fit(sciml.load_recipe("allen-cahn-pinn", {**SHORT, **override}), tmp_path,
                  progress=False)
    assert len(str(info.value).splitlines()) == 1
    assert not (tmp_path / "recipe.yaml").exists()


def test_an_inverse_problem_recovers_the_diffusion_coefficient(tmp_path):
    """Observations of u_t = ν u_xx (ν = 0.1, u0 = sin πx, u = 0 at the ends) from our reference
    solver at 300 random points, written by pandas; the PINN starts from ν = 0.5."""
    import pandas as pd
    from sciml.solvers import MOLBoundary, solve_pde

    from sciml.physics import get_pde

    t = np.linspace(0, 1, 21)
    zero = MOLBoundary(kind="dirichlet", value=0.0)
    sol = solve_pde(get_pde("reaction_diffusion", nu=0.1, rho=0.0), t, 257, domain=(0.0, 1.0),
                    left=zero, right=zero, u0=lambda x: np.sin(np.pi * x))
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 15)
    u = sol.interpolate(x)  # (times, points)
    tt, xx = np.meshgrid(t, x, indexing="ij")
    pd.DataFrame({"x": xx.ravel(), "time": tt.ravel(), "u": u.ravel()}).to_csv(
        tmp_path / "obs.csv", index=False)
    recipe = _reaction_diffusion(params={"nu": 0.5, "rho": 0.0}, t_range=[0.0, 1.0],
                                 boundary="dirichlet", initial="sin(pi*x)",
                                 unknown={"nu": 0.5},
                                 observations={"path": str(tmp_path / "obs.csv"), "t": "time"})
    recipe["train"].update(adam_steps=1000, lbfgs_steps=300, lbfgs_chunk=50,
                           hard_constraints=True)
    report = sciml.fit(recipe, tmp_path / "run", progress=False)
    assert report["identified"]["nu"] == pytest.approx(0.1, rel=0.02), report["identified"]
    assert report["test"]["test/rel_l2"] < 0.01
    frame = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert "train/data" in frame and frame["param/nu"].iloc[0] > 0.3  # the history: from 0.5
    with pytest.raises(ValueError, match="unknown parameter 'mu' is not a parameter"):
        sciml.fit(_reaction_diffusion(unknown={"mu": 1.0},
                                      observations={"path": str(tmp_path / "obs.csv")}),
                  tmp_path / "bad", progress=False)
    with pytest.raises(ValueError, match="give problem.observations"):
        sciml.fit(_reaction_diffusion(unknown={"nu": 1.0}), tmp_path / "bad2", progress=False)
    with pytest.raises(DataError, match=r"obs.csv: no column 'u_obs'; columns: \['x', 'time', "):
        sciml.fit(_reaction_diffusion(unknown={"nu": 1.0}, observations={
            "path": str(tmp_path / "obs.csv"), "t": "time", "u": "u_obs"}),
            tmp_path / "bad3", progress=False)


def test_a_two_species_system(tmp_path):
    """The Brusselator: one PINN, two outputs, conditions per field (exact, through the
    transform), the method of lines for the system as reference."""
    report = sciml.fit(sciml.load_recipe("brusselator-pinn", {
        "train.adam_steps": 300, "train.lbfgs_steps": 100, "train.n_x": 32, "train.n_t": 16,
        "eval.n_x": 41, "eval.n_t": 21}), tmp_path, progress=False)
    assert report["test"]["test/rel_l2"] < 0.1, report["test"]
    soft = sciml.fit(sciml.load_recipe("brusselator-pinn", {
        "train.adam_steps": 20, "train.lbfgs_steps": 0, "train.n_x": 8, "train.n_t": 4,
        "train.hard_constraints": False, "eval.n_x": 11, "eval.n_t": 5}), tmp_path / "soft",
        progress=False)
    rows = (tmp_path / "soft" / "metrics.csv").read_text().splitlines()[0]
    assert "train/initial" in rows and "train/boundary" in rows  # per-field loss terms
    assert np.isfinite(soft["test"]["test/rel_l2"])
    u = sciml.load_run(tmp_path).predict(np.array([[0.5, 0.0], [0.5, 1.0]]))
    assert u.shape == (2, 2)
    np.testing.assert_allclose(u[0], [1.5, 3.0], atol=0.1)
    with pytest.raises(ValueError, match="initial: the PDE has 2 fields; give a list"):
        sciml.fit(sciml.load_recipe("brusselator-pinn", {"problem.initial": "1"}),
                  tmp_path / "bad", progress=False)
