"""PI-HC-MoE and PI-SC models: shapes, the constraint layer's output, checkpoints, config errors,
and a short physics-informed training run of the soft model."""

from __future__ import annotations

import warnings

import pytest
import torch

import sciml.models  # noqa: F401  (registers the models)
from sciml.errors import ConfigError
from sciml.models import HardConstrainedOperator, SoftConstrainedOperator, model_from_checkpoint
from sciml.physics import ConstraintSolveWarning
from sciml.registry import MODELS

SMALL = {"backbone": {"width": 8, "n_layers": 1, "levels": 2}}


def _u0(b: int = 2, nx: int = 16) -> torch.Tensor:
    return torch.linspace(0.05, 0.15, b)[:, None].expand(b, nx).contiguous()


def test_hc_moe_forward_shapes_info_and_checkpoint_round_trip():
    model = MODELS.build("hc_moe", {"n_points": 64, "on_fail": "warn", **SMALL},
                         grid_shape=[16, 11],
                         t_final=500.0)
    assert isinstance(model, HardConstrainedOperator)
    assert model.constraint.experts == (4, 1)                  # paper default: 4 spatial experts
    assert model.constraint.warm_start == "rows" and not model.config.expert_loss
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        u = model(_u0(), torch.Generator().manual_seed(0))
        assert u.shape == (2, 16, 11) and torch.isfinite(u).all()
        info = model.last_info
        assert info.iterations.shape == (2, 4) and info.weights.shape == (2, 4, 16)
        assert int(info.iterations.max()) <= 50
        clone = model_from_checkpoint(model.checkpoint())
        u2 = clone(_u0(), torch.Generator().manual_seed(0))
    torch.testing.assert_close(u, u2)
    pde, rows = model.physics_loss(u, _u0())
    (pde + rows).backward()
    grads = [p.grad for p in model.backbone.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().max()) > 0 for g in grads)


