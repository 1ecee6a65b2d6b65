"""Generated PDE data sets on tiny grids: layout, physics sanity, caching, resolutions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sciml.datasets import Burgers1D, Darcy2D, NavierStokes2D, PDEData, fine_resolution

from sciml.registry import DATASETS

DARCY = {"n_train": 4, "n_test": 2, "resolution": 9, "seed": 1, "chunk_size": 2,
         "progress": False}
NS = {"n_train": 3, "n_test": 2, "resolution": 8, "visc": 1e-3, "t_final": 0.2, "n_records": 2,
      "dt": 1e-2, "progress": False}
BURGERS = {"n_train": 3, "n_test": 2, "resolution": 16, "t_final": 0.1, "n_records": 2,
           "progress": False}


def test_darcy_layout_and_physics(tmp_path: Path) -> None:
    data = Darcy2D(root=tmp_path, **DARCY)
    assert isinstance(data, PDEData) and data.boundary == "dirichlet"
    assert data.x_train.shape == (4, 1, 9, 9) and data.y_test.shape == (2, 1, 9, 9)
    assert data.x_train.dtype == torch.float32 and not data.time_dependent
    assert set(torch.unique(data.x_train).tolist()) <= {4.0, 12.0}
    u = data.y_train.double()
    edges = torch.cat([u[..., 0, :], u[..., -1, :], u[..., :, 0], u[..., :, -1]], dim=-1)
    assert edges.abs().max() == 0.0
    # -div(a grad u) = 1 > 0 with u = 0 on the boundary: u > 0 inside (maximum principle)
    assert (u[..., 1:-1, 1:-1] > 0).all()
    # 4 <= a <= 12 bounds u between the solutions for a = 12 and a = 4: max u ~ 0.0737 / a
    assert 0.07 / 12 < u.amax(dim=(-1, -2)).min() and u.max() < 0.08 / 4
    assert not torch.equal(data.x_train[0], data.x_test[0]), "train and test are distinct streams"


def test_darcy_is_cached_and_reproducible(tmp_path: Path) -> None:
    first = Darcy2D(root=tmp_path, **DARCY)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and all(f.endswith(".h5") for f in files)
    again = Darcy2D(root=tmp_path, **DARCY)
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    assert torch.equal(first.y_train, again.y_train)
    other_seed = Darcy2D(root=tmp_path, **{**DARCY, "seed": 2})
    assert not torch.equal(first.x_train, other_seed.x_train)
    more = Darcy2D(root=tmp_path, **{**DARCY, "n_train": 6})
    assert torch.equal(more.x_train[:4], first.x_train), "extra samples extend the stream"
    assert torch.equal(more.y_test, first.y_test), "test split does not depend on n_train"


def test_train_and_test_resolutions_share_one_fine_solve(tmp_path: Path) -> None:
    coarse = Darcy2D(root=tmp_path, **{**DARCY, "resolution": 9, "test_resolution": 17})
    assert coarse.x_test.shape[-2:] == (17, 17) and coarse.params["solve_resolution"] == 17
    fine = Darcy2D(root=tmp_path, **{**DARCY, "resolution": 17, "test_resolution": 9})
    assert torch.equal(coarse.x_train, fine.x_train[..., ::2, ::2])
    assert torch.equal(coarse.y_train, fine.y_train[..., ::2, ::2])
    assert torch.equal(fine.y_test, coarse.y_test[..., ::2, ::2])


def test_fine_resolution_rules() -> None:
    assert fine_resolution([64, 127], periodic=False) == 127
    assert fine_resolution([85, 421], periodic=False) == 421
    assert fine_resolution([64, 128], periodic=True) == 128
    assert fine_resolution([9], periodic=False, solve_resolution=33) == 33
    with pytest.raises(ValueError, match="k\\(s−1\\)\\+1"):
        fine_resolution([64, 128], periodic=False)
    with pytest.raises(ValueError, match="solve_resolution=30"):
        fine_resolution([8], periodic=True, solve_resolution=30)


def test_navier_stokes_trajectories(tmp_path: Path) -> None:
    data = NavierStokes2D(root=tmp_path, test_resolution=16, **NS)
    assert data.boundary == "periodic" and data.time_dependent
    assert data.x_train.shape == (3, 1, 8, 8) and data.y_train.shape == (3, 2, 1, 8, 8)
    assert data.y_test.shape == (2, 2, 1, 16, 16)
    w0 = data.x_train.double()
    fine = data.x_test.double()  # the test grid is the solve grid here
    assert fine.mean(dim=(-1, -2)).abs().max() < 1e-5, "GRF vorticity has zero mean"
    # a short time step of a smooth flow changes the field only a little
    change = (data.y_train[:, 0].double() - w0).norm() / w0.norm()
    assert 0 < change < 0.5


def test_burgers_trajectories(tmp_path: Path) -> None:
    data = Burgers1D(root=tmp_path, test_resolution=32, **BURGERS)
    assert data.boundary == "periodic" and data.ndim == 1
    assert data.x_train.shape == (3, 1, 16) and data.y_train.shape == (3, 2, 1, 16)
    assert data.x_test.shape == (2, 1, 32)
    # viscous Burgers on a torus conserves the mean and dissipates energy (checked on the test
    # split, whose grid is the solve grid: subsampled grids alias the mean)
    u0, u = data.x_test.double(), data.y_test.double()
    assert torch.allclose(u[:, -1].mean(-1), u0.mean(-1), atol=1e-6)
    energy = (u**2).sum(-1)
    assert (energy[:, 1] < energy[:, 0]).all() and (energy[:, 0] < (u0**2).sum(-1)).all()


def test_registered_by_name(tmp_path: Path) -> None:
    data = DATASETS.build("darcy", {**DARCY, "root": str(tmp_path)})
    assert data.x_train.shape == (4, 1, 9, 9)
    with pytest.raises(ValueError, match="unknown key darcy.n_sample.*n_train"):
        DATASETS.build("darcy", {"n_sample": 3}, where="darcy")
    assert {"darcy", "navier_stokes", "burgers", "neuraloperator"} <= set(DATASETS.names())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"coefficient": "binary"}, "coefficient must be 'piecewise' or 'lognormal'"),
     ({"resolution": 2}, "resolution must be an integer >= 3"),
     ({"n_train": 0}, "n_train must be an integer >= 1"),
     ({"method": "cg"}, "method must be 'amg' or 'direct'")],
)
def test_darcy_bad_arguments(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Darcy2D(root=tmp_path, **{**DARCY, **kwargs})
    assert not list(tmp_path.glob("*.h5"))


def test_time_dependent_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="visc must be a finite positive number"):
        NavierStokes2D(root=tmp_path, **{**NS, "visc": float("nan")})
    with pytest.raises(ValueError, match="n_records must be an integer >= 1"):
        Burgers1D(root=tmp_path, **{**BURGERS, "n_records": 0})


def test_lognormal_coefficients(tmp_path: Path) -> None:
    data = Darcy2D(root=tmp_path, coefficient="lognormal", **DARCY)
    a = data.x_train.double()
    assert (a > 0).all() and len(torch.unique(a)) > 10
    assert np.isfinite(data.y_train.numpy()).all()


def test_amg_and_direct_solves_agree(tmp_path: Path) -> None:
    direct = Darcy2D(root=tmp_path, **DARCY)
    amg = Darcy2D(root=tmp_path, method="amg", **DARCY)
    assert torch.equal(direct.x_train, amg.x_train)
    rel = (amg.y_train - direct.y_train).norm() / direct.y_train.norm()
    assert 0 <= rel < 1e-6


HELMHOLTZ = {"n_train": 2, "n_test": 1, "seed": 3, "progress": False}


def test_helmholtz_is_solved_fine_and_subsampled(tmp_path: Path) -> None:
    from sciml.datasets import Helmholtz2D
    from sciml.solvers.helmholtz import solve_helmholtz

    fine = Helmholtz2D(root=tmp_path, resolution=101, **HELMHOLTZ)
    assert fine.boundary == "neumann" and fine.params["solve_resolution"] == 101
    c = fine.x_train.double()
    assert c.shape == (2, 1, 101, 101) and 19.0 < c.min() and c.max() < 21.0
    u = solve_helmholtz(c[:, 0].numpy())
    assert np.allclose(fine.y_train[:, 0].numpy(), u, rtol=1e-5, atol=1e-6 * np.abs(u).max())
    # a coarse request is solved on a >= 101-point grid (about 16 points per wavelength), not
    # on the coarse grid itself, and subsampled
    coarse = Helmholtz2D(root=tmp_path, resolution=11, **HELMHOLTZ)
    assert coarse.params["solve_resolution"] == 101
    assert torch.equal(coarse.x_train, fine.x_train[..., ::10, ::10])
    assert torch.equal(coarse.y_train, fine.y_train[..., ::10, ::10])
    assert DATASETS.build("helmholtz", {**HELMHOLTZ, "resolution": 11,
                                        "root": str(tmp_path)}).x_test.shape == (1, 1, 11, 11)
    with pytest.raises(ValueError, match="omega must be a finite positive number"):
        Helmholtz2D(root=tmp_path, omega=-1.0, **HELMHOLTZ)
