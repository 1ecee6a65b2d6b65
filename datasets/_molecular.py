"""Molecular data sets as graphs: rMD17 (official splits, figshare archive) and MD17/sGDML npz
(the user's own files of any format: :mod:`sciml.datasets._molecular_files`).

Each molecule becomes a :class:`MoleculeGraph` (``z``, ``pos``, ``energy``, ``forces``, ``y``)
that PyG's loaders batch by its schema; :class:`MolecularData` holds the train / validation / test
splits and the units, so that tasks report errors in meV and meV/Å.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sciml.datasets._molecular_io import Molecules, read_rmd17_npz, read_sgdml_npz
from sciml.datasets._molecular_units import energy_unit_in_mev

from sciml.data import DownloadError, Graph, cache_dir, download, extract_archive, file_sha256
from sciml.errors import ConfigError, DataError

__all__ = [
    "MoleculeGraph",
    "MoleculeDataset",
    "MolecularData",
    "RMD17_MOLECULES",
    "RMD17_URL",
    "load_rmd17",
    "load_md17",
    "rmd17_archive",
    "random_split",
]


class MoleculeGraph(Graph):
    """One molecule: atomic numbers, positions (Å), energy, forces, properties, periodic cell."""

    schema = {
        "z": "n",
        "pos": "n 3",
        "x": "n f",
        "energy": "g",
        "forces": "n 3",
        "y": "g t",
        "cell": "g 3 3",
        "edge_index": "2 e : n",
    }


class MoleculeDataset(torch.utils.data.Dataset):
    """The molecules ``indices`` of :class:`Molecules` as :class:`MoleculeGraph` items.

    Args:
        molecules: The molecules read from a file.
        indices: Which of them (a split).
        y: Optional per-molecule targets ``(m, t)`` (e.g. QM9 properties), indexed like
            ``molecules``.
    """

    def __init__(self, molecules: Molecules, indices: Sequence[int] | np.ndarray,
                 y: np.ndarray | None = None) -> None:
        self.molecules = molecules
        self.indices = np.asarray(indices, dtype=np.int64)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= len(molecules)):
            raise DataError(f"{molecules.source}: split indices in [{self.indices.min()}, "
                            f"{self.indices.max()}] outside the {len(molecules)} frames")
        self.y = None if y is None else np.asarray(y, dtype=np.float32).reshape(len(molecules), -1)

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getitem__(self, i: int) -> MoleculeGraph:
        k = int(self.indices[i])
        m = self.molecules
        fields = {
            "z": torch.from_numpy(m.z[k]),
            "pos": torch.from_numpy(m.pos[k]).float(),
            # float64: rMD17 energies near -4e5 kcal/mol would lose 0.03 kcal/mol in float32
            "energy": None if m.energy is None else torch.tensor([m.energy[k]],
                                                                   dtype=torch.float64),
            "forces": None if m.forces is None else torch.from_numpy(m.forces[k]).float(),
            "y": None if self.y is None else torch.from_numpy(self.y[k:k + 1]),
        }
        if m.cell is not None and m.cell[k] is not None:
            fields["cell"] = torch.from_numpy(m.cell[k]).float().unsqueeze(0)
        return MoleculeGraph(**fields)


@dataclass
class MolecularData:
    """Splits of a molecular data set and its units.

    Attributes:
        name: Data set name (e.g. ``"rmd17_aspirin"``).
        train, val, test: The splits (``val`` may be empty).
        species: Sorted atomic numbers present in the data set (the one-hot vocabulary).
        energy_unit: Unit of energies in the graphs (forces are per Å).
        targets: Names of the columns of ``y`` (QM9 properties), if any.
        target_units: Unit of each target.
    """

    name: str
    train: MoleculeDataset
    val: MoleculeDataset
    test: MoleculeDataset
    species: tuple[int, ...]
    energy_unit: str = "kcal/mol"
    targets: tuple[str, ...] = ()
    target_units: tuple[str, ...] = ()
    source: str = ""
    info: dict = field(default_factory=dict)

    @property
    def energy_to_mev(self) -> float:
        """Factor from ``energy_unit`` to meV (and from its forces to meV/Å)."""
        return energy_unit_in_mev(self.energy_unit)


def _species(molecules: Molecules) -> tuple[int, ...]:
    seen: set[int] = set()
    last = None
    for z in molecules.z:
        if z is last:  # rMD17 frames share one array
            continue
        seen.update(int(v) for v in np.unique(z))
        last = z
    return tuple(sorted(seen))


def random_split(n: int, n_train: int, n_val: int, seed: int, n_test: int | None = None,
                 source: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded random split ``perm[:n_train]``, the next ``n_val``, then ``n_test`` (default rest).

    ``np.random.RandomState(seed).permutation(n)``: with seed 42 and 110000 / 10000 / rest this
    is the QM9 split of DimeNet and PONITA.
    """
    for name, v in (("n_train", n_train), ("n_val", n_val)):
        if v < 0:
            raise ConfigError(f"{name} must be >= 0, got {v}")
    rest = n - n_train - n_val
    if n_train < 1 or rest < 1:
        raise ConfigError(f"{source or 'data set'}: n_train={n_train} and n_val={n_val} leave "
                          f"{rest} of {n} molecules for testing; lower them")
    n_test = rest if n_test is None else min(n_test, rest)
    perm = np.random.RandomState(seed).permutation(n)
    return (perm[:n_train], perm[n_train:n_train + n_val],
            perm[n_train + n_val:n_train + n_val + n_test])


