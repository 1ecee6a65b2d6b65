"""sciml: graph- and operator-focused scientific machine learning.

``sciml.Trainer`` is :class:`sciml.train.Trainer`; the subpackages (``sciml.kernels``,
``sciml.data``, ``sciml.nn``, ``sciml.models``, ``sciml.train``, ``sciml.datasets``,
``sciml.solvers``) hold the rest.
"""

__version__ = "0.1.0"
__all__ = ["__version__", "Trainer"]


def __getattr__(name: str):
    # Lazy, so that `import sciml` stays cheap for the command line's --help.
    if name == "Trainer":
        from sciml.train import Trainer

        return Trainer
    raise AttributeError(f"module 'sciml' has no attribute {name!r}")
