"""Helpers for testing models: equivariance checks."""

from sciml.testing._equivariance import (
    DEFAULT_ATOL,
    OUTPUT_KINDS,
    TRANSFORMS,
    assert_equivariant,
    equivariance_errors,
)

__all__ = ["assert_equivariant", "equivariance_errors", "OUTPUT_KINDS", "TRANSFORMS",
           "DEFAULT_ATOL"]
