"""PONITA: equivariant message passing over position-orientation space (Bekkers, Vadgama,
Hesselink, van der Linden, Romero; ICLR 2024), registered as ``"ponita"``."""

from __future__ import annotations

import dataclasses

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.geometry import fibre_invariants, orientation_grid, pair_distance, spatial_invariants
from sciml.kernels import scatter
from sciml.models._base import AbstractModel
from sciml.models._ponita_graph import build_edges
from sciml.nn import (
    ConvNeXtBlock,
    FibreBundleConv,
    KernelBasis,
    PointConv,
    PolynomialCutoff,
    shared_basis_kernels,
)
from sciml.registry import MODELS

__all__ = ["Ponita", "PonitaConfig"]


def _int_at_least(value: object, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class PonitaConfig:
    """Configuration of :class:`Ponita`.

    Args: hidden_size: channels C; n_layers: ConvNeXt blocks; num_ori: orientations of the
    fibre grid (0 = position-only "PNITA"); dim: 3 (R3×S2) or 2 (R2×S1); radius: cutoff of the
    radius graph (None = fully connected within each graph); periodic: build the radius graph
    in the periodic ``cell`` passed to ``forward`` (3-D, needs ``radius``); basis_dim: kernel
    basis functions; degree: degree of the polynomial embedding of invariants; widening_factor:
    hidden width factor of the ConvNeXt MLP; layer_scale: initial ConvNeXt layer scale (None =
    none); multiple_readouts: average read-outs after every block (else the last only);
    task_level: ``"graph"`` (scalars summed per graph) or ``"node"``.
    """

    hidden_size: int = 128
    n_layers: int = 5
    num_ori: int = 20
    dim: int = 3
    radius: float | None = None
    periodic: bool = False
    basis_dim: int = 256
    degree: int = 3
    widening_factor: int = 4
    layer_scale: float | None = 1e-6
    multiple_readouts: bool = False
    task_level: str = "graph"

    def __post_init__(self) -> None:
        _int_at_least(self.hidden_size, "hidden_size", 1)
        _int_at_least(self.n_layers, "n_layers", 1)
        _int_at_least(self.num_ori, "num_ori", 0)
        _int_at_least(self.basis_dim, "basis_dim", 1)
        _int_at_least(self.degree, "degree", 1)
        _int_at_least(self.widening_factor, "widening_factor", 1)
        if self.dim not in (2, 3) or isinstance(self.dim, bool):
            raise ValueError(f"dim must be 2 or 3, got {self.dim!r}")
        if self.radius is not None and not (isinstance(self.radius, (int, float))
                                            and 0 < self.radius < float("inf")):
            raise ValueError(f"radius must be None or a positive number, got {self.radius!r}")
        if self.periodic and (self.radius is None or self.dim != 3):
            raise ValueError("periodic=True needs a radius and dim=3 (periodic radius graph), got "
                             f"radius={self.radius!r}, dim={self.dim!r}")
        if self.layer_scale is not None and not self.layer_scale > 0:
            raise ValueError(f"layer_scale must be None or > 0, got {self.layer_scale!r}")
        if self.task_level not in ("graph", "node"):
            raise ValueError(f"task_level must be 'graph' or 'node', got {self.task_level!r}")


@MODELS.register("ponita", PonitaConfig)
class Ponita(AbstractModel):
    r"""PONITA: E(d)-equivariant ConvNeXt network on position-orientation space R^d × S^{d-1}.

    Bekkers et al., "Fast, expressive SE(n) equivariant networks through weight-sharing in
    position-orientation space", ICLR 2024. Node features are lifted to signals on a fixed grid
    of ``num_ori`` orientations per node (scalars repeated, vectors ``v`` as ``<v, o>``).
    Each block is a separable group convolution (spatial kernel of the pair invariants
    ``<rel, o>``, ``|rel - <rel, o> o|`` (3-D) or ``<rel, o>``, ``<rel, o_perp>`` (2-D), times a
    smooth cutoff when a radius is used; then a fibre kernel of ``<o, o'>``), LayerNorm, channel
    MLP, layer scale and residual. Read-outs: scalars are the fibre mean (summed per graph for
    ``task_level="graph"``), vectors the least-squares fit ``v = (G^T G)^{-1} G^T f`` of the
    fibre signal (``≈ (d/O) sum_o f(o) o``). ``num_ori=0`` is the position-only variant: the
    kernel depends on the distance (and on inner products with input vectors), and vector
    outputs are ``sum_e s_e rel_e`` plus invariant mixtures of the input vectors.

    Equivariance. The 3-D fibre model is exactly invariant/equivariant under translations,
    permutations and any rotation that maps the orientation grid onto itself; the Fibonacci
    grid has no such rotation besides the identity, so for a general rotation the error is
    that of the quadrature of S2 by ``num_ori`` points: small, and shrinking as ``num_ori``
    grows (tested). Rotating the grid together with the input is exact. The 2-D model is exact
    for rotations by multiples of ``2π/num_ori``. The position-only model is exactly
    E(d)-equivariant. Scalars of the 3-D models are also reflection-invariant (the invariants
    are), up to the same grid error; the 2-D fibre model is SE(2) only (``<rel, o_perp>`` flips
    sign under a reflection).

    Differences from the reference code: a deterministic Fibonacci grid (the reference uses a
    seeded repulsion); no data-dependent kernel re-calibration on the first batch; least-squares
    vector read-out (a fixed multiple of the reference's ``mean_o f(o) o`` on uniform grids).

    Args:
        config: :class:`PonitaConfig`.
        in_channels: Scalar input channels per node.
        out_channels: Scalar output channels.
        out_vector_channels: Vector output channels per node.
        in_vector_channels: Vector input channels per node.

    Shapes (``forward``):
        - pos: (N, d); x: (N, in_channels); batch: (N,); vec: (N, in_vector_channels, d);
          edge_index: (2, E); cell: (G, 3, 3)
        - returns scalars (G or N, out_channels) and vectors (N, out_vector_channels, d) or None
    """

    def __init__(self, config: PonitaConfig, *, in_channels: int, out_channels: int,
                 out_vector_channels: int = 0, in_vector_channels: int = 0) -> None:
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("out_vector_channels", out_vector_channels),
                            ("in_vector_channels", in_vector_channels)):
            _int_at_least(value, name, 0)
        if out_channels + out_vector_channels == 0:
            raise ValueError("out_channels + out_vector_channels must be >= 1")
        if in_channels + in_vector_channels == 0:
            raise ValueError("in_channels + in_vector_channels must be >= 1")
        super().__init__(config, in_channels=in_channels, out_channels=out_channels,
                         out_vector_channels=out_vector_channels,
                         in_vector_channels=in_vector_channels)
        c, cfg = config.hidden_size, config
        self.in_channels, self.out_channels = in_channels, out_channels
        self.in_vector_channels, self.out_vector_channels = in_vector_channels, out_vector_channels
        self.fibre = cfg.num_ori > 0
        self.cutoff = PolynomialCutoff(cfg.radius) if cfg.radius is not None else None
        if self.fibre:
            # Kept in float64 (not a buffer: ``.float()`` would round it) and cast per call; it is
            # a deterministic function of the config, so checkpoints need not store it.
            self.ori_grid: Tensor | None = orientation_grid(cfg.dim, cfg.num_ori, torch.float64)
            self.spatial_basis = KernelBasis(2, c, cfg.basis_dim, cfg.degree)
            self.fibre_basis = KernelBasis(1, c, cfg.basis_dim, cfg.degree)
            n_in = in_channels + in_vector_channels
            conv = FibreBundleConv
        else:
            self.ori_grid = None
            self.spatial_basis = KernelBasis(1 + 3 * in_vector_channels, c, cfg.basis_dim,
                                             cfg.degree)
            self.fibre_basis = None
            n_in = in_channels + in_vector_channels ** 2
            conv = PointConv
        self.embed = nn.Linear(n_in, c, bias=False)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(conv(c, cfg.basis_dim), c, cfg.widening_factor, cfg.layer_scale)
            for _ in range(cfg.n_layers))
        n_read = cfg.n_layers if cfg.multiple_readouts else 1
        self.n_readout = out_channels + (out_vector_channels if self.fibre else 0)
        self.readouts = nn.ModuleList(
            nn.Linear(c, self.n_readout) for _ in range(n_read if self.n_readout else 0))
        if not self.fibre and out_vector_channels > 0:
            self.vec_kernel = nn.Linear(cfg.basis_dim, c, bias=False)
            self.vec_edge = nn.Linear(c, out_vector_channels)
            self.vec_mix = (nn.Linear(c, out_vector_channels * in_vector_channels)
                            if in_vector_channels > 0 else None)

    def _check_inputs(self, pos: Tensor, x: Tensor, batch: Tensor, vec: Tensor | None,
                      edge_index: Tensor | None, cell: Tensor | None) -> None:
        d, n = self.config.dim, pos.size(0) if isinstance(pos, Tensor) else -1
        if not isinstance(pos, Tensor) or pos.dim() != 2 or pos.size(1) != d:
            raise ValueError(f"pos must have shape (N, {d}), got "
                             f"{tuple(pos.shape) if isinstance(pos, Tensor) else pos!r}")
        if not torch.isfinite(pos).all():
            raise ValueError("pos has NaN or infinite entries")
        if not isinstance(x, Tensor) or x.shape != (n, self.in_channels):
            raise ValueError(f"x must have shape (N={n}, in_channels={self.in_channels}), got "
                             f"{tuple(x.shape) if isinstance(x, Tensor) else x!r}")
        if not isinstance(batch, Tensor) or batch.shape != (n,) or batch.dtype != torch.long:
            raise ValueError(f"batch must be an int64 tensor of shape (N={n},), got "
                             f"{tuple(batch.shape) if isinstance(batch, Tensor) else batch!r}")
        cv = self.in_vector_channels
        if cv > 0 and (vec is None or vec.shape != (n, cv, d)):
            raise ValueError(f"vec must have shape (N={n}, in_vector_channels={cv}, {d}), got "
                             f"{None if vec is None else tuple(vec.shape)}")
        if cv == 0 and vec is not None and vec.numel() > 0:
            raise ValueError(f"vec given with shape {tuple(vec.shape)} but the model was built "
                             f"with in_vector_channels=0")
        if self.config.periodic:
            if cell is None:
                raise ValueError("periodic=True needs cell of shape (G, 3, 3) in forward")
            if edge_index is not None:
                raise ValueError("edge_index cannot be given with periodic=True: the periodic "
                                 "shifts come from the radius graph built in forward")
        elif cell is not None:
            raise ValueError("cell given but the model has periodic=False")

    def forward(
        self, pos: Float[Tensor, "n d"], x: Float[Tensor, "n c_in"], batch: Int[Tensor, " n"],
        vec: Float[Tensor, "n v_in d"] | None = None, edge_index: Int[Tensor, "2 e"] | None = None,
        cell: Float[Tensor, "g 3 3"] | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Scalar outputs ``(G or N, out_channels)`` and vector outputs ``(N, v_out, d)``.

        Args:
            pos: Node positions.
            x: Scalar node features.
            batch: Graph id of each node.
            vec: Vector node features (velocities, forces, ...).
            edge_index: Edges ``[src; dst]``; default: built from ``radius`` (with self-loops).
            cell: Periodic cells (lattice vectors as rows), only with ``periodic=True``.
        """
        self._check_inputs(pos, x, batch, vec, edge_index, cell)
        if edge_index is None:
            edge_index, rel = build_edges(pos, batch, self.config.radius, cell)
        else:
            rel = pos[edge_index[0]] - pos[edge_index[1]]
        window = None if self.cutoff is None else self.cutoff(pair_distance(rel))  # (E, 1)
        n_graphs = int(batch.max()) + 1 if batch.numel() else 0
        if self.fibre:
            h, readout, spatial = self._fibre_forward(pos, x, vec, edge_index, rel, window)
        else:
            h, readout, spatial = self._point_forward(x, vec, edge_index, rel, window)
        scalars = readout[..., : self.out_channels]
        if self.fibre:
            scalars = scalars.mean(dim=1)
        if self.config.task_level == "graph":
            scalars = scatter(scalars, batch, 0, n_graphs, "sum")
        vectors = None
        if self.out_vector_channels > 0:
            if self.fibre:
                vectors = self._fibre_vectors(readout[..., self.out_channels:])
            else:
                vectors = self._point_vectors(h, vec, edge_index, rel, spatial, pos.size(0))
        return scalars, vectors

    def _fibre_forward(self, pos, x, vec, edge_index, rel, window):
        grid = self.ori_grid.to(device=pos.device, dtype=pos.dtype)
        lifted = [x.unsqueeze(1).expand(-1, grid.size(0), -1)]
        if self.in_vector_channels > 0:
            lifted.append(torch.einsum("ncd,od->noc", vec, grid))
        h = self.embed(torch.cat(lifted, dim=-1))  # (N, O, C)
        spatial = self.spatial_basis(spatial_invariants(rel, grid))  # (E, O, B)
        if window is not None:
            spatial = spatial * window.unsqueeze(-1)
        fibre = self.fibre_basis(fibre_invariants(grid))  # (O, O, B)
        return (*self._blocks(h, edge_index, spatial, fibre), spatial)

    def _point_forward(self, x, vec, edge_index, rel, window):
        src, dst = edge_index
        scal, attr = [x], [pair_distance(rel)]
        if self.in_vector_channels > 0:
            scal.append(torch.einsum("ncd,nkd->nck", vec, vec).flatten(1))
            attr += [torch.einsum("ecd,ed->ec", vec[src], rel),
                     torch.einsum("ecd,ed->ec", vec[dst], rel),
                     (vec[src] * vec[dst]).sum(-1)]
        h = self.embed(torch.cat(scal, dim=-1))
        spatial = self.spatial_basis(torch.cat(attr, dim=-1))  # (E, B)
        if window is not None:
            spatial = spatial * window
        return (*self._blocks(h, edge_index, spatial, None), spatial)

    def _blocks(self, h, edge_index, spatial, fibre):
        outs = []
        n_read = len(self.readouts)
        kernels = shared_basis_kernels(spatial, [block.conv.kernel for block in self.blocks])
        for i, block in enumerate(self.blocks):
            h = block(h, edge_index, spatial, fibre, kernel=kernels[i])
            j = i - (len(self.blocks) - n_read)
            if j >= 0:
                outs.append(self.readouts[j](h))
        if not outs:  # no scalar read-out (position-only model with vector outputs only)
            return h, h.new_zeros((*h.shape[:-1], 0))
        return h, torch.stack(outs).mean(0)

    def _fibre_vectors(self, signal: Tensor) -> Tensor:
        grid = self.ori_grid.to(device=signal.device, dtype=signal.dtype)
        proj = torch.linalg.solve(grid.T @ grid, grid.T)  # (d, O)
        return torch.einsum("noc,do->ncd", signal, proj)

    def _point_vectors(self, h, vec, edge_index, rel, spatial, n):
        src, dst = edge_index
        coef = self.vec_edge(h[src] * self.vec_kernel(spatial))  # (E, V)
        out = scatter(coef.unsqueeze(-1) * rel.unsqueeze(1), dst, 0, n, "sum")
        if self.vec_mix is not None:
            mix = self.vec_mix(h).unflatten(-1, (self.out_vector_channels,
                                                 self.in_vector_channels))
            out = out + torch.einsum("nvk,nkd->nvd", mix, vec)
        return out
