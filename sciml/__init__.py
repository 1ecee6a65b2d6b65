"""sciml: graph- and operator-focused scientific machine learning."""

__version__ = "0.1.0"
__all__ = ["__version__"]
