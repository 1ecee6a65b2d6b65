"""PONITA: equivariance (exact where the group permutes the grid, quantified elsewhere),
forces as gradients, periodic cells, checkpoints, bad input and a tiny training run."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from sciml.errors import ConfigError
from sciml.geometry import axis_angle_rotation, random_rotation, rotation_2d
from sciml.models import Ponita, PonitaConfig, load_model
from sciml.registry import MODELS
from sciml.testing import assert_equivariant, equivariance_errors

F64 = torch.float64
PHI = (1 + math.sqrt(5)) / 2
ALL = ("rotation", "reflection", "translation", "permutation")
OUTS = ("graph_scalar", "node_vector")


def small(**kw) -> PonitaConfig:
    base = dict(hidden_size=16, n_layers=2, num_ori=8, basis_dim=16, degree=2, layer_scale=None)
    base.update(kw)
    return PonitaConfig(**base)


def make(cfg: PonitaConfig, dtype=F64, seed=0, **sizes) -> Ponita:
    torch.manual_seed(seed)
    sizes = {"in_channels": 2, "out_channels": 2, "out_vector_channels": 1,
             "in_vector_channels": 1, **sizes}
    return Ponita(cfg, **sizes).to(dtype)


def inputs(dim=3, n=(5, 4), dtype=F64, seed=0, cv=1):
    gen = torch.Generator().manual_seed(seed)
    total = sum(n)
    pos = (1.5 * torch.randn(total, dim, generator=gen, dtype=F64)).to(dtype)
    x = torch.randn(total, 2, generator=gen, dtype=F64).to(dtype)
    vec = torch.randn(total, cv, dim, generator=gen, dtype=F64).to(dtype) if cv else None
    batch = torch.cat([torch.full((k,), i) for i, k in enumerate(n)])
    return pos, x, vec, batch


def outputs_of(model, **kw):
    def fn(p, x, v, b):
        return [o for o in model(p, x, b, v, **kw) if o is not None]
    return fn


def errors(model, dim=3, dtype=F64, transforms=ALL, check=True, **kw):
    pos, x, vec, batch = inputs(dim, dtype=dtype)
    f = assert_equivariant if check else equivariance_errors
    return f(outputs_of(model), pos, x, vec, batch, outputs=OUTS, transforms=transforms,
             generator=torch.Generator().manual_seed(7), **kw)


def icosahedron() -> torch.Tensor:
    v = []
    for a in (-1.0, 1.0):
        for b in (-PHI, PHI):
            v += [(0.0, a, b), (a, b, 0.0), (b, 0.0, a)]
    g = torch.tensor(v, dtype=F64)
    return g / g.norm(dim=1, keepdim=True)


def icosahedral_rotations() -> torch.Tensor:
    five = axis_angle_rotation((0.0, 1.0, PHI), 2 * math.pi / 5)
    three = axis_angle_rotation((1.0, 1.0, 1.0), 2 * math.pi / 3)
    two = axis_angle_rotation((1.0, 0.0, 0.0), math.pi)
    return torch.stack([five, three, two, five @ three, three @ two @ five, five @ five])


# --- position-only (PNITA): exactly E(d)-equivariant ------------------------------------------

@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_position_only_model_is_exactly_equivariant(dim, dtype):
    model = make(small(num_ori=0, dim=dim), dtype)
    errs = errors(model, dim, dtype)  # default tolerance: 1e-10 (float64), 1e-5 (float32)
    assert set(errs) == set(ALL)


def test_position_only_radius_graph_is_equivariant():
    model = make(small(num_ori=0, radius=5.0, multiple_readouts=True))
    errors(model)


# --- fibre bundle R3 x S2 ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_fibre_model_is_exact_for_translations_and_permutations(dtype):
    model = make(small(num_ori=12), dtype)
    errors(model, 3, dtype, transforms=("translation", "permutation"))


@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_fibre_model_is_exact_for_rotations_that_permute_the_grid(dtype):
    model = make(small(num_ori=12), dtype)
    grid = icosahedron()
    model.ori_grid = grid
    rots = icosahedral_rotations()
    for r in rots:  # each one maps the grid onto itself
        assert torch.cdist(grid @ r.T, grid).min(1).values.max() < 1e-12
    errors(model, 3, dtype, transforms=("rotation",), rotations=rots, trials=len(rots))
    # The icosahedron is centrally symmetric: the inversion -I (a reflection) permutes it too.
    errors(model, 3, dtype, transforms=("reflection",),
           rotations=-torch.eye(3, dtype=F64)[None], trials=1)
    # A generic rotation does not permute the grid and is not exact.
    off = errors(model, 3, dtype, transforms=("rotation",), check=False)["rotation"]
    assert off > 1e-4


def test_fibre_model_is_exact_when_the_grid_rotates_with_the_input():
    model = make(small(num_ori=10))
    pos, x, vec, batch = inputs()
    ref_s, ref_v = model(pos, x, batch, vec)
    rot = random_rotation(3, generator=torch.Generator().manual_seed(3))
    model.ori_grid = model.ori_grid @ rot.T
    s, v = model(pos @ rot.T, x, batch, vec @ rot.T)
    torch.testing.assert_close(s, ref_s, atol=1e-10, rtol=0)
    torch.testing.assert_close(v, ref_v @ rot.T, atol=1e-10, rtol=0)


def test_fibre_model_off_grid_error_shrinks_with_more_orientations():
    rots = random_rotation(3, 6, generator=torch.Generator().manual_seed(11))
    errs = {}
    for num_ori in (8, 24, 72):
        model = make(small(num_ori=num_ori))
        errs[num_ori] = errors(model, transforms=("rotation",), rotations=rots, trials=6,
                               check=False)["rotation"]
    # Measured on this seed: see the printed errors (relative to the output size).
    print("off-grid rotation error by num_ori:", errs)
    assert errs[8] > errs[24] > errs[72]
    assert errs[72] < 0.25 * errs[8] and errs[72] < 0.05


# --- fibre bundle R2 x S1 ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_2d_fibre_model_is_exact_for_rotations_by_grid_steps(dtype):
    model = make(small(num_ori=6, dim=2), dtype)
    rots = torch.stack([rotation_2d(2 * math.pi / 6 * k) for k in (1, 2, 5)])
    errors(model, 2, dtype, transforms=("rotation",), rotations=rots)
    errors(model, 2, dtype, transforms=("translation", "permutation"))


def test_2d_fibre_model_is_not_reflection_equivariant():
    # <rel, o_perp> changes sign under a mirror: the model is SE(2), not E(2), equivariant.
    model = make(small(num_ori=6, dim=2))
    mirror = torch.diag(torch.tensor([1.0, -1.0], dtype=F64))[None]
    err = errors(model, 2, transforms=("reflection",), rotations=mirror, trials=1,
                 check=False)["reflection"]
    assert err > 1e-3


# --- forces, periodic cells -------------------------------------------------------------------

@pytest.mark.parametrize("num_ori,radius", [(0, None), (8, None), (8, 5.0), (0, 5.0)])
def test_forces_equal_finite_differences_of_the_energy(num_ori, radius):
    model = make(small(num_ori=num_ori, radius=radius), in_vector_channels=0,
                 out_channels=1, out_vector_channels=0)
    pos, x, _, batch = inputs(cv=0)
    pos.requires_grad_(True)
    energy = model(pos, x, batch)[0].sum()
    (grad,) = torch.autograd.grad(energy, pos)
    forces = -grad
    h = 1e-6
    fd = torch.zeros_like(pos)
    with torch.no_grad():
        for i in range(pos.size(0)):
            for k in range(3):
                plus, minus = pos.detach().clone(), pos.detach().clone()
                plus[i, k] += h
                minus[i, k] -= h
                fd[i, k] = -(model(plus, x, batch)[0].sum() - model(minus, x, batch)[0].sum()) / (
                    2 * h)
    torch.testing.assert_close(forces, fd, atol=1e-7, rtol=1e-6)
    assert forces.abs().max() > 1e-4  # not trivially zero


@pytest.mark.parametrize("num_ori,radius", [(4, 4.0), (0, None)])
def test_force_jacobian_gradcheck(num_ori, radius):
    # Training on forces differentiates -dE/dpos again (create_graph): check that derivative.
    model = make(small(num_ori=num_ori, radius=radius, hidden_size=4, n_layers=1, basis_dim=4),
                 in_channels=1, in_vector_channels=0, out_channels=1, out_vector_channels=0)
    x = torch.randn(4, 1, dtype=F64)
    batch = torch.zeros(4, dtype=torch.long)

    def forces(p):
        return -torch.autograd.grad(model(p, x, batch)[0].sum(), p, create_graph=True)[0]

    pos = torch.randn(4, 3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(forces, (pos,), atol=1e-6)


def test_forces_are_equivariant_for_the_position_only_model():
    model = make(small(num_ori=0, radius=5.0), in_vector_channels=0, out_channels=1,
                 out_vector_channels=0)
    pos, x, _, batch = inputs(cv=0)

    def fn(p, xx, v, b):
        p = p.detach().requires_grad_(True)
        e = model(p, xx, b)[0]
        (g,) = torch.autograd.grad(e.sum(), p, create_graph=True)
        return [e, -g.unsqueeze(1)]

    assert_equivariant(fn, pos, x, None, batch, outputs=("graph_scalar", "node_vector"),
                       transforms=ALL, generator=torch.Generator().manual_seed(2))


def test_periodic_cell_images_and_rotation():
    model = make(small(num_ori=0, radius=2.0, periodic=True), in_vector_channels=0,
                 out_channels=1, out_vector_channels=0)
    gen = torch.Generator().manual_seed(0)
    cell = torch.tensor([[3.0, 0.0, 0.0], [0.4, 3.2, 0.0], [0.1, 0.3, 2.9]], dtype=F64)
    frac = torch.rand(6, 3, generator=gen, dtype=F64)
    pos = frac @ cell
    x = torch.randn(6, 2, generator=gen, dtype=F64)
    batch = torch.zeros(6, dtype=torch.long)
    e = model(pos, x, batch, cell=cell[None])[0]
    # Moving an atom by a lattice vector changes nothing.
    moved = pos.clone()
    moved[2] += cell[0] - 2 * cell[2]
    torch.testing.assert_close(model(moved, x, batch, cell=cell[None])[0], e, atol=1e-10,
                               rtol=0)
    # Rotating atoms and cell together changes nothing.
    rot = random_rotation(3, generator=gen)
    torch.testing.assert_close(model(pos @ rot.T, x, batch, cell=(cell @ rot.T)[None])[0], e,
                               atol=1e-10, rtol=0)
    # Without periodicity the energy differs (the images matter).
    open_model = make(small(num_ori=0, radius=2.0), in_vector_channels=0, out_channels=1,
                      out_vector_channels=0)
    assert not torch.allclose(open_model(pos, x, batch)[0], e)


# --- config, checkpoints, bad input, training -------------------------------------------------

def test_registry_config_and_checkpoint_round_trip(tmp_path):
    model = MODELS.build("ponita", {"hidden_size": 8, "n_layers": 1, "num_ori": 4,
                                    "basis_dim": 8, "task_level": "node"},
                         in_channels=2, out_channels=1, out_vector_channels=1,
                         in_vector_channels=1)
    assert isinstance(model, Ponita)
    pos, x, vec, batch = inputs(dtype=torch.float32)
    s, v = model(pos, x, batch, vec)
    assert s.shape == (9, 1) and v.shape == (9, 1, 3)
    model.save(tmp_path / "m.pt")
    again = load_model(tmp_path / "m.pt")
    s2, v2 = again(pos, x, batch, vec)
    assert torch.equal(s, s2) and torch.equal(v, v2)
    with pytest.raises(ConfigError, match="unknown key model.hiden_size"):
        MODELS.build("ponita", {"hiden_size": 8}, in_channels=1, out_channels=1)
    for bad, match in (({"num_ori": -1}, "num_ori"), ({"dim": 4}, "dim must be 2 or 3"),
                       ({"periodic": True}, "periodic=True needs a radius"),
                       ({"radius": -1.0}, "radius"), ({"task_level": "edge"}, "task_level")):
        with pytest.raises(ConfigError, match=match):
            MODELS.build("ponita", bad, in_channels=1, out_channels=1)


def test_bad_inputs_name_the_problem():
    model = make(small(num_ori=4))
    pos, x, vec, batch = inputs()
    with pytest.raises(ValueError, match=r"pos must have shape \(N, 3\)"):
        model(pos[:, :2], x, batch, vec)
    with pytest.raises(ValueError, match="x must have shape"):
        model(pos, x[:, :1], batch, vec)
    with pytest.raises(ValueError, match="vec must have shape"):
        model(pos, x, batch, None)
    with pytest.raises(ValueError, match="batch must be"):
        model(pos, x, batch.float(), vec)
    bad = pos.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        model(bad, x, batch, vec)
    with pytest.raises(ValueError, match="cell given"):
        model(pos, x, batch, vec, cell=torch.eye(3, dtype=F64)[None])
    periodic = make(small(num_ori=0, radius=1.0, periodic=True))
    with pytest.raises(ValueError, match="needs cell"):
        periodic(pos, x, batch, vec)
    with pytest.raises(ValueError, match="singular"):
        periodic(pos, x, batch, vec, cell=torch.zeros(2, 3, 3, dtype=F64))
    with pytest.raises(ValueError, match="out_channels"):
        Ponita(small(), in_channels=1, out_channels=0)


def test_a_cutoff_that_isolates_atoms_warns():
    model = make(small(num_ori=0, radius=0.01))
    pos, x, vec, batch = inputs()
    with pytest.warns(UserWarning, match="without neighbours"):
        model(pos, x, batch, vec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make(small(num_ori=0, radius=50.0))(pos, x, batch, vec)


@pytest.mark.parametrize("num_ori", [0, 8])
def test_tiny_training_run_fits_an_equivariant_target(num_ori, one_thread):
    # Target: the displacement of each particle towards its graph's centroid, weighted by a
    # scalar feature (an equivariant vector field the model must learn from geometry).
    torch.manual_seed(0)
    model = Ponita(small(num_ori=num_ori, layer_scale=0.1, task_level="node"), in_channels=1,
                   out_channels=1, out_vector_channels=1)
    gen = torch.Generator().manual_seed(0)
    n_graphs, k = 8, 5
    pos = torch.randn(n_graphs * k, 3, generator=gen)
    batch = torch.arange(n_graphs).repeat_interleave(k)
    q = torch.randint(0, 2, (n_graphs * k, 1), generator=gen).float() * 2 - 1
    centroid = torch.zeros(n_graphs, 3).index_add_(0, batch, pos) / k
    target = (q * (centroid[batch] - pos)).unsqueeze(1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def loss_fn():
        return ((model(pos, q, batch)[1] - target) ** 2).mean()

    with torch.no_grad():
        first = loss_fn().item()
    for _ in range(80):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert loss_fn().item() < 0.2 * first


BEARTYPE_SCRIPT = """
import torch
from jaxtyping import install_import_hook
with install_import_hook(["sciml.geometry", "sciml.nn._ponita_conv", "sciml.models._ponita",
                          "sciml.models._ponita_graph"], "beartype.beartype"):
    import sciml.geometry as g
    from sciml.models._ponita import Ponita, PonitaConfig
for d, o in ((3, 6), (3, 0), (2, 4)):
    cfg = PonitaConfig(hidden_size=4, n_layers=1, num_ori=o, dim=d, basis_dim=4, radius=30.0)
    m = Ponita(cfg, in_channels=2, out_channels=1, in_vector_channels=1, out_vector_channels=1)
    s, v = m(torch.randn(6, d), torch.randn(6, 2), torch.tensor([0, 0, 0, 1, 1, 1]),
             torch.randn(6, 1, d))
    assert s.shape == (2, 1) and v.shape == (6, 1, d)
grid = g.fibonacci_sphere(10)
g.sphere_to_sh(g.sh_to_sphere(torch.randn(4, 2), grid), grid, 1)
g.sphere_to_vec(g.vec_to_sphere(torch.randn(3, 2, 3), grid), grid)
g.r2s1_invariants(torch.randn(5, 2), g.circle_grid(3))
print("OK")
"""


@pytest.mark.slow  # a fresh interpreter imports sciml and compiles the numba kernels (~30 s)
def test_shape_annotations_hold_under_beartype():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-c", BEARTYPE_SCRIPT], capture_output=True, text=True,
                         timeout=120, env=env, cwd=Path(__file__).resolve().parents[2])
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith("OK")