# ------------------------------------------------------------------------------------ rMD17

#: The ten rMD17 molecules (file ``rmd17/npz_data/rmd17_<name>.npz`` of the archive).
RMD17_MOLECULES = ("aspirin", "azobenzene", "benzene", "ethanol", "malonaldehyde",
                   "naphthalene", "paracetamol", "salicylic", "toluene", "uracil")
#: The rMD17 archive on figshare (article 12672038, file 23950376, ``rmd17.tar.bz2``).
RMD17_URL = "https://figshare.com/ndownloader/files/23950376"
#: First 12 hex digits of the archive's SHA-256, as published by load-atoms
#: (jla-gardner/load-atoms, ``database/importers/rmd17.py``); no full digest is published.
RMD17_SHA256_PREFIX = "cddeea2ec2c4"


def rmd17_archive(root: str | os.PathLike | None = None, download_missing: bool = True) -> Path:
    """The extracted rMD17 folder ``<root>/rmd17`` (``npz_data/``, ``splits/``), fetched if absent.

    Args:
        root: Folder holding ``rmd17.tar.bz2`` / ``rmd17/``; default ``<cache>/rmd17``.
        download_missing: Download the archive (about 1 GB) when it is absent.

    Raises:
        DownloadError: No network or a checksum mismatch; says where to put the file by hand.
    """
    root = Path(root) if root is not None else cache_dir() / "rmd17"
    folder = root / "rmd17"
    if (folder / "npz_data").is_dir():
        return folder
    archive = root / "rmd17.tar.bz2"
    if not archive.is_file():
        if not download_missing:
            raise DataError(f"rMD17 is not at {folder}: download {RMD17_URL} (rmd17.tar.bz2) and "
                            f"place it at {archive.resolve()}, or pass the npz file as path")
        download(RMD17_URL, archive, timeout=120.0)
    digest = file_sha256(archive)
    if not digest.startswith(RMD17_SHA256_PREFIX):
        raise DownloadError(f"{archive}: SHA-256 {digest[:12]}... does not start with "
                            f"{RMD17_SHA256_PREFIX} (corrupt or changed upstream); delete it and "
                            f"download {RMD17_URL} again")
    extract_archive(archive, root)
    if not (folder / "npz_data").is_dir():
        raise DataError(f"{archive}: extracted, but {folder / 'npz_data'} is missing")
    return folder


