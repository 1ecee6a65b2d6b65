"""MgNO model: config, shapes at any resolution, boundaries, a tiny fit, checkpoints, rollout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from sciml.errors import ConfigError
from sciml.models import MgNO, MgNOConfig, load_model, rollout, rollout_loss
from sciml.physics import rel_l2_loss
from sciml.registry import MODELS

REPO = Path(__file__).resolve().parents[2]


def build(ndim=2, in_channels=1, out_channels=1, resolution=None, **cfg) -> MgNO:
    cfg = {"width": 8, "n_layers": 2, **cfg}
    return MODELS.build("mgno", cfg, in_channels=in_channels, out_channels=out_channels,
                        ndim=ndim, resolution=resolution)


@pytest.mark.parametrize("ndim,sizes", [(1, [16, 17, 33, 63, 64]), (2, [16, 17, 33])])
@pytest.mark.parametrize("boundary", ["dirichlet", "periodic", "neumann"])
def test_shapes_any_resolution(ndim, sizes, boundary):
    model = build(ndim, in_channels=3, out_channels=2, levels=3, boundary=boundary)
    for n in sizes:
        out = model(torch.randn(2, 3, *([n] * ndim)))
        assert out.shape == (2, 2, *([n] * ndim))


def test_levels_from_resolution_or_num_smooth():
    assert build(resolution=64).levels == 5
    assert build(resolution=(33, 64)).levels == 4
    assert build(num_smooth=[1, 2, 2]).levels == 3
    assert build(levels=2).levels == 2
    with pytest.raises(ConfigError, match="levels=None needs the training resolution"):
        build()


def test_train_resolution_32_runs_at_64_and_97():
    model = build(resolution=32)  # 4 levels: 32 -> 4 points; at 64 the coarsest has 8
    assert model.levels == 4
    with torch.no_grad():
        for n in (64, 97):
            out = model(torch.randn(1, 1, n, n))
            assert out.shape == (1, 1, n, n) and torch.isfinite(out).all()


def test_periodic_model_commutes_with_circular_shifts():
    model = build(levels=3, boundary="periodic", in_channels=2).double()
    x = torch.randn(2, 2, 16, 24, dtype=torch.float64)
    torch.testing.assert_close(model(torch.roll(x, (4, -8), (2, 3))),
                               torch.roll(model(x), (4, -8), (2, 3)), rtol=0, atol=1e-12)
    zeros = build(levels=3, in_channels=2).double()
    assert (zeros(torch.roll(x, 4, 2)) - torch.roll(zeros(x), 4, 2)).abs().max() > 1e-6
    # the boundary argument switches the padding of every layer
    torch.testing.assert_close(zeros(torch.roll(x, 4, 2), "periodic"),
                               torch.roll(zeros(x, "periodic"), 4, 2), rtol=0, atol=1e-12)


def test_residual_output_adds_the_state():
    model = build(ndim=1, in_channels=3, out_channels=2, levels=2, residual_output=True)
    with torch.no_grad():
        model.projection.weight.zero_()
        model.projection.bias.zero_()
    x = torch.randn(4, 3, 20)
    torch.testing.assert_close(model(x), x[:, :2])
    with pytest.raises(ConfigError, match="in_channels >= out_channels.*1 < 2"):
        build(ndim=1, in_channels=1, out_channels=2, levels=2, residual_output=True)


@pytest.mark.parametrize("hidden", [0, 4])
def test_zero_init_output_starts_a_rollout_at_persistence(hidden):
    """zero_init_output: the output is 0 at initialisation (a residual stepper rolls out the
    initial state unchanged), every other weight as drawn without it, and training moves it."""
    torch.manual_seed(0)
    plain = build(levels=2, projection_hidden=hidden)
    torch.manual_seed(0)
    zero = build(levels=2, projection_hidden=hidden, zero_init_output=True)
    last = "projection.2" if hidden else "projection"
    for (name, a), (_, b) in zip(plain.named_parameters(), zero.named_parameters(), strict=True):
        if name.startswith(last):
            assert not b.any() and a.any(), name
        else:
            assert torch.equal(a, b), name
    u0 = torch.randn(3, 1, 16, 16)
    traj = rollout(zero, u0, steps=4)
    torch.testing.assert_close(traj, u0[:, None].expand(-1, 4, -1, -1, -1))
    zero.reset_parameters()
    assert not dict(zero.named_parameters())[f"{last}.weight"].any()
    loss = rollout_loss(zero, torch.randn(3, 4, 1, 16, 16), False, u0=u0)
    loss.backward()
    assert dict(zero.named_parameters())[f"{last}.weight"].grad.abs().sum() > 0


def test_gradients_reach_all_parameters():
    model = build(levels=3, num_smooth=[1, 2, 1], num_post_smooth=1, projection_hidden=4).double()
    model(torch.randn(2, 1, 17, 17, dtype=torch.float64)).square().sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_parameter_count_formula():
    w, c3 = 16, 9  # 3x3 kernels in 2-D
    model = MgNO(MgNOConfig(width=w, n_layers=3, levels=4, num_smooth=[1, 1, 2, 2],
                            num_post_smooth=1), in_channels=3, out_channels=1, ndim=2)
    smoothers = 4 + (1 + 1 + 2 + 2) + 4  # A per level, S per pre and per post step
    transfers = 3 * 3  # restriction of u and f, prolongation, between 4 levels
    per_layer = (smoothers + transfers) * w * w * c3 + (w * w + w)  # + pointwise W, b
    expected = (3 * w + w) + 3 * per_layer + (w * 1 + 1)
    assert model.n_parameters == expected


def poisson_1d(n_samples: int, s: int, generator: torch.Generator):
    """Random f on the vertex grid of [0, 1] and u solving -u'' = f, u(0) = u(1) = 0."""
    h = 1.0 / (s - 1)
    m = s - 2
    lap = (2 * torch.eye(m, dtype=torch.float64) - torch.diag(torch.ones(m - 1), 1).double()
           - torch.diag(torch.ones(m - 1), -1).double()) / h**2
    f = torch.randn(n_samples, s, generator=generator, dtype=torch.float64)
    u = torch.zeros_like(f)
    u[:, 1:-1] = torch.linalg.solve(lap, f[:, 1:-1].T).T
    return f[:, None].float(), u[:, None].float()


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions run fastest (and steadiest on a shared machine) on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_tiny_fit_learns_the_inverse_laplacian():
    g = torch.Generator().manual_seed(0)
    f_train, u_train = poisson_1d(512, 33, g)
    f_test, u_test = poisson_1d(128, 33, g)
    scale = u_train.std()
    model = MgNO(MgNOConfig(width=8, n_layers=2, levels=4), in_channels=1, out_channels=1,
                 ndim=1)
    steps = 300
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=steps)
    with torch.no_grad():
        start = rel_l2_loss(model(f_test) * scale, u_test).item()
    for _ in range(steps):
        idx = torch.randint(0, 512, (64,))
        loss = rel_l2_loss(model(f_train[idx]) * scale, u_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        end = rel_l2_loss(model(f_test) * scale, u_test).item()
    # measured: about 0.03 after 300 steps (from about 1.0)
    print(f"MgNO 1-D Poisson fit: test rel L2 {start:.3f} -> {end:.4f}")
    assert end < 0.05, (start, end)
    assert end < start / 10


def test_save_load_round_trip(tmp_path):
    model = build(levels=None, resolution=(20, 24), num_smooth=2, boundary="neumann",
                  in_channels=2, out_channels=3)
    path = tmp_path / "mgno.pt"
    model.save(path)
    loaded = load_model(path)
    assert isinstance(loaded, MgNO) and loaded.config == model.config
    assert loaded.levels == model.levels == 3
    x = torch.randn(2, 2, 20, 24)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    assert not [p for p in tmp_path.iterdir() if p.name != "mgno.pt"]  # no temp file left


def test_config_errors():
    with pytest.raises(ConfigError, match="unknown key model.depth"):
        MODELS.config("mgno", {"depth": 3}, where="model")
    cfg = MODELS.config("mgno", {"num_smooth": [1, 2], "levels": 2})
    assert cfg.num_smooth == (1, 2)
    with pytest.raises(ConfigError, match="num_smooth has 3 entries but levels=2"):
        MODELS.config("mgno", {"num_smooth": [1, 1, 1], "levels": 2})
    with pytest.raises(ValueError, match="boundary must be one of.*'robin'"):
        MgNOConfig(boundary="robin")
    with pytest.raises(ValueError, match="activation must be one of.*'swish'"):
        MgNOConfig(activation="swish")
    with pytest.raises(ValueError, match="width must be an integer >= 1, got 0"):
        MgNOConfig(width=0)
    with pytest.raises(ValueError, match="kernel_size must be an odd integer"):
        MgNOConfig(kernel_size=2)


def test_bad_input_errors():
    model = build(levels=4, in_channels=2)
    with pytest.raises(ValueError, match=r"shape \(batch, 2, n, n\).*got \(2, 2, 32\)"):
        model(torch.randn(2, 2, 32))
    with pytest.raises(ValueError, match=r"got \(2, 1, 32, 32\)"):
        model(torch.randn(2, 1, 32, 32))
    assert model(torch.randn(1, 2, 9, 32)).shape == (1, 1, 9, 32)  # 9 -> 5 -> 3 -> 2
    with pytest.raises(ValueError, match=r"size \(7, 32\) is too small for levels=4"):
        model(torch.randn(1, 2, 7, 32))  # 7 -> 4 -> 2 -> 1
    with pytest.raises(ValueError, match="boundary must be one of.*'open'"):
        model(torch.randn(1, 2, 32, 32), "open")


def test_rollout_and_losses():
    torch.manual_seed(0)
    model = build(ndim=1, in_channels=2, out_channels=1, levels=2).double()
    u0 = torch.randn(3, 1, 16, dtype=torch.float64)
    coords = torch.linspace(0, 1, 16, dtype=torch.float64).expand(3, 1, 16)
    traj = rollout(model, u0, 4, extra=coords)
    assert traj.shape == (3, 4, 1, 16)
    manual = u0
    for k in range(4):
        manual = manual + model(torch.cat([manual, coords], 1))
        torch.testing.assert_close(traj[:, k], manual)
    target = torch.randn(3, 5, 1, 16, dtype=torch.float64)  # initial frame + 4 targets
    tf = rollout_loss(model, target, teacher_forcing=True, extra=coords)
    expected = torch.stack([
        rel_l2_loss(target[:, k] + model(torch.cat([target[:, k], coords], 1)), target[:, k + 1])
        for k in range(4)]).mean()
    torch.testing.assert_close(tf, expected)
    free = rollout_loss(model, target[:, 1:], teacher_forcing=False, u0=target[:, 0],
                        extra=coords)
    pred = rollout(model, target[:, 0], 4, extra=coords)
    torch.testing.assert_close(free, torch.stack(
        [rel_l2_loss(pred[:, k], target[:, k + 1]) for k in range(4)]).mean())
    free.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_rollout_errors():
    stepper = build(ndim=1, levels=2, residual_output=True)
    u0 = torch.randn(2, 1, 16)
    assert rollout(stepper, u0, 2, residual=False).shape == (2, 2, 1, 16)
    with pytest.raises(ValueError, match="residual_output=True.*residual=False"):
        rollout(stepper, u0, 2)
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        rollout(stepper, u0, 0, residual=False)
    with pytest.raises(ValueError, match=r"needs >= 2 frames.*\(2, 1, 1, 16\)"):
        rollout_loss(stepper, u0[:, None], True, residual=False)
    with pytest.raises(ValueError, match=r"extra must have shape.*\(2, 1, 8\)"):
        rollout(build(ndim=1, in_channels=2, levels=2), u0, 1, extra=torch.zeros(2, 1, 8))
    with pytest.raises(TypeError, match="teacher_forcing must be True or False"):
        rollout_loss(stepper, torch.randn(2, 3, 1, 16), "yes", residual=False)


def test_annotations_hold_under_beartype():
    script = textwrap.dedent("""
        import torch
        from jaxtyping import TypeCheckError, install_import_hook
        with install_import_hook(["sciml.nn._multigrid", "sciml.nn._resample",
                                  "sciml.models._mgno", "sciml.models._rollout",
                                  "sciml.physics"], "beartype.beartype"):
            from sciml.models._mgno import MgNO, MgNOConfig
            from sciml.models._rollout import rollout
            from sciml.physics._losses import h1_loss
        m = MgNO(MgNOConfig(width=4, n_layers=1, levels=2), in_channels=1, out_channels=1,
                 ndim=2)
        x = torch.randn(2, 1, 8, 8)
        assert m(x).shape == (2, 1, 8, 8)
        assert rollout(m, x, 2).shape == (2, 2, 1, 8, 8)
        assert h1_loss(m(x), x).ndim == 0
        transfer = MgNO(MgNOConfig(width=4, n_layers=1), in_channels=1, out_channels=1, ndim=2,
                        resolution=8)  # runs on 8x8 whatever the input's grid
        assert transfer(torch.randn(2, 1, 15, 12)).shape == (2, 1, 15, 12)
        try:
            rollout(m, x, 2, extra=torch.zeros(3, 1, 8, 8))  # batch 3 != 2: annotation says b
        except TypeCheckError:
            print("OK")
    """)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                         text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith("OK"), res.stdout
