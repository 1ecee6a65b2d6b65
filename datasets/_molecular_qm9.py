"""QM9 (Ramakrishnan et al., Scientific Data 2014): the 12 regression targets with their units.

Sources: the standard release ``dsgdb9nsd.xyz.tar.bz2`` (figshare, 133,885 XYZ files whose line 2
holds the properties), less the 3,054 molecules of ``uncharacterized.txt`` that failed the
consistency check (130,831 remain, as in PyG, DimeNet and PONITA), parsed once into an HDF5 cache;
or an ASE database in schnetpack's layout (``row.data`` with ``energy_U0``, ``homo``, ...,
Hartree, and ``atomrefs`` in the metadata), such as schnetpack's ``test_qm9.db``.

Targets follow PyG / PONITA: energies in eV, and U0, U, H, G as *atomization* energies (the sum of
the free atoms' reference energies subtracted). The common split is
``RandomState(42).permutation(n)``: 110,000 train, 10,000 validation, the rest test.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import numpy as np
from sciml.datasets._molecular import MolecularData, MoleculeDataset, _species, random_split
from sciml.datasets._molecular_ase import read_ase_db
from sciml.datasets._molecular_io import HARTREE_IN_EV, Molecules

from sciml.data import DownloadError, cache_dir, download, file_sha256, read_hdf5, write_hdf5
from sciml.errors import ConfigError, DataError

__all__ = ["QM9_TARGETS", "QM9_URL", "load_qm9", "parse_qm9_xyz", "qm9_release"]

#: The 12 targets: name -> (unit after conversion, 0-based column among the 15 properties of the
#: release's line 2 after "gdb <index>", schnetpack db key).
QM9_TARGETS: dict[str, tuple[str, int, str]] = {
    "mu": ("D", 3, "dipole_moment"),
    "alpha": ("a0^3", 4, "isotropic_polarizability"),
    "homo": ("eV", 5, "homo"),
    "lumo": ("eV", 6, "lumo"),
    "gap": ("eV", 7, "gap"),
    "r2": ("a0^2", 8, "electronic_spatial_extent"),
    "zpve": ("eV", 9, "zpve"),
    "U0": ("eV", 10, "energy_U0"),
    "U": ("eV", 11, "energy_U"),
    "H": ("eV", 12, "enthalpy_H"),
    "G": ("eV", 13, "free_energy"),
    "Cv": ("cal/mol/K", 14, "heat_capacity"),
}
_HARTREE_TARGETS = ("homo", "lumo", "gap", "zpve", "U0", "U", "H", "G")
#: Free-atom reference energies (Hartree) of H, C, N, O, F for U0, U, H, G, from the release's
#: ``atomref.txt`` (figshare file 3195395).
_ATOMREF_HA: dict[str, dict[int, float]] = {
    "U0": {1: -0.500273, 6: -37.846772, 7: -54.583861, 8: -75.064579, 9: -99.718730},
    "U": {1: -0.498857, 6: -37.845355, 7: -54.582445, 8: -75.063163, 9: -99.717314},
    "H": {1: -0.497912, 6: -37.844411, 7: -54.581501, 8: -75.062219, 9: -99.716370},
    "G": {1: -0.510927, 6: -37.861317, 7: -54.598897, 8: -75.079532, 9: -99.733544},
}
_SYMBOLS = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}

QM9_URL = "https://figshare.com/ndownloader/files/3195389"  # dsgdb9nsd.xyz.tar.bz2
#: First 12 hex digits of the release's SHA-256 as published by load-atoms
#: (``database/importers/qm9.py``); no full digest is published.
QM9_SHA256_PREFIX = "3a63848ac806"
QM9_EXCLUDED_URL = "https://figshare.com/ndownloader/files/3195404"  # uncharacterized.txt
_N_EXCLUDED = 3054


def parse_qm9_xyz(text: str, source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse one XYZ file of the QM9 release.

    Line 1: atom count n; line 2: ``gdb <index> A B C mu alpha homo lumo gap r2 zpve U0 U H G
    Cv`` (GHz, D, a0^3, Hartree, a0^2, Hartree, cal/mol/K); n lines ``symbol x y z charge``
    (Mathematica's ``*^`` exponents allowed); then frequencies, SMILES and InChI.

    Returns:
        ``(z (n,), pos (n, 3) Å, properties (15,))`` with the raw values of line 2 after the
        index.
    """
    lines = text.replace("*^", "e").splitlines()
    try:
        n = int(lines[0])
        head = lines[1].split()
        if head[0] != "gdb" or len(head) != 17:
            raise ValueError(f"line 2 is not 'gdb <index>' and 15 properties: {lines[1]!r}")
        props = np.array([float(v) for v in head[2:]], dtype=np.float64)
        rows = [lines[2 + k].split() for k in range(n)]
        unknown = [r[0] for r in rows if r[0] not in _SYMBOLS]
        if unknown:
            raise DataError(f"{source}: unknown element {unknown[0]!r} (QM9 has H, C, N, O, F)")
        z = np.array([_SYMBOLS[r[0]] for r in rows], dtype=np.int64)
        pos = np.array([[float(v) for v in r[1:4]] for r in rows], dtype=np.float64)
    except (IndexError, ValueError) as e:
        raise DataError(f"{source}: not a QM9 XYZ file ({e})") from e
    if not np.isfinite(pos).all():
        raise DataError(f"{source}: NaN or infinite coordinates")
    return z, pos, props


