"""sciml.analysis: the invariances that define CKA and SVCCA, and unit matching."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import ortho_group

from sciml.analysis import kernel_cka, linear_cka, match_units, svcca

RNG = np.random.default_rng(0)
X = RNG.standard_normal((200, 12)) @ RNG.standard_normal((12, 12))


def test_linear_cka_is_one_on_itself_and_invariant_to_rotation_and_scale() -> None:
    q = ortho_group.rvs(12, random_state=1)
    assert linear_cka(X, X) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(X, 3.7 * X @ q) == pytest.approx(1.0, abs=1e-12)
    other = RNG.standard_normal((200, 12))
    assert linear_cka(X, other) < 0.2
    # not invariant to an arbitrary invertible map (Kornblith et al., Section 3): an
    # anisotropic scaling of the columns changes it
    stretched = X @ np.diag(np.geomspace(1, 100, 12))
    assert linear_cka(X, stretched) < 0.95
    # symmetric, other widths allowed, tensors and (n, c, h, w) activations accepted
    wide = np.concatenate([X, RNG.standard_normal((200, 4))], 1)
    assert linear_cka(X, wide) == pytest.approx(linear_cka(wide, X))
    t = torch.as_tensor(X.reshape(200, 3, 2, 2))
    assert linear_cka(t, X) == pytest.approx(1.0, abs=1e-12)
    # more units than inputs (flattened fields) take the Gram form: the same value
    few, broad = X[:8], np.concatenate([X, RNG.standard_normal((200, 8))], 1)[:8]
    feature_form = np.linalg.norm(_c(broad).T @ _c(few)) ** 2 / (
        np.linalg.norm(_c(few).T @ _c(few)) * np.linalg.norm(_c(broad).T @ _c(broad)))
    assert linear_cka(few, broad) == pytest.approx(feature_form, rel=1e-10)


def _c(a: np.ndarray) -> np.ndarray:
    return a - a.mean(0)


def test_kernel_cka_is_invariant_to_rotation_and_scale() -> None:
    q = ortho_group.rvs(12, random_state=2)
    assert kernel_cka(X, X) == pytest.approx(1.0, abs=1e-12)
    # the bandwidth follows the median distance, so a scale changes nothing
    assert kernel_cka(X, 0.01 * X @ q) == pytest.approx(1.0, abs=1e-9)
    assert kernel_cka(X, RNG.standard_normal((200, 12))) < 0.3
    with pytest.raises(ValueError, match="sigma"):
        kernel_cka(X, X, sigma=0)


def test_svcca_is_invariant_to_invertible_maps_and_finds_a_shared_subspace() -> None:
    a = RNG.standard_normal((12, 12)) + 4 * np.eye(12)  # invertible, not orthogonal
    res = svcca(X, X @ a, keep=1.0)
    assert res.mean == pytest.approx(1.0, abs=1e-9) and res.kept_x == res.kept_y == 12
    # linear CKA is not invariant to that map, SVCCA is
    assert linear_cka(X, X @ a) < 0.99
    # two networks sharing 3 of their directions: three correlations near 1, the rest small
    shared = RNG.standard_normal((500, 3))
    x = np.concatenate([shared, RNG.standard_normal((500, 5))], 1)
    y = np.concatenate([shared @ RNG.standard_normal((3, 3)), RNG.standard_normal((500, 5))], 1)
    rho = svcca(x, y, keep=1.0).correlations
    assert np.all(rho[:3] > 0.999) and np.all(rho[3:] < 0.3)
    with pytest.raises(ValueError, match="keep"):
        svcca(X, X, keep=0)


def test_unit_matching_recovers_a_permutation_of_units() -> None:
    perm = RNG.permutation(12)
    y = X[:, perm] * RNG.uniform(0.5, 2.0, 12) + RNG.uniform(-1, 1, 12)  # scaled, shifted units
    m = match_units(X, y)
    assert m.mean == pytest.approx(1.0, abs=1e-12)
    # x unit perm[j] sits in y's column j
    assert {(int(i), int(j)) for i, j in m.pairs} == {(int(perm[j]), j) for j in range(12)}
    assert m.matrix.shape == (12, 12)


def test_bad_inputs_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="same inputs: x has 200 rows, y has 10"):
        linear_cka(X, X[:10])
    bad = X.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="y has 1 non-finite"):
        linear_cka(X, bad)
    with pytest.raises(ValueError, match="constant representation"):
        linear_cka(X, np.ones((200, 3)))
