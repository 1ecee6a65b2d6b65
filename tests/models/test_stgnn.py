"""Spatiotemporal forecasters: shapes, gradients, permutation equivariance, checkpoints, errors."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import numba
import pytest
import torch

import sciml.models  # noqa: F401  (registers the models)
from sciml.errors import ConfigError
from sciml.models import AbstractForecaster, load_model
from sciml.registry import MODELS

B, T, N, F, H = 2, 12, 5, 1, 12

# Tiny sizes so that every test is fast.
TINY = {
    "time_then_space": {"hidden_size": 8},
    "dcrnn": {"hidden_size": 8, "n_layers": 2, "k": 1},
    "graph_wavenet": {"residual_channels": 8, "dilation_channels": 8, "skip_channels": 16,
                      "end_channels": 16, "dilations": [1, 2, 1, 2], "dropout": 0.0},
    "agcrn": {"hidden_size": 8, "n_layers": 2, "embedding_size": 4},
    "stcn": {"hidden_size": 8, "ff_size": 16},
    "node_gru": {"hidden_size": 8},
    "persistence": {},
    "seasonal_naive": {"season": 4},
}
FORECASTERS = sorted(TINY)
LEARNED = [m for m in FORECASTERS if m not in ("persistence", "seasonal_naive")]
NEEDS_GRAPH = ["time_then_space", "dcrnn", "stcn"]
# Models without per-node parameters: permuting nodes and edges permutes the output.
EQUIVARIANT = ["time_then_space", "dcrnn", "stcn", "node_gru", "persistence", "seasonal_naive"]


def build(name: str, dtype=torch.float64, **sizes) -> AbstractForecaster:
    kw = {"n_nodes": N, "input_size": F, "output_size": F, "window": T, "horizon": H}
    kw.update(sizes)
    cfg = dict(TINY[name])
    cfg.update(kw.pop("cfg", {}))
    return MODELS.build(name, cfg, **kw).to(dtype)


@pytest.fixture(autouse=True)
def _single_thread() -> Iterator[None]:
    """Tiny tensors: threads only add overhead (several times on a busy 2-core machine)."""
    torch_threads, numba_threads = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    yield
    torch.set_num_threads(torch_threads)
    numba.set_num_threads(numba_threads)


@pytest.fixture
def graph() -> tuple[torch.Tensor, torch.Tensor]:
    ei = torch.tensor([[0, 1, 2, 3, 4, 0, 2, 3], [1, 2, 3, 4, 0, 2, 4, 1]])
    return ei, torch.rand(ei.shape[1], dtype=torch.float64) + 0.1


@pytest.fixture
def x() -> torch.Tensor:
    return torch.randn(B, T, N, F, dtype=torch.float64)


def test_all_registered():
    for name in FORECASTERS:
        assert name in MODELS


@pytest.mark.parametrize("name", FORECASTERS)
def test_output_shape(name, graph, x):
    out = build(name)(x, *graph)
    assert out.shape == (B, H, N, F)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", LEARNED)
def test_gradients_reach_all_parameters(name, graph, x):
    model = build(name)
    model(x, *graph).square().mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: no gradient for {pname}"
        assert p.grad.abs().sum() > 0, f"{name}: zero gradient for {pname}"


@pytest.mark.parametrize("name", EQUIVARIANT + ["graph_wavenet"])
def test_permutation_equivariance(name, graph, x):
    # graph_wavenet is tested with the adaptive adjacency off (its node embeddings bind
    # parameters to node identities); agcrn and adaptive graph_wavenet below.
    model = build(name, cfg={"adaptive": False} if name == "graph_wavenet" else {}).eval()
    ei, ew = graph
    perm = torch.randperm(N)
    inv = torch.argsort(perm)
    with torch.no_grad():
        out = model(x, ei, ew)
        out_p = model(x[:, :, perm], inv[ei], ew)
    torch.testing.assert_close(out_p, out[:, :, perm])


@pytest.mark.parametrize("name", ["agcrn", "graph_wavenet"])
def test_node_embedding_models_equivariant_with_permuted_embeddings(name, graph, x):
    """Node embeddings tie parameters to node ids, so equivariance holds only when the
    embeddings are permuted along with the nodes; with them unpermuted the output changes."""
    model = build(name).eval()
    ei, ew = graph
    perm = torch.randperm(N)
    inv = torch.argsort(perm)
    permuted = copy.deepcopy(model)
    with torch.no_grad():
        for pname, p in permuted.named_parameters():
            if "embedding" in pname:
                p.copy_(p[perm])
        out = model(x, ei, ew)
        out_p = permuted(x[:, :, perm], inv[ei], ew)
        out_fixed = model(x[:, :, perm], inv[ei], ew)
    torch.testing.assert_close(out_p, out[:, :, perm])
    assert not torch.allclose(out_fixed, out[:, :, perm])


@pytest.mark.parametrize("name", FORECASTERS)
def test_checkpoint_round_trip(name, graph, x, tmp_path):
    model = build(name, exog_size=2).eval()
    u = torch.randn(B, T, N, 2, dtype=torch.float64)
    path = tmp_path / f"{name}.pt"
    model.save(path)
    loaded = load_model(path).to(torch.float64).eval()
    assert type(loaded) is type(model) and loaded.config == model.config
    assert loaded.sizes == model.sizes
    sd, sd2 = model.state_dict(), loaded.state_dict()
    assert sd.keys() == sd2.keys()
    for key in sd:
        torch.testing.assert_close(sd[key], sd2[key])
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, *graph, u=u), model(x, *graph, u=u))


def test_graph_wavenet_and_agcrn_run_without_graph(graph, x):
    gwn = build("graph_wavenet")
    out = gwn(x)
    assert out.shape == (B, H, N, F)
    assert not torch.allclose(out, gwn(x, *graph))  # the given graph is used when present
    assert build("agcrn")(x).shape == (B, H, N, F)
    assert build("node_gru")(x).shape == (B, H, N, F)


@pytest.mark.parametrize("name", NEEDS_GRAPH + ["graph_wavenet"])
def test_missing_graph_is_a_clear_error(name, x):
    model = build(name, cfg={"adaptive": False} if name == "graph_wavenet" else {})
    with pytest.raises(ValueError, match=f"{name} needs a graph") as err:
        model(x)
    for ok in ("agcrn", "node_gru", "persistence"):
        assert ok in str(err.value)


def test_exogenous_covariates(graph, x):
    model = build("time_then_space", exog_size=3)
    u = torch.randn(B, T, N, 3, dtype=torch.float64)
    out = model(x, *graph, u=u)
    assert not torch.allclose(out, model(x, *graph, u=torch.zeros_like(u)))
    with pytest.raises(ValueError, match="exog_size=3 but got u=None"):
        model(x, *graph)
    with pytest.raises(ValueError, match=r"u must have shape"):
        model(x, *graph, u=u[..., :2])
    with pytest.raises(ValueError, match="exog_size=0 but got covariates"):
        build("time_then_space")(x, *graph, u=u)


@pytest.mark.parametrize("name", ["dcrnn", "node_gru"])
def test_bad_x_is_a_clear_error(name, graph, x):
    model = build(name)
    with pytest.raises(ValueError, match=r"\(B, T, N, F\) \(4 dims\)"):
        model(x[0], *graph)
    with pytest.raises(ValueError, match=f"T={T}"):
        model(x[:, :-1], *graph)
    with pytest.raises(ValueError, match=f"F={F}"):
        model(torch.cat([x, x], -1), *graph)
    with pytest.raises(TypeError, match="floating-point"):
        model(x.long(), *graph)
    with pytest.raises(TypeError, match="edge_index must have dtype"):
        model(x, graph[0].double(), graph[1])
    with pytest.raises(ValueError, match="edge_weight must have shape"):
        model(x, graph[0], graph[1][:-1])


def test_node_embedding_model_needs_its_node_count(graph):
    with pytest.raises(ValueError, match="n_nodes=5, got x with 4 nodes"):
        build("agcrn")(torch.randn(B, T, 4, F, dtype=torch.float64))


def test_bad_config_and_sizes():
    with pytest.raises(ConfigError, match="unknown key model.hidden"):
        MODELS.build("dcrnn", {"hidden": 3}, n_nodes=N, input_size=F, output_size=F,
                     window=T, horizon=H)
    with pytest.raises(ConfigError, match="k must be >= 1"):
        MODELS.build("dcrnn", {"k": 0}, n_nodes=N, input_size=F, output_size=F,
                     window=T, horizon=H)
    with pytest.raises(ConfigError, match="needs window >= season.*window=12 < season=24"):
        build("seasonal_naive", cfg={"season": 24})
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        build("node_gru", horizon=0)
    with pytest.raises(ValueError, match="output_size"):
        build("node_gru", output_size=2)


def test_persistence_and_seasonal_naive_values(x):
    x2 = torch.cat([x, torch.randn_like(x)], -1)  # a covariate channel after the target
    pers = build("persistence", input_size=2, output_size=1)(x2)
    torch.testing.assert_close(pers, x2[:, -1:, :, :1].expand(B, H, N, 1))
    season = 5
    model = build("seasonal_naive", cfg={"season": season}, horizon=7)
    out = model(x)
    for h in range(1, 8):  # forecast for step T - 1 + h (0-based) = value one or more seasons ago
        lag = season * ((h + season - 1) // season)
        torch.testing.assert_close(out[:, h - 1], x[:, T - 1 + h - lag])
    assert list(model.parameters()) == []


def test_layer_sizes_in_repr():
    text = repr(build("dcrnn"))
    assert "DCGRUCell(1, 8, k=1)" in text and "DCGRUCell(8, 8, k=1)" in text


@pytest.mark.gpu
@pytest.mark.parametrize("name", FORECASTERS)
def test_cuda_matches_cpu(name, graph, x):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    model = build(name, dtype=torch.float32).eval()
    ei, ew = graph
    with torch.no_grad():
        cpu = model(x.float(), ei, ew.float())
        gpu = model.cuda()(x.float().cuda(), ei.cuda(), ew.float().cuda())
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-4, atol=1e-5)


# --- time_then_space as tsl's RNNEncGCNDecModel: GraphConv decoder on the mean-normalised graph
TSL_LIKE = {"graph_conv": "mean", "residual": False, "decoder_hidden_size": 8, "graph_layers": 2}


def test_tts_mean_graph_conv_shape_and_parameter_count(graph, x):
    model = build("time_then_space", cfg=TSL_LIKE)
    assert model(x, *graph).shape == (B, H, N, F)
    h, layers, d = 8, 2, 8
    # encoder F->h, GRU (3 gates, input and hidden weights and biases), per GraphConv a
    # neighbour and a root weight plus one bias, MLP h->d->H*F.
    expected = (F * h + h) + (6 * h * h + 6 * h) + layers * (2 * h * h + h) \
        + (h * d + d) + (d * H * F + H * F)
    assert sum(p.numel() for p in model.parameters()) == expected
    default = build("time_then_space")  # diffusion, residual, read-out width 2h: unchanged
    assert "DiffusionConv" in repr(default) and default.decoder.hidden_channels == 16


def test_tts_mean_graph_conv_is_the_weighted_mean_of_in_neighbours(graph, x):
    """One layer, written out: relu(W_n sum_j w_ji / sum_k w_ki h_j + b + W_r h_i)."""
    model = build("time_then_space", cfg={**TSL_LIKE, "graph_layers": 1}).eval()
    ei, ew = graph
    with torch.no_grad():
        h = model._encode(x)
        adj = torch.zeros(N, N, dtype=torch.float64)
        adj[ei[1], ei[0]] = ew  # adj[dst, src]
        mean = (adj / adj.sum(1, keepdim=True).clamp_min(1e-300)) @ h
        conv = model.graph_convs[0]
        z = torch.relu(conv.lin_neighbors(mean) + conv.lin_root(h))
        expected = model._to_output(model.decoder(z))
        torch.testing.assert_close(model(x, ei, ew), expected)
        # residual=True adds the layer's input back
        res = build("time_then_space", cfg={**TSL_LIKE, "graph_layers": 1, "residual": True})
        res.load_state_dict(model.state_dict())
        expected_res = res._to_output(res.decoder(h + z))
        torch.testing.assert_close(res.eval()(x, ei, ew), expected_res)


def test_tts_mean_graph_conv_permutation_equivariant(graph, x):
    model = build("time_then_space", cfg=TSL_LIKE).eval()
    ei, ew = graph
    perm = torch.randperm(N)
    inv = torch.argsort(perm)
    with torch.no_grad():
        torch.testing.assert_close(model(x[:, :, perm], inv[ei], ew),
                                   model(x, ei, ew)[:, :, perm])


@pytest.mark.parametrize("cfg", [{}, {"rnn_layers": 2}, TSL_LIKE])
def test_tts_folded_encoder_equals_encoder_then_gru(cfg, graph):
    """The encoder is folded into the GRU's input weights: same values and gradients as
    running nn.Linear then nn.GRU."""
    model = build("time_then_space", cfg=cfg, input_size=2, output_size=1, exog_size=1).eval()
    xu = torch.randn(B, T, N, 3, dtype=torch.float64)
    folded = model._encode(xu)
    z = model.encoder(xu)
    _, h = model.rnn(z.transpose(1, 2).reshape(B * N, T, -1))
    plain = h[-1].reshape(B, N, -1)
    torch.testing.assert_close(folded, plain)
    g = torch.randn_like(plain)
    params = [model.encoder.weight, model.encoder.bias, *model.rnn.parameters()]
    for a, b in zip(torch.autograd.grad(folded, params, g), torch.autograd.grad(plain, params, g),
                    strict=True):
        torch.testing.assert_close(a, b)


def test_tts_bad_graph_conv_options():
    for bad, match in (({"graph_conv": "gat"}, "graph_conv must be one of .*'diffusion', 'mean'"),
                       ({"residual": "maybe"}, "residual: expected true/false"),
                       ({"decoder_hidden_size": 0}, "decoder_hidden_size must be an integer")):
        with pytest.raises(ConfigError, match=match):
            build("time_then_space", cfg=bad)


@pytest.mark.parametrize("decoder", ["seq2seq", "mlp"])
def test_dcrnn_shared_supports_equal_per_gate_supports(decoder, graph, x):
    """DCRNN computes the diffusion supports once per call; written out with cells that
    compute their own at every gate, the function is the same."""
    model = build("dcrnn", cfg={"decoder": decoder, "ff_size": 16}).eval()
    ei, ew = graph
    with torch.no_grad():
        z = model.input_encoder(x) if decoder == "mlp" else x
        states = [None] * len(model.encoder)
        for t in range(T):
            inp = z[:, t]
            for i, cell in enumerate(model.encoder):
                states[i] = inp = cell(inp, states[i], ei, ew)
        if decoder == "mlp":
            expected = model._to_output(model.readout(inp))
        else:
            y, outs = x.new_zeros(B, N, F), []
            for _ in range(H):
                inp = y
                for i, cell in enumerate(model.decoder):
                    states[i] = inp = cell(inp, states[i], ei, ew)
                y = model.readout(inp)
                outs.append(y)
            expected = torch.stack(outs, 1)
        torch.testing.assert_close(model(x, ei, ew), expected)


def test_dcrnn_mlp_decoder_is_tsl_dcrnn_model_size(graph, x):
    """decoder="mlp": linear encoder, DCGRU stack, MLP read-out: tsl's DCRNNModel's count
    (its three DiffConv gates per cell have our two convolutions' weights)."""
    h, ff, k, layers = 8, 16, 1, 2
    model = build("dcrnn", cfg={"decoder": "mlp", "ff_size": ff})
    assert model(x, *graph).shape == (B, H, N, F)
    cell = 3 * ((2 * h) * (1 + 2 * k) * h + h)
    expected = (F * h + h) + layers * cell + (h * ff + ff) + (ff * H * F + H * F)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert not hasattr(model, "decoder")
    with pytest.raises(ConfigError, match="decoder must be one of"):
        build("dcrnn", cfg={"decoder": "attention"})