def _convert(raw: np.ndarray, z_list: list[np.ndarray]) -> np.ndarray:
    """Raw release columns (m, 15) -> the 12 targets (m, 12) in their units."""
    out = np.empty((raw.shape[0], len(QM9_TARGETS)), dtype=np.float64)
    for j, (name, (_, col, _)) in enumerate(QM9_TARGETS.items()):
        out[:, j] = raw[:, col]
        if name in _ATOMREF_HA:
            ref = np.array([sum(_ATOMREF_HA[name][int(a)] for a in z) for z in z_list])
            out[:, j] -= ref
        if name in _HARTREE_TARGETS:
            out[:, j] *= HARTREE_IN_EV
    return out


def qm9_release(root: str | os.PathLike | None = None, download_missing: bool = True) -> Path:
    """HDF5 cache of the parsed QM9 release (``<root>/qm9.h5``), built from the archive once.

    Raises:
        DownloadError: No network or a checksum mismatch; says where to put the files by hand.
    """
    root = Path(root) if root is not None else cache_dir() / "qm9"
    cached = root / "qm9.h5"
    if cached.is_file():
        return cached
    archive, excluded = root / "dsgdb9nsd.xyz.tar.bz2", root / "uncharacterized.txt"
    for url, path in ((QM9_URL, archive), (QM9_EXCLUDED_URL, excluded)):
        if not path.is_file():
            if not download_missing:
                raise DataError(f"QM9 file {path} is missing: download {url} and place it there")
            download(url, path, timeout=120.0)
    digest = file_sha256(archive)
    if not digest.startswith(QM9_SHA256_PREFIX):
        raise DownloadError(f"{archive}: SHA-256 {digest[:12]}... does not start with "
                            f"{QM9_SHA256_PREFIX}; delete it and download {QM9_URL} again")
    bad = _read_excluded(excluded)
    z_all, pos_all, raw, index = [], [], [], []
    with tarfile.open(archive, "r:bz2") as tf:
        for member in tf:
            if not member.isfile() or not member.name.endswith(".xyz"):
                continue
            text = io.TextIOWrapper(tf.extractfile(member), encoding="utf-8").read()
            z, pos, props = parse_qm9_xyz(text, f"{archive}:{member.name}")
            gdb = int(text.split("\n", 2)[1].split()[1])
            if gdb in bad:
                continue
            z_all.append(z)
            pos_all.append(pos)
            raw.append(props)
            index.append(gdb)
    order = np.argsort(index)
    counts = np.array([len(z_all[i]) for i in order])
    write_hdf5(cached, {"z": np.concatenate([z_all[i] for i in order]),
                        "pos": np.concatenate([pos_all[i] for i in order]),
                        "counts": counts, "raw": np.stack([raw[i] for i in order]),
                        "gdb_index": np.array(index)[order]},
               params={"source": QM9_URL, "excluded": len(bad)})
    return cached


