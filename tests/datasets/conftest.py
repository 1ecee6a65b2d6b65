"""Fixtures of the data-set tests: a writer of pandas' HDF5 "fixed" DataFrame layout (with h5py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest


def write_pandas_fixed(
    path: Path,
    columns: Sequence[str],
    index: pd.DatetimeIndex,
    values: np.ndarray,
    blocks: Sequence[Sequence[int]] | None = None,
    key: str = "df",
) -> None:
    """``values`` is (rows, columns); ``blocks`` lists the column positions of each block."""
    blocks = [list(range(len(columns)))] if blocks is None else [list(b) for b in blocks]
    with h5py.File(path, "w") as f:
        g = f.create_group(key)
        g.attrs["pandas_type"] = b"frame"
        g.attrs["ndim"] = 2
        g.attrs["nblocks"] = len(blocks)
        ax0 = g.create_dataset("axis0", data=np.array(columns, dtype="S"))
        ax0.attrs["kind"] = b"string"
        ax1 = g.create_dataset("axis1", data=pd.DatetimeIndex(index).as_unit("ns").asi8)
        ax1.attrs["kind"] = b"datetime64"
        for b, cols in enumerate(blocks):
            # pandas stores each block transposed: (rows, items of the block)
            g.create_dataset(f"block{b}_values", data=values[:, cols])
            g.create_dataset(f"block{b}_items", data=np.array([columns[c] for c in cols],
                                                              dtype="S"))


@pytest.fixture
def pandas_h5():
    """The writer function (PyTables is not installed, so pandas cannot write these files)."""
    return write_pandas_fixed