def _read_split_file(path: Path, n_frames: int) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"rMD17 split file {path} is missing; the archive has "
                        "splits/index_{train,test}_0{1..5}.csv beside npz_data/. Use split=null "
                        "for a seeded random split instead")
    lines = path.read_text().splitlines()
    if lines and lines[0].strip() and not lines[0].split(",")[0].strip().lstrip("-").isdigit():
        lines = lines[1:]  # a header line
    try:
        values = [int(float(tok)) for line in lines
                  for tok in line.replace(",", " ").split() if tok.strip()]
    except ValueError as e:
        raise DataError(f"{path}: split file must hold one integer index per line ({e})") from e
    idx = np.asarray(values, dtype=np.int64)
    if idx.size == 0:
        raise DataError(f"{path}: split file is empty")
    if idx.min() < 0 or idx.max() >= n_frames:
        raise DataError(f"{path}: indices in [{idx.min()}, {idx.max()}] but the molecule has "
                        f"{n_frames} frames")
    return idx


def load_rmd17(molecule: str = "aspirin", path: str | None = None, split: int | None = 1,
               n_train: int | None = None, n_val: int = 50, n_test: int | None = None,
               seed: int = 0, root: str | None = None, download: bool = True) -> MolecularData:
    """rMD17 energies and forces of one molecule (Christensen and von Lilienfeld, MLST 2020).

    The official splits ``splits/index_{train,test}_0<split>.csv`` hold 1000 training and 1000
    test frames; the last ``n_val`` training frames validate. With ``split=None`` the frames are
    split at random (``seed``): ``n_train`` (default 1000), ``n_val``, then ``n_test`` or the rest.

    Args:
        molecule: One of :data:`RMD17_MOLECULES`.
        path: An rMD17 npz file; default ``<archive>/npz_data/rmd17_<molecule>.npz``. Official
            splits are looked up in ``<npz folder>/../splits``.
        split: Official split 1..5, or None for a random one.
        n_train: Training frames (official: at most 1000 - n_val; default all of them).
        n_val: Validation frames.
        n_test: Test frames (default all).
        seed: Seed of the random split.
        root: Folder of the archive (default ``<cache>/rmd17``).
        download: Fetch the archive if absent.
    """
    if molecule not in RMD17_MOLECULES and path is None:
        raise ConfigError(f"unknown rMD17 molecule {molecule!r}; valid: {list(RMD17_MOLECULES)}")
    if path is None:
        npz = rmd17_archive(root, download) / "npz_data" / f"rmd17_{molecule}.npz"
    else:
        npz = Path(path)
    mols = read_rmd17_npz(npz)
    n = len(mols)
    if split is None:
        tr, va, te = random_split(n, 1000 if n_train is None else n_train, n_val, seed, n_test,
                                  str(npz))
    else:
        if split not in (1, 2, 3, 4, 5):
            raise ConfigError(f"rMD17 split must be 1..5 or null, got {split!r}")
        splits = npz.resolve().parent.parent / "splits"
        train_all = _read_split_file(splits / f"index_train_0{split}.csv", n)
        te = _read_split_file(splits / f"index_test_0{split}.csv", n)
        if not 0 <= n_val < train_all.size:
            raise ConfigError(f"n_val={n_val} must be below the {train_all.size} training frames")
        tr, va = train_all[:train_all.size - n_val], train_all[train_all.size - n_val:]
        if n_train is not None:
            tr = tr[:n_train]
        if n_test is not None:
            te = te[:n_test]
    return MolecularData(f"rmd17_{molecule}", MoleculeDataset(mols, tr), MoleculeDataset(mols, va),
                         MoleculeDataset(mols, te), _species(mols), mols.energy_unit,
                         source=str(npz))


def load_md17(path: str, n_train: int = 950, n_val: int = 50, n_test: int | None = None,
              seed: int = 0) -> MolecularData:
    """An original MD17 / sGDML npz file (``z``, ``R``, ``E``, ``F``; Chmiela et al. 2017),
    split at random with ``seed``."""
    mols = read_sgdml_npz(path)
    tr, va, te = random_split(len(mols), n_train, n_val, seed, n_test, str(path))
    return MolecularData(f"md17_{Path(path).stem}", MoleculeDataset(mols, tr),
                         MoleculeDataset(mols, va), MoleculeDataset(mols, te), _species(mols),
                         mols.energy_unit, source=str(path))