def _read_excluded(path: Path) -> set[int]:
    ids = set()
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0].isdigit():
            ids.add(int(parts[0]))
    if len(ids) != _N_EXCLUDED:
        raise DataError(f"{path}: expected the {_N_EXCLUDED} uncharacterized molecule ids of the "
                        f"QM9 release, found {len(ids)}; delete it to download it again")
    return ids


def _from_cache(path: Path) -> tuple[Molecules, np.ndarray]:
    arrays, _ = read_hdf5(path)
    splits = np.cumsum(arrays["counts"])[:-1]
    z = np.split(arrays["z"].astype(np.int64), splits)
    pos = np.split(arrays["pos"], splits)
    mols = Molecules(str(path), z, pos, energy_unit="eV").check()
    return mols, _convert(arrays["raw"], z)


def _from_db(path: Path) -> tuple[Molecules, np.ndarray]:
    mols, props, meta = read_ase_db(path)
    units = meta.get("_property_unit_dict", {})
    refs = meta.get("atomrefs", {})
    out = np.empty((len(mols), len(QM9_TARGETS)), dtype=np.float64)
    for j, (name, (_, _, key)) in enumerate(QM9_TARGETS.items()):
        for i, p in enumerate(props):
            if key not in p:
                raise DataError(f"{path}: molecule {i} has no property {key!r} (QM9 target "
                                f"{name!r}); properties: {sorted(p)}")
            out[i, j] = float(np.asarray(p[key]).reshape(-1)[0])
        unit = units.get(key)
        if name in _ATOMREF_HA:
            if key not in refs:
                raise DataError(f"{path}: metadata has no atomrefs for {key!r}, needed for the "
                                f"atomization energy {name!r}")
            table = np.asarray(refs[key], dtype=np.float64)
            out[:, j] -= [table[z].sum() for z in mols.z]
        if name in _HARTREE_TARGETS:
            if unit not in (None, "Ha", "Hartree"):
                raise DataError(f"{path}: {key!r} is in {unit!r}; expected Hartree")
            out[:, j] *= HARTREE_IN_EV
    return mols, out


def load_qm9(target: str = "alpha", path: str | None = None, n_train: int = 110000,
             n_val: int = 10000, n_test: int | None = None, seed: int = 42,
             root: str | None = None, download: bool = True) -> MolecularData:
    """QM9 molecules with one regression target (see :data:`QM9_TARGETS` for names and units).

    Args:
        target: One of ``mu alpha homo lumo gap r2 zpve U0 U H G Cv``.
        path: An ASE database in schnetpack's QM9 layout; default the standard release in the
            cache (downloaded and parsed once).
        n_train, n_val, n_test: Split sizes (default 110000 / 10000 / rest).
        seed: Seed of ``RandomState(seed).permutation`` (42 as in DimeNet and PONITA).
        root: Cache folder of the release (default ``<cache>/qm9``).
        download: Fetch the release if absent.
    """
    if target not in QM9_TARGETS:
        raise ConfigError(f"unknown QM9 target {target!r}; valid: {list(QM9_TARGETS)}")
    if path is not None:
        source = Path(path)
        mols, y = _from_db(source)
    else:
        source = qm9_release(root, download)
        mols, y = _from_cache(source)
    j = list(QM9_TARGETS).index(target)
    column = y[:, j:j + 1]
    tr, va, te = random_split(len(mols), n_train, n_val, seed, n_test, str(source))
    unit = QM9_TARGETS[target][0]
    return MolecularData(f"qm9_{target}", MoleculeDataset(mols, tr, column),
                         MoleculeDataset(mols, va, column), MoleculeDataset(mols, te, column),
                         _species(mols), "eV", targets=(target,), target_units=(unit,),
                         source=str(source))
