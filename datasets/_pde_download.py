"""Where the published PDE data sets live, and loaders that fetch them: PDEBench (DaRUS),
neuraloperator's small .pt files (GitHub) and FNO's .mat files (Google Drive, manual).
"""

from __future__ import annotations

import os
from pathlib import Path

from sciml.datasets._pde_data import PDEData
from sciml.datasets._pde_formats import load_neuraloperator_pt

from sciml.data import DownloadError, cache_dir, ensure_file

__all__ = ["PDEBENCH_FILES", "NEURALOPERATOR_FILES", "FNO_FILES", "pdebench_file", "fno_file",
           "load_neuraloperator"]

_DARUS = "https://darus.uni-stuttgart.de/api/access/datafile"

#: PDEBench file name -> (DaRUS file id, md5), from ``pdebench/data_download/
#: pdebench_data_urls.csv`` of pdebench/PDEBench (commit 535717d). The Navier–Stokes set has
#: about 270 files ``ns_incom_inhom_2d_512-{i}.h5``; the first ones are listed, the others are in
#: that CSV (pass ``url`` and ``md5`` to :func:`pdebench_file`).
PDEBENCH_FILES: dict[str, tuple[int, str]] = {
    "2D_DarcyFlow_beta0.01_Train.hdf5": (133217, "d05c287d4c0b7d3178b0097084238251"),
    "2D_DarcyFlow_beta0.1_Train.hdf5": (133218, "294f9a03a4aa16b0e386469ca8b471be"),
    "2D_DarcyFlow_beta1.0_Train.hdf5": (133219, "81694ed31306ff2e5f6b76349b0b4389"),
    "2D_DarcyFlow_beta10.0_Train.hdf5": (133220, "a7f23cf8011fc211b180828af39b7d1a"),
    "2D_DarcyFlow_beta100.0_Train.hdf5": (133221, "7c09f3b1bb097737d3fd52ffb0c6f1c8"),
    "1D_Burgers_Sols_Nu0.001.hdf5": (268190, "44cb784d5a07aa2b1c864cabdcf625f9"),
    "1D_Burgers_Sols_Nu0.002.hdf5": (268193, "edf1cd13622d151dfde3e4e5af7a95b4"),
    "1D_Burgers_Sols_Nu0.004.hdf5": (268191, "435e1fecb8a64a0b4563bb8d09f81c33"),
    "1D_Burgers_Sols_Nu0.01.hdf5": (281363, "e6d9a4f62baf9a29121a816b919e2770"),
    "1D_Burgers_Sols_Nu0.02.hdf5": (268189, "7c8c717a3a7818145877baa57106b090"),
    "1D_Burgers_Sols_Nu0.04.hdf5": (281362, "16f4c7afaf8c16238be157e54c9297c7"),
    "1D_Burgers_Sols_Nu0.1.hdf5": (268185, "660ba1008d3843bf4e28d2895eb607ce"),
    "1D_Burgers_Sols_Nu0.2.hdf5": (268187, "01d9333254dff2f3cad090b61f5cf695"),
    "1D_Burgers_Sols_Nu0.4.hdf5": (268192, "58327a6107e8f9defb5075677cc42533"),
    "1D_Burgers_Sols_Nu1.0.hdf5": (281365, "9021eba35332d127306f11ef84c1a60f"),
    "1D_Burgers_Sols_Nu2.0.hdf5": (281364, "70fe0c24d9313e70f6059e5212bdb3d7"),
    "1D_Burgers_Sols_Nu4.0.hdf5": (268188, "8af7f70166c00ffad377c80fa477d81f"),
    "1D_diff-sorp_NA_NA.h5": (133020, "9d466d1213065619d087319e16d9a938"),
    "2D_diff-react_NA_NA.h5": (133017, "b8d0b86064193195ddc30c33be5dc949"),
    "ns_incom_inhom_2d_512-0.h5": (133280, "54109d46f9c957317bd670ddb2068ac0"),
    "ns_incom_inhom_2d_512-1.h5": (136439, "e280fd3208fccb8ad5c1ff46c4796864"),
    "ns_incom_inhom_2d_512-2.h5": (133721, "1d7a2aac41a410bea6c887f624273d20"),
    "ns_incom_inhom_2d_512-10.h5": (133309, "f497297295ce3f2ebfefd81d00de31da"),
}

_NEURALOP = ("https://raw.githubusercontent.com/neuraloperator/neuraloperator/main/"
             "neuralop/data/datasets/data")
#: neuraloperator file name -> (url, sha256 of the file at commit 93d3f063).
NEURALOPERATOR_FILES: dict[str, tuple[str, str]] = {
    "darcy_train_16.pt": (f"{_NEURALOP}/darcy_train_16.pt",
                          "0be662acdb1dab7dfd1a1da0b140e97f75cc94f98a14edcf768abe6968b3b418"),
    "darcy_test_16.pt": (f"{_NEURALOP}/darcy_test_16.pt",
                         "d2b19af9d4a6ae04ba2de54b8ecccc8b89766472faf6ce7f506c0b2a60f69a4c"),
    "burgers_train_16.pt": (f"{_NEURALOP}/burgers_train_16.pt",
                            "d12335adc0d96357a893dc39d72957fa89fda852b00902d94da95aa06af23fa0"),
    "burgers_test_16.pt": (f"{_NEURALOP}/burgers_test_16.pt",
                           "70bb1591e31b254e74ac6097a5520de299da38115cb3f814e8d0f6f19057d201"),
}

