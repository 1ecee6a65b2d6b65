"""Errors that name the problem: the command line prints them as one line and exits non-zero."""

__all__ = ["SciMLError", "ConfigError", "DataError", "NonFiniteError"]


class SciMLError(Exception):
    """Base class of the errors sciml raises for bad input or configuration."""


class ConfigError(SciMLError, ValueError):
    """An unknown or invalid configuration key, recipe or registered name."""


class DataError(SciMLError, ValueError):
    """A malformed, truncated or inconsistent data file or array (the message names it)."""


class NonFiniteError(SciMLError, FloatingPointError):
    """A NaN or infinity in data, a loss or a gradient (the message says where it came from)."""
