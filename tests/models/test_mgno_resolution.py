"""MgNO across resolutions: a learned inverse Laplacian keeps its meaning on finer and coarser
grids, and the training resolution is untouched by the transfer option."""

from __future__ import annotations

import math

import pytest
import torch
from _poisson_pairs import poisson_pairs as _poisson_pairs
from _poisson_pairs import rel_l2

from sciml.models import MgNO, MgNOConfig
from sciml.nn import resample_grid
from sciml.registry import MODELS

K = 6  # sine modes per axis


def poisson_pairs(n_samples: int, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse Laplacian's pairs with this file's number of sine modes."""
    return _poisson_pairs(n_samples, n, seed, modes=K)


CFG = {"width": 8, "n_layers": 2}


@pytest.fixture(scope="module")
def inverse_laplacian() -> tuple[MgNO, float, float]:
    """An MgNO trained on (-Δ)^{-1} at 32² (about 10 s on one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions: one thread (see the one_thread fixture)
    torch.manual_seed(0)
    f, u = poisson_pairs(256, 32, seed=0)
    f_scale, u_scale = float(f.std()), float(u.std())
    model = MODELS.build("mgno", CFG, in_channels=1, out_channels=1, ndim=2, resolution=32)
    steps = 250
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for _ in range(steps):
        idx = torch.randint(0, len(f), (16,))
        pred = model(f[idx] / f_scale) * u_scale
        loss = ((pred - u[idx]).flatten(1).norm(dim=1) / u[idx].flatten(1).norm(dim=1)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    torch.set_num_threads(threads)
    return model.eval(), f_scale, u_scale


def test_inverse_laplacian_keeps_its_meaning_across_resolutions(inverse_laplacian, one_thread):
    model, f_scale, u_scale = inverse_laplacian
    off = MODELS.build("mgno", {**CFG, "resolution_transfer": False}, in_channels=1,
                       out_channels=1, ndim=2, resolution=32)
    off.load_state_dict(model.state_dict())
    off.eval()
    errors, errors_off, ratio_off = {}, {}, {}
    with torch.no_grad():
        for n in (16, 32, 64, 128):
            f, u = poisson_pairs(32, n, seed=1)  # unseen samples, the same functions per n
            errors[n] = rel_l2(model(f / f_scale) * u_scale, u)
            pred_off = off(f / f_scale) * u_scale
            errors_off[n] = rel_l2(pred_off, u)
            ratio_off[n] = float(pred_off.norm() / u.norm())
    assert errors[32] < 0.1, errors
    # measured: 0.062 (16²), 0.058 (32²), 0.050 (64²), 0.049 (128²). On finer grids the error
    # against the continuous answer does not grow as h shrinks, and stays at the
    # training-resolution error (no detail finer than 32² can be learned there)
    assert errors[64] <= 1.05 * errors[32] and errors[128] <= 1.05 * errors[64], errors
    assert errors[16] <= 1.5 * errors[32], errors  # coarser: the 16² input carries less
    # the stencils in grid points, without the transfer: a field ~2x too large at 64² (the
    # "predict at a finer grid" bug), worse at 128²
    assert ratio_off[64] > 1.5 and ratio_off[128] > ratio_off[64], ratio_off
    assert errors_off[64] > 10 * errors[64], (errors, errors_off)


def test_transfer_equals_restrict_predict_interpolate(inverse_laplacian, one_thread):
    model, _, _ = inverse_laplacian
    x = torch.randn(2, 1, 63, 63)
    with torch.no_grad():
        direct = model(x)
        baseline = resample_grid(model(resample_grid(x, 32)), 63)
    torch.testing.assert_close(direct, baseline, rtol=0, atol=0)


@pytest.mark.parametrize("cfg", [
    {"width": 8, "n_layers": 2},
    {"width": 8, "n_layers": 2, "num_smooth": [1, 2, 2], "num_post_smooth": 1,
     "restrict_residual": False, "boundary": "periodic", "residual_output": True,
     "projection_hidden": 8},
])
def test_training_resolution_bitwise_unchanged(cfg, one_thread):
    torch.manual_seed(3)
    on = MODELS.build("mgno", cfg, in_channels=3, out_channels=2, ndim=2, resolution=(32, 24))
    off = MODELS.build("mgno", {**cfg, "resolution_transfer": False}, in_channels=3,
                       out_channels=2, ndim=2, resolution=(32, 24))
    assert on.grid == (32, 24) and off.grid is None
    off.load_state_dict(on.state_dict())
    x = torch.randn(4, 3, 32, 24)
    with torch.no_grad():
        y_on, y_off = on(x), off(x)
        # the network as it was composed before the option existed
        v = on.lifting(x.contiguous(memory_format=torch.channels_last))
        for layer in on.layers:
            v = layer(v)
        ref = on.projection(v).contiguous()
        if on.config.residual_output:
            ref = ref + x[:, :2]
    assert torch.equal(y_on, y_off) and torch.equal(y_on, ref)
    # off the training grid the two differ: one runs the trained grid, one the input's
    with torch.no_grad():
        assert not torch.allclose(on(torch.randn(1, 3, 64, 48)), off(torch.randn(1, 3, 64, 48)))


def test_transfer_config_and_checkpoints(tmp_path):
    with pytest.raises(ValueError, match="resolution_transfer must be true or false"):
        MgNOConfig(resolution_transfer="yes")
    model = MODELS.build("mgno", {"width": 4, "n_layers": 1}, in_channels=1, out_channels=1,
                         ndim=1, resolution=33)
    assert model.grid == (33,)
    no_grid = MODELS.build("mgno", {"width": 4, "n_layers": 1, "levels": 2}, in_channels=1,
                           out_channels=1, ndim=1)
    assert no_grid.grid is None  # nothing to transfer to: every grid is its own
    from sciml.models import load_model

    model.save(tmp_path / "m.pt")
    again = load_model(tmp_path / "m.pt")
    x = torch.randn(2, 1, 65)
    with torch.no_grad():
        assert again.grid == (33,) and torch.equal(again(x), model(x))


@pytest.mark.parametrize("boundary", ["dirichlet", "neumann", "periodic"])
def test_resample_grid_linear_fields_and_injection(boundary):
    if boundary == "periodic":  # a periodic field: sampled at i / n
        def field(n):
            s = torch.arange(n, dtype=torch.float64) / n
            return torch.cos(2 * math.pi * s)[None, None]
        coarse = field(64)
        assert torch.equal(resample_grid(field(128), 64, boundary), field(128)[..., ::2])
        err = (resample_grid(coarse, 128, boundary) - field(128)).abs().max()
        assert err < (2 * math.pi / 64) ** 2 / 8 + 1e-12  # linear interpolation's error bound
    else:  # vertex grid: linear functions exactly, coinciding nodes injected
        def field(n):
            return torch.linspace(-1, 3, n, dtype=torch.float64)[None, None]
        torch.testing.assert_close(resample_grid(field(17), 40, boundary), field(40))
        torch.testing.assert_close(resample_grid(field(127), 64, boundary), field(127)[..., ::2])
    x = torch.randn(1, 2, 8, 9)
    assert resample_grid(x, (8, 9)) is x
    with pytest.raises(ValueError, match="size must be"):
        resample_grid(x, (8, 0))
    with pytest.raises(ValueError, match="boundary must be"):
        resample_grid(x, 4, "robin")


@pytest.mark.parametrize("restrict_residual", [True, False])
def test_adapt_state_to_more_levels_starts_as_the_trained_cycles_one_grid_down(
        restrict_residual, one_thread):
    """Fine-tuning on a finer grid (more levels): the new finest level of each V-cycle starts as
    injection -> trained cycle -> linear interpolation, the trained levels matched by grid."""
    torch.manual_seed(4)
    cfg = {"width": 6, "n_layers": 2, "restrict_residual": restrict_residual,
           "num_post_smooth": 1}
    source = MODELS.build("mgno", cfg, in_channels=2, out_channels=1, ndim=2,
                          resolution=32).double()
    target = MODELS.build("mgno", cfg, in_channels=2, out_channels=1, ndim=2,
                          resolution=63).double()
    assert (source.levels, target.levels) == (4, 5)
    state, info = target.adapt_state(source.state_dict())
    assert "levels 4 -> 5" in info["note"] and info["constructed"]
    target.load_state_dict({**target.state_dict(), **state})
    x = torch.randn(2, 2, 63, 63, dtype=torch.float64)
    with torch.no_grad():
        v = source.lifting(x)
        for layer in source.layers:  # each V-cycle on the 32² nodes of the 63² grid
            cycle = resample_grid(layer.mg(resample_grid(v, 32)), 63)
            v = layer.act(cycle + layer.linear(v))
        expected = source.projection(v)
        torch.testing.assert_close(target(x), expected, rtol=1e-10, atol=1e-10)
    same, info = source.adapt_state(source.state_dict())
    assert info == {} and same.keys() == source.state_dict().keys()


def test_periodic_residual_model_on_a_finer_grid_keeps_the_fine_state(one_thread):
    """Time stepping at twice the resolution: the increment comes from the training grid, the
    state added to it is the input's own (no detail of the state is lost to the transfer)."""
    torch.manual_seed(5)
    cfg = {"width": 6, "n_layers": 2, "boundary": "periodic", "residual_output": True}
    model = MODELS.build("mgno", cfg, in_channels=1, out_channels=1, ndim=2,
                         resolution=16).double()
    u = torch.randn(2, 1, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        increment = model(u[..., ::2, ::2]) - u[..., ::2, ::2]  # on the training grid
        expected = u + resample_grid(increment, 32, "periodic")
        torch.testing.assert_close(model(u), expected, rtol=1e-12, atol=1e-12)