_FNO_DRIVE = "https://drive.google.com/drive/folders/1UnbQh2WWc6knEHbLn-ZaXrKUZhp7pjt-"
#: FNO's data files (Li et al., ICLR 2021), shared on Google Drive (no direct download link).
FNO_FILES: dict[str, str] = {
    "piececonst_r421_N1024_smooth1.mat": "Darcy, piecewise-constant a, 421², 1024 samples (train)",
    "piececonst_r421_N1024_smooth2.mat": "Darcy, piecewise-constant a, 421², 1024 samples (test)",
    "ns_V1e-3_N5000_T50.mat": "NS ν=1e-3, 64², T=50 (MATLAB v7.3)",
    "ns_V1e-4_N10000_T30.mat": "NS ν=1e-4, 64², T=30 (MATLAB v7.3)",
    "NavierStokes_V1e-5_N1200_T20.mat": "NS ν=1e-5, 64², T=20 (MATLAB v7.3)",
    "burgers_data_R10.mat": "Burgers ν=0.1, 8192 points, 2048 samples, state at t=1",
}


def _folder(root: str | os.PathLike | None, name: str) -> Path:
    return Path(root) if root is not None else cache_dir() / name


def pdebench_file(
    filename: str,
    root: str | os.PathLike | None = None,
    url: str | None = None,
    md5: str | None = None,
) -> Path:
    """The local path of a PDEBench file, downloaded from DaRUS (and md5-checked) if absent.

    Args:
        filename: A key of :data:`PDEBENCH_FILES`, or any PDEBench file name with ``url``.
        root: Folder (default ``cache_dir()/"pdebench"``).
        url, md5: For files not in the table (see PDEBench's ``pdebench_data_urls.csv``).

    Raises:
        DownloadError: No network or a checksum mismatch; names where to put the file by hand.
    """
    if url is None:
        if filename not in PDEBENCH_FILES:
            raise ValueError(f"unknown PDEBench file {filename!r}; known: "
                             f"{sorted(PDEBENCH_FILES)} (or pass url= and md5=)")
        file_id, md5 = PDEBENCH_FILES[filename]
        url = f"{_DARUS}/{file_id}"
    return ensure_file(_folder(root, "pdebench") / filename, url, md5=md5, verify=False)


def fno_file(filename: str, root: str | os.PathLike | None = None) -> Path:
    """The local path of one of FNO's .mat files, or an error saying where to get it.

    FNO's files are in a Google Drive folder that has no direct download URL: download them by
    hand from the link in the error message (or the FNO repository's README) into ``root``.

    Args:
        filename: The file name (see :data:`FNO_FILES`; others are accepted).
        root: Folder (default ``cache_dir()/"fno"``).

    Raises:
        DownloadError: The file is not in ``root``.
    """
    path = _folder(root, "fno") / filename
    if path.is_file():
        return path
    what = FNO_FILES.get(filename, "an FNO data file")
    raise DownloadError(
        f"{filename} ({what}) is not at {path.resolve()}: FNO's data are on Google Drive without a "
        f"direct link; download it by hand from {_FNO_DRIVE} (linked from the README of "
        "https://github.com/zongyi-li/fourier_neural_operator), unzip it if zipped, and place it "
        f"at {path.resolve()}"
    )


def load_neuraloperator(
    name: str = "darcy",
    resolution: int = 16,
    root: str | os.PathLike | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
) -> PDEData:
    """neuraloperator's small Darcy / Burgers sets (``{name}_{train,test}_{resolution}.pt``).

    Kossaifi et al., "A Library for Learning Neural Operators" (neuraloperator). Darcy: binary
    permeability → pressure on a 16 × 16 grid, 1000 train / 50 test (boundary ``"dirichlet"``);
    Burgers: initial state → 17 snapshots on 16 periodic points, 800 / 400, ν = 0.01 (boundary
    ``"periodic"``). Missing files are downloaded from the repository on GitHub and checked
    against their SHA-256.

    Args:
        name: ``"darcy"`` or ``"burgers"``.
        resolution: 16 (the files shipped with the library).
        root: Folder holding the files (default ``cache_dir()/"neuraloperator"``).
        n_train, n_test: Keep only the first samples.

    Returns:
        :class:`PDEData` (layouts as in :func:`load_neuraloperator_pt`).
    """
    if name not in ("darcy", "burgers"):
        raise ValueError(f"name must be 'darcy' or 'burgers', got {name!r}")
    folder = _folder(root, "neuraloperator")
    tensors = {}
    extra: dict = {}
    for split in ("train", "test"):
        fname = f"{name}_{split}_{resolution}.pt"
        if fname in NEURALOPERATOR_FILES:
            url, sha = NEURALOPERATOR_FILES[fname]
            path = ensure_file(folder / fname, url, sha256=sha, verify=False)
        else:
            path = folder / fname
            if not path.is_file():
                raise DownloadError(f"no file {path}; known downloads: "
                                    f"{sorted(NEURALOPERATOR_FILES)}")
        x, y, more = load_neuraloperator_pt(path)
        n = n_train if split == "train" else n_test
        tensors[split] = (x[:n], y[:n])
        extra.update({k: v for k, v in more.items() if isinstance(v, (int, float, str))})
    boundary = "dirichlet" if name == "darcy" else "periodic"
    params = {"source": "neuraloperator", "name": name, "resolution": resolution, **extra}
    return PDEData(*tensors["train"], *tensors["test"], boundary=boundary,
                   name=f"neuraloperator-{name}{resolution}", params=params)
