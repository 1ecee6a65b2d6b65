"""Registration of the molecular data sets in ``sciml.registry.DATASETS``.

``DATASETS.build("rmd17", {"molecule": "ethanol"})`` builds :func:`load_rmd17`; unknown keys are
errors listing the valid ones (the config is derived from the loader's keyword parameters).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sciml.datasets._molecular import MolecularData, load_md17, load_rmd17
from sciml.datasets._molecular_files import load_molecule_file
from sciml.datasets._molecular_qm9 import load_qm9

from sciml.registry import DATASETS, config_class_from_signature, config_to_dict

__all__: list[str] = []


def _register(name: str, loader: Callable[..., MolecularData]) -> None:
    config = config_class_from_signature(
        loader, name="".join(w.title() for w in name.split("_")) + "DataConfig")

    def build(cfg: Any) -> MolecularData:
        return loader(**config_to_dict(cfg))

    build.__doc__ = loader.__doc__
    build.__name__ = f"build_{name}"
    DATASETS.register(name, config)(build)


for _name, _loader in [("rmd17", load_rmd17), ("md17", load_md17), ("qm9", load_qm9),
                       ("molecule_file", load_molecule_file)]:
    if _name not in DATASETS:
        _register(_name, _loader)
