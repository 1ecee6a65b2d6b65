"""Analysis of trained models: representation similarity (CKA, SVCCA, unit matching)."""

from sciml.analysis._similarity import (
    SVCCAResult,
    UnitMatch,
    kernel_cka,
    linear_cka,
    match_units,
    svcca,
    unit_correlations,
)

__all__ = ["linear_cka", "kernel_cka", "svcca", "SVCCAResult", "match_units", "UnitMatch",
           "unit_correlations"]
