"""Analysis of trained models: representation similarity (CKA, SVCCA, unit matching) of
activations, and :func:`compare_runs` (``sciml compare``) over two trained runs."""

from sciml.analysis._compare import compare_runs, layer_names
from sciml.analysis._similarity import (
    SVCCAResult,
    UnitMatch,
    kernel_cka,
    linear_cka,
    match_units,
    svcca,
    unit_correlations,
)

__all__ = ["compare_runs", "layer_names", "linear_cka", "kernel_cka", "svcca", "SVCCAResult",
           "match_units", "UnitMatch", "unit_correlations"]
