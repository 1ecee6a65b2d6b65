"""PDEData validation, the per-channel UnitGaussianNormalizer and coordinate channels."""

from __future__ import annotations

import io

import pytest
import torch
from sciml.datasets import PDEData, UnitGaussianNormalizer, with_coordinates

from sciml.errors import DataError, NonFiniteError


def _data(**over) -> PDEData:
    base = dict(x_train=torch.zeros(4, 1, 5, 5), y_train=torch.zeros(4, 1, 5, 5),
                x_test=torch.zeros(2, 1, 9, 9), y_test=torch.zeros(2, 1, 9, 9),
                boundary="dirichlet", name="toy", params={})
    base.update(over)
    return PDEData(**base)


def test_pde_data_checks_layout() -> None:
    d = _data()
    assert d.ndim == 2 and not d.time_dependent
    assert "x_train=4x1x5x5" in repr(d) and "x_test=2x1x9x9" in repr(d)
    traj = _data(y_train=torch.zeros(4, 3, 1, 5, 5), y_test=torch.zeros(2, 3, 1, 9, 9))
    assert traj.time_dependent
    with pytest.raises(ValueError, match="boundary must be one of.*'robin'"):
        _data(boundary="robin")
    with pytest.raises(DataError, match="x_train has 4 samples but y_train has 3"):
        _data(y_train=torch.zeros(3, 1, 5, 5))
    with pytest.raises(DataError, match="spatial shape"):
        _data(y_test=torch.zeros(2, 1, 8, 8))
    with pytest.raises(TypeError, match="x_test must be a torch.Tensor"):
        _data(x_test=[1.0])


def test_normalizer_per_channel_fit_encode_decode() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, 3, 6, 6, generator=g, dtype=torch.float64)
    x = x * torch.tensor([1.0, 5.0, 0.1]).view(1, 3, 1, 1) + torch.tensor([0., -2., 7.]).view(
        1, 3, 1, 1)
    norm = UnitGaussianNormalizer(eps=0.0).fit(x)
    z = norm.encode(x)
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(z.std(dim=(0, 2, 3), unbiased=False), torch.ones(3, dtype=torch.float64))
    assert torch.allclose(norm.decode(z), x, atol=1e-12)
    # resolution independent: the statistics apply to any grid size
    assert norm.encode(torch.zeros(1, 3, 17, 17, dtype=torch.float64)).shape == (1, 3, 17, 17)


def test_normalizer_trajectory_channel_axis_and_state_dict() -> None:
    y = torch.randn(5, 4, 2, 8, dtype=torch.float64) * 3 + 1
    norm = UnitGaussianNormalizer(channel_dim=2).fit(y)
    buffer = io.BytesIO()
    torch.save(norm.state_dict(), buffer)
    buffer.seek(0)
    restored = UnitGaussianNormalizer().load_state_dict(torch.load(buffer, weights_only=True))
    assert restored.channel_dim == 2
    assert torch.equal(restored.encode(y), norm.encode(y))
    assert norm.encode(y.float()).dtype == torch.float32


def test_normalizer_errors() -> None:
    norm = UnitGaussianNormalizer()
    with pytest.raises(RuntimeError, match="call fit"):
        norm.encode(torch.zeros(2, 1, 4))
    bad = torch.zeros(2, 1, 4)
    bad[0, 0, 1] = float("nan")
    with pytest.raises(NonFiniteError, match="NaN"):
        norm.fit(bad)
    norm.fit(torch.randn(3, 2, 4))
    with pytest.raises(DataError, match="3 channels on axis 1, fitted on 2"):
        norm.encode(torch.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="channel_dim"):
        UnitGaussianNormalizer(channel_dim=0)
    with pytest.raises(DataError, match="missing.*'std'"):
        UnitGaussianNormalizer().load_state_dict({"mean": torch.zeros(1)})


def test_with_coordinates_vertex_and_periodic() -> None:
    x = torch.zeros(2, 1, 5, 3, dtype=torch.float64)
    out = with_coordinates(x, "dirichlet")
    assert out.shape == (2, 3, 5, 3)
    assert torch.allclose(out[0, 1, :, 0], torch.linspace(0, 1, 5, dtype=torch.float64))
    assert torch.allclose(out[0, 2, 0, :], torch.linspace(0, 1, 3, dtype=torch.float64))
    per = with_coordinates(torch.zeros(1, 2, 4), "periodic")
    assert torch.allclose(per[0, 2], torch.tensor([0.0, 0.25, 0.5, 0.75]))
    # the same physical point has the same coordinate at every resolution (vertex grids)
    fine = with_coordinates(torch.zeros(1, 1, 9, 9), "dirichlet")
    coarse = with_coordinates(torch.zeros(1, 1, 5, 5), "dirichlet")
    assert torch.equal(fine[..., ::2, ::2][:, 1:], coarse[:, 1:])
    with pytest.raises(ValueError, match="boundary must be one of"):
        with_coordinates(x, "open")
    with pytest.raises(DataError, match="\\(n, c, \\*spatial\\)"):
        with_coordinates(torch.zeros(4, 4), "periodic")
