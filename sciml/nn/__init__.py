"""Layers: the message-passing base, graph utilities, graph and temporal convolutions, graph
recurrent cells and MLPs. Every layer works on node features with leading batch/time dims
(..., N, C) unless its docstring says otherwise."""

from sciml.nn._adaptive_graph_conv import AdaptiveGraphConv
from sciml.nn._dense_graph_conv import DenseGraphConv, adaptive_adjacency, dense_propagate
from sciml.nn._diffusion_conv import DiffusionConv, diffusion_supports
from sciml.nn._gnn_convs import GATConv, GCNConv, SAGEConv
from sciml.nn._graph import (
    add_self_loops,
    check_edge_index,
    degree,
    dense_to_sparse,
    normalize_adjacency,
    remove_self_loops,
    sparse_to_dense,
    transpose,
)
from sciml.nn._graph_conv import GraphConv
from sciml.nn._graph_gru import AbstractGraphGRUCell, AGCRNCell, DCGRUCell, GCGRUCell
from sciml.nn._gru import gru_layers, gru_sequence
from sciml.nn._message_passing import REDUCTIONS, AbstractMessagePassing, propagate
from sciml.nn._mlp import ACTIVATIONS, MLP, make_activation
from sciml.nn._temporal_conv import GatedTemporalConv, TemporalConv

__all__ = [
    "AbstractMessagePassing",
    "propagate",
    "REDUCTIONS",
    "check_edge_index",
    "degree",
    "add_self_loops",
    "remove_self_loops",
    "transpose",
    "normalize_adjacency",
    "dense_to_sparse",
    "sparse_to_dense",
    "DiffusionConv",
    "diffusion_supports",
    "GraphConv",
    "GCNConv",
    "SAGEConv",
    "GATConv",
    "DenseGraphConv",
    "dense_propagate",
    "adaptive_adjacency",
    "AdaptiveGraphConv",
    "AbstractGraphGRUCell",
    "GCGRUCell",
    "DCGRUCell",
    "AGCRNCell",
    "gru_sequence",
    "gru_layers",
    "TemporalConv",
    "GatedTemporalConv",
    "MLP",
    "ACTIVATIONS",
    "make_activation",
]

# Multigrid convolution (MgNO).
from sciml.nn._multigrid import (  # noqa: E402
    BOUNDARY_PADDING,
    MultigridConv,
    auto_levels,
    grid_hierarchy,
    padding_mode,
)
from sciml.nn._resample import resample_grid  # noqa: E402

__all__ += ["MultigridConv", "BOUNDARY_PADDING", "padding_mode", "auto_levels", "grid_hierarchy",
            "resample_grid"]

# PONITA layers (separable convolution on position-orientation space).
from sciml.nn._ponita_conv import (  # noqa: E402
    ConvNeXtBlock,
    FibreBundleConv,
    KernelBasis,
    PointConv,
    PolynomialCutoff,
    PolynomialFeatures,
    shared_basis_kernels,
)

__all__ += ["FibreBundleConv", "PointConv", "ConvNeXtBlock", "KernelBasis",
            "PolynomialFeatures", "PolynomialCutoff", "shared_basis_kernels"]

# Task-conditioned hypernetworks (continual learning, sciml.train continual).
from sciml.nn._hypernetwork import ChunkedHypernetwork, HyperModel  # noqa: E402

__all__ += ["ChunkedHypernetwork", "HyperModel"]

# Modern Hopfield layers (Ramsauer et al., ICLR 2021).
from sciml.nn._hopfield import Hopfield, HopfieldLayer, HopfieldPooling, hopfield_update  # noqa: E402

__all__ += ["Hopfield", "HopfieldPooling", "HopfieldLayer", "hopfield_update"]
