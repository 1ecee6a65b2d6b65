"""The generated GPVAR data set: a graph polynomial VAR series, cached as HDF5."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sciml.datasets._forecasting_io import dataset_folder
from sciml.solvers.gpvar import GPVAR_DEFAULT_THETA, generate_gpvar

from sciml.data import SpatioTemporal, read_hdf5, write_hdf5
from sciml.errors import DataError

__all__ = ["load_gpvar", "gpvar_cache_path"]

# Bump when the generator's output for given parameters changes, so old cache files are not used.
_GENERATOR_VERSION = 1


def _params(n_nodes: int, n_steps: int, noise_std: float, seed: int,
            theta: Sequence[Sequence[float]] | None, burn_in: int,
            mean_degree: float | None = None) -> dict:
    theta_arr = GPVAR_DEFAULT_THETA if theta is None else np.asarray(theta, dtype=np.float64)
    extra = {} if mean_degree is None else {"mean_degree": float(mean_degree)}
    return {
        "generator": "sciml.solvers.gpvar.generate_gpvar",
        "generator_version": _GENERATOR_VERSION,
        "n_nodes": int(n_nodes),
        "n_steps": int(n_steps),
        "noise_std": float(noise_std),
        "seed": int(seed),
        "theta": theta_arr.tolist(),
        "burn_in": int(burn_in),
        **extra,
    }


def gpvar_cache_path(params: dict, root: str | os.PathLike | None = None) -> Path:
    """Cache file of a parameter set: ``<root or cache_dir()/gpvar>/gpvar_<hash>.h5``."""
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return dataset_folder(root, "gpvar") / f"gpvar_{key}.h5"


def _read_cached(path: Path, params: dict) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        arrays, attrs = read_hdf5(path, verify=True)
    except DataError:
        return None  # a corrupt or tampered cache file is regenerated (atomically replaced)
    if attrs.get("sciml_params") != params:
        return None
    return arrays


def load_gpvar(
    n_nodes: int = 40,
    n_steps: int = 5000,
    noise_std: float = 0.2,
    seed: int = 0,
    theta: Sequence[Sequence[float]] | None = None,
    burn_in: int = 100,
    root: str | os.PathLike | None = None,
    mean_degree: float | None = None,
) -> SpatioTemporal:
    """Synthetic GPVAR series on a random geometric graph (the default demo and test data set).

    ``x_t = tanh(Σ_l Σ_q Θ[q, l-1] Â^q x_{t-l}) + η_t`` (Zambon & Alippi, NeurIPS 2022; see
    :mod:`sciml.solvers.gpvar` for the model, the graph and the default Θ). The optimal one-step
    forecast has mean squared error ``noise_std²`` (0.04 by default), a floor to judge
    forecasters against. The series is generated once per parameter set and cached as HDF5
    (``write_hdf5``: parameters in ``sciml_params``, content hash in ``sciml_hash``); a cached file
    is used only if its parameters match and its hash verifies, otherwise it is regenerated.

    Args:
        n_nodes: Number of nodes N.
        n_steps: Number of time steps T.
        noise_std: Innovation standard deviation σ.
        seed: Seeds the graph and the noise.
        theta: (Q+1, L) filter coefficients; None = ``GPVAR_DEFAULT_THETA``.
        burn_in: Discarded initial steps.
        root: Cache folder; default ``cache_dir()/"gpvar"``.
        mean_degree: Expected node degree, the same graph density for every N (sparse; see
            :func:`sciml.solvers.gpvar.generate_gpvar`); None: the connected graph at the
            connectivity threshold.

    Returns:
        ``SpatioTemporal`` (T, N, 1), fully observed; ``edge_index`` the undirected graph (both
        directions, no self loops) with ``edge_weight`` 1 (the process used the GCN-normalised
        adjacency with self loops of this graph); no time stamps; name ``"gpvar"``.
    """
    params = _params(n_nodes, n_steps, noise_std, seed, theta, burn_in, mean_degree)
    path = gpvar_cache_path(params, root)
    arrays = _read_cached(path, params)
    if arrays is None:
        series = generate_gpvar(n_nodes=n_nodes, n_steps=n_steps, theta=theta,
                                noise_std=noise_std, seed=seed, burn_in=burn_in,
                                mean_degree=mean_degree)
        arrays = {"values": series.values, "noise": series.noise,
                  "edge_index": series.edge_index, "pos": series.pos}
        write_hdf5(path, arrays, params=params)
    edge_index = torch.as_tensor(arrays["edge_index"], dtype=torch.long)
    return SpatioTemporal(
        arrays["values"][..., None], edge_index=edge_index,
        edge_weight=torch.ones(edge_index.shape[1]), name="gpvar",
    )