def test_navier_stokes_hc_moe_routes_initial_rows_to_experts():
    model = MODELS.build("hc_moe", {"problem": "navier_stokes", "n_points": 64,
                                    "on_fail": "warn", **SMALL},
                         grid_shape=[8, 8, 5], t_final=0.5)
    assert model.constraint.experts == (2, 2, 1) and model.constraint.partition_initial
    assert model.constraint.warm_start == "rows"
    w0 = torch.randn(1, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        u = model(w0, torch.Generator().manual_seed(0))
    assert u.shape == (1, 8, 8, 5) and torch.isfinite(u).all()
    # The 64 initial rows are split 16 per expert, each row to the expert owning its point.
    basis = torch.randn(1, 16, 8, 8, 5, dtype=torch.float64)
    a, c = model.constraint._rows(basis, w0.double())
    assert a.shape == (4, 16, 16) and c.shape == (4, 16)
    quarters = [w0[0, :4, :4], w0[0, :4, 4:], w0[0, 4:, :4], w0[0, 4:, 4:]]
    for k, q in enumerate(quarters):
        torch.testing.assert_close(c[k], q.flatten().double())


def test_soft_model_training_reduces_the_physics_loss():
    torch.manual_seed(0)
    model = MODELS.build("pi_sc", SMALL, grid_shape=[16, 11], t_final=500.0)
    assert isinstance(model, SoftConstrainedOperator)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    u0 = _u0()
    losses = []
    for _ in range(40):
        pde, rows = model.physics_loss(model(u0), u0)
        loss = pde + rows
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.65 * losses[0], losses[::10]


def test_config_errors():
    with pytest.raises(ConfigError, match="experts"):
        MODELS.build("hc_moe", {"experts": [4], **SMALL}, grid_shape=[16, 11], t_final=500.0)
    with pytest.raises(ConfigError, match="problem"):
        MODELS.build("hc_moe", {"problem": "heat"}, grid_shape=[16, 11], t_final=500.0)
    with pytest.raises(ConfigError, match="unknown key"):
        MODELS.build("pi_sc", {"n_basis": 4}, grid_shape=[16, 11], t_final=500.0)
    with pytest.raises(ConfigError, match="on_fail"):
        MODELS.build("hc_moe", {"on_fail": "ignore"}, grid_shape=[16, 11], t_final=500.0)
    with pytest.raises(ConfigError, match="grid_shape"):
        MODELS.build("hc_moe", SMALL, grid_shape=[16, 16, 11], t_final=500.0)
    with pytest.raises(ConfigError, match="warm_start"):
        MODELS.build("hc_moe", {"warm_start": "ones", **SMALL}, grid_shape=[16, 11],
                     t_final=500.0)
    model = MODELS.build("pi_sc", SMALL, grid_shape=[16, 11], t_final=500.0)
    with pytest.raises(ValueError, match="initial must have shape"):
        model(torch.zeros(2, 12))


def test_bdf2_time_scheme_samples_inner_cells_after_the_first_time():
    model = MODELS.build("hc_moe", {"n_points": 64, "on_fail": "warn", "time_scheme": "bdf2",
                                    **SMALL}, grid_shape=[16, 11], t_final=500.0)
    assert model.grid.time_scheme == "bdf2"
    idx = model.constraint.sample(torch.Generator().manual_seed(0)).flatten()
    x, t = idx // 11, idx % 11
    assert bool((t > 0).all()) and bool(((x > 0) & (x < 15)).all())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        u = model(_u0(), torch.Generator().manual_seed(0))
    pde, rows = model.physics_loss(u, _u0())
    assert torch.isfinite(pde) and torch.isfinite(rows)
    soft = MODELS.build("pi_sc", {"time_scheme": "bdf2", **SMALL}, grid_shape=[16, 11],
                        t_final=500.0)
    assert soft.grid.derivatives().time_scheme == "bdf2"
    with pytest.raises(ConfigError, match="time_scheme"):
        MODELS.build("pi_sc", {"time_scheme": "leapfrog", **SMALL}, grid_shape=[16, 11],
                     t_final=500.0)


def test_global_warm_start_model_trains_and_reports_its_setting():
    model = MODELS.build("hc_moe", {"n_points": 64, "on_fail": "warn", "warm_start": "global",
                                    **SMALL}, grid_shape=[16, 11], t_final=500.0)
    assert model.constraint.warm_start == "global" and "warm_start='global'" in repr(model)
    rows = MODELS.build("hc_moe", {"n_points": 64, "on_fail": "warn", "warm_start": "rows",
                                   **SMALL}, grid_shape=[16, 11], t_final=500.0)
    assert rows.constraint.warm_start == "rows"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        u = model(_u0(), torch.Generator().manual_seed(0))
    assert u.shape == (2, 16, 11) and torch.isfinite(u).all()
    pde, rows = model.physics_loss(u, _u0())
    (pde + rows).backward()
    grads = [p.grad for p in model.backbone.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_own_field_loss_of_one_expert_is_the_assembled_loss():
    # With one expert there are no block interfaces: the experts'-own-field loss (expert_loss)
    # and the reference's loss on the assembled field are the same number.
    values = {"n_points": 64, "on_fail": "warn", "experts": [1, 1], **SMALL}
    own = MODELS.build("hc_moe", {**values, "expert_loss": True}, grid_shape=[16, 11],
                       t_final=500.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        u = own(_u0(), torch.Generator().manual_seed(0))
    own_terms = own.physics_loss(u, _u0())
    assembled = SoftConstrainedOperator.physics_loss(own, u, _u0())
    for a, b in zip(own_terms, assembled, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-8)


BURGERS = {"pde": "burgers", "params": {"nu": 0.01 / 3.141592653589793, "initial": "-sin_pi"}}


def test_any_registered_pde_from_the_config_with_its_boundary_rows():
    from sciml.physics import GridConstraints

    model = MODELS.build("hc_moe", {**BURGERS, "n_points": 64, "on_fail": "warn", "ridge": 1e-10,
                                    **SMALL}, grid_shape=[17, 9], t_final=1.0)
    assert model.pde.name == "burgers" and model.constraint.experts == (4, 1)
    assert isinstance(model.constraint.constraints, GridConstraints)
    assert model.grid.origin == (-1.0,) and model.grid.spacing == (2 / 16,)
    assert model.constraint.lm.tol == 1e-7 and not model.constraint.partition_initial
    x = torch.linspace(-1, 1, 17)
    u0 = -torch.sin(torch.pi * x)[None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        u = model(u0, torch.Generator().manual_seed(0))
    assert u.shape == (1, 17, 9) and torch.isfinite(u).all()
    # The solve and the loss use the same rows: u(x, 0) = u0 and u(±1, t) = 0 for t > 0.
    assert model.constraint.constraints is model.constraints
    _, rows = model.physics_loss(u, u0)
    want = torch.cat([u[0, :, 0] - u0[0], u[0, 0, 1:], u[0, -1, 1:]]).square().mean()
    torch.testing.assert_close(rows, want)
    clone = model_from_checkpoint(model.checkpoint())
    assert clone.pde == model.pde and clone.grid == model.grid
    # Given in the config, the domain and boundaries replace the PDE's own.
    periodic = MODELS.build("pi_sc", {**BURGERS, "boundary": ["periodic"], **SMALL},
                            grid_shape=[16, 9], t_final=1.0)
    assert periodic.grid.periodic == (True,) and periodic.grid.spacing == (2 / 16,)


def test_old_problem_keys_map_onto_the_problem_description():
    from sciml.models import hc_grid_problem

    old = MODELS.build("hc_moe", {"problem": "navier_stokes", "nu": 1e-3, **SMALL},
                       grid_shape=[8, 8, 5], t_final=0.5)
    new = MODELS.build("hc_moe", {"pde": "navier_stokes_vorticity", "params": {"nu": 1e-3},
                                  "partition_initial": True, **SMALL},
                       grid_shape=[8, 8, 5], t_final=0.5)
    assert old.pde == new.pde and old.grid == new.grid and old.pde_weight == new.pde_weight
    assert old.constraint.partition_initial and old.constraint.lm.tol == 1e-7
    ds, defaults = hc_grid_problem(problem="diffusion_sorption", nu=1e-4)
    assert (ds.points, ds.scale_time, defaults["tol"]) == ("cell", True, 1e-4)
    assert hc_grid_problem()[0] == ds                  # neither key: diffusion–sorption


def test_problem_config_errors():
    def build(values):
        return MODELS.build("hc_moe", {**values, **SMALL}, grid_shape=[17, 9], t_final=1.0)

    with pytest.raises(ConfigError, match="not both"):
        build({"problem": "diffusion_sorption", "pde": "burgers"})
    with pytest.raises(ConfigError, match="nu is the viscosity of problem: navier_stokes"):
        build({**BURGERS, "nu": 0.1})
    with pytest.raises(ConfigError, match="unknown pde 'heat'"):
        build({"pde": "heat"})
    with pytest.raises(ConfigError, match="unknown key pde burgers.viscosity"):
        build({"pde": "burgers", "params": {"viscosity": 0.1}})
    with pytest.raises(ConfigError, match="boundary kind must be one of"):
        build({**BURGERS, "boundary": [{"kind": "outflow"}]})
    with pytest.raises(ConfigError, match="points must be one of"):
        build({**BURGERS, "points": "nodes"})
    with pytest.raises(ConfigError, match="grid_shape must be"):
        MODELS.build("hc_moe", {**BURGERS, **SMALL}, grid_shape=[8, 8, 5], t_final=1.0)
