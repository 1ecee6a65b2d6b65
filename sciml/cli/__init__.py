"""The ``sciml`` command line (``sciml --help``)."""

from sciml.cli._main import build_parser, main

__all__ = ["main", "build_parser"]
