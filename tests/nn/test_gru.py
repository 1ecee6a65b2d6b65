"""sciml.nn.gru_sequence / gru_layers against torch.nn.GRU: same states, same gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import sciml.kernels._rnn as rnn_kernels
from sciml.nn import gru_layers, gru_sequence


def _reference_and_ours(layers: int, h0: bool = False):
    torch.manual_seed(0)
    ref = nn.GRU(3, 5, num_layers=layers).double()
    seq = torch.randn(7, 11, 3, dtype=torch.float64, requires_grad=True)
    init = torch.randn(layers, 11, 5, dtype=torch.float64, requires_grad=True) if h0 else None
    return ref, seq, init


@pytest.mark.parametrize("fused", [True, False], ids=["numba", "torch-ops"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("with_h0", [False, True])
def test_gru_layers_matches_torch_gru(monkeypatch, fused: bool, layers: int, with_h0: bool):
    if not fused:
        monkeypatch.setattr(rnn_kernels, "_NUMBA_DTYPES", ())
    ref, seq, h0 = _reference_and_ours(layers, h0=with_h0)
    _, h_ref = ref(seq, h0)
    weights = [list(w) for w in ref.all_weights]
    h = gru_layers(seq, weights, h0=h0)
    torch.testing.assert_close(h, h_ref, rtol=0, atol=1e-12)
    # every gradient: of the input, the initial state and each weight, with a loss on all layers
    probe = torch.randn_like(h)
    inputs = [seq, *ref.parameters()] + ([h0] if with_h0 else [])
    g_ref = torch.autograd.grad((h_ref * probe).sum(), inputs)
    g = torch.autograd.grad((h * probe).sum(), inputs)
    for a, b in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-11)


@pytest.mark.parametrize("all_states", [True, False])
def test_gru_sequence_gradcheck(all_states):
    torch.manual_seed(1)
    t, m, f, h = 4, 3, 2, 2

    def r(*shape):
        return torch.randn(*shape, dtype=torch.float64, requires_grad=True)

    args = (r(t, m, f), r(m, h), r(3 * h, f), r(3 * h, h), r(3 * h), r(3 * h))
    torch.autograd.gradcheck(lambda *a: gru_sequence(*a, all_states=all_states), args)
    out = gru_sequence(*args, all_states=all_states)
    assert out.shape == ((t, m, h) if all_states else (m, h))


def test_gru_sequence_float32_close_to_torch():
    torch.manual_seed(2)
    ref = nn.GRU(1, 32)
    seq = torch.randn(12, 500, 1)
    _, h_ref = ref(seq)
    h = gru_layers(seq, [list(w) for w in ref.all_weights])
    torch.testing.assert_close(h, h_ref, rtol=1e-5, atol=1e-5)


def test_gru_sequence_bad_shapes():
    z = torch.zeros
    with pytest.raises(ValueError, match="x must be"):
        gru_sequence(z(2, 3, 1), z(3, 2), z(6, 2), z(6, 2), z(6), z(6))
    with pytest.raises(ValueError, match="h0 must be"):
        gru_sequence(z(2, 3, 1), z(4, 2), z(6, 1), z(6, 2), z(6), z(6))


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(3)
    ref = nn.GRU(2, 4, num_layers=2, dropout=0.5).double()
    seq = torch.randn(5, 6, 2, dtype=torch.float64)
    weights = [list(w) for w in ref.all_weights]
    ref.eval()
    _, h_ref = ref(seq)
    torch.testing.assert_close(gru_layers(seq, weights, dropout=0.5, training=False), h_ref)
    torch.manual_seed(4)
    a = gru_layers(seq, weights, dropout=0.5, training=True)
    assert not torch.allclose(a[1], h_ref[1])
    torch.testing.assert_close(a[0], h_ref[0])  # the first layer sees no dropout
