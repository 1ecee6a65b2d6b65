"""Configuration of molecular recipes: the ``data``, ``objective`` and ``eval`` sections."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MolecularDataConfig", "MolecularObjectiveConfig", "MolecularEvalConfig", "KINDS"]

KINDS = ("energy_forces", "property")


@dataclass(frozen=True)
class MolecularDataConfig:
    """Which molecular data set.

    Args:
        name: Registered data set (``rmd17``, ``md17``, ``molecules`` (XYZ / ASE files),
            ``qm9``).
        options: Its options (checked against the data set's own config).
    """

    name: str = "rmd17"
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MolecularObjectiveConfig:
    """What is minimised.

    Args:
        kind: ``energy_forces`` (forces as −∂E/∂pos) or ``property`` (QM9 targets).
        energy_weight: ``w_E`` of the energy-force loss.
        force_weight: ``w_F`` of the energy-force loss.
    """

    kind: str = "energy_forces"
    energy_weight: float = 1.0 / 500.0
    force_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        if self.energy_weight < 0 or self.force_weight < 0:
            raise ValueError("energy_weight and force_weight must be >= 0, got "
                             f"{self.energy_weight}, {self.force_weight}")


@dataclass(frozen=True)
class MolecularEvalConfig:
    """Args: eval_rotations: average test predictions over this many random rotations."""

    eval_rotations: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.eval_rotations, bool) or self.eval_rotations < 0:
            raise ValueError(f"eval_rotations must be an integer >= 0, got {self.eval_rotations}")
