"""Molecules: energy-force and property tasks, the job (recipe → run folder) and its
configuration."""

from sciml.tasks.molecular._config import (
    MolecularDataConfig,
    MolecularEvalConfig,
    MolecularObjectiveConfig,
)
from sciml.tasks.molecular._job import (
    MolecularJob,
    collate_molecules,
    molecules_from_dict,
    molecules_to_dict,
    read_molecules,
)
from sciml.tasks.molecular._task import (
    AtomTypeEncoder,
    EnergyForceTask,
    EnergyTask,
    PropertyTask,
    energy_force_statistics,
    energy_statistics,
)

__all__ = ["AtomTypeEncoder", "EnergyForceTask", "EnergyTask", "PropertyTask",
           "energy_force_statistics", "energy_statistics",
           "MolecularJob", "MolecularDataConfig", "MolecularObjectiveConfig",
           "MolecularEvalConfig", "collate_molecules", "molecules_to_dict",
           "molecules_from_dict", "read_molecules"]
