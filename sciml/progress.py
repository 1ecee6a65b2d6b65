"""Progress bars for long work (training, data generation), all switched by one rule.

A bar is shown only when its caller asks for one, ``sciml`` is not quiet (``--quiet``,
``sciml.fit(..., progress=False)``, or :func:`quiet`), and standard error is a terminal: output
that goes to a file or a pipe (a batch job's log, CI) never fills up with bar redraws.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["progress_bar", "quiet", "set_quiet", "bars_enabled"]

_QUIET = [False]


def set_quiet(value: bool) -> None:
    """Silence (True) or allow (False) every progress bar of this process."""
    _QUIET[0] = bool(value)


@contextlib.contextmanager
def quiet(value: bool = True) -> Iterator[None]:
    """Within the block, every progress bar is off (``value=True``); the previous setting comes
    back after."""
    before = _QUIET[0]
    _QUIET[0] = bool(value)
    try:
        yield
    finally:
        _QUIET[0] = before


def bars_enabled(requested: bool = True) -> bool:
    """Whether a bar the caller ``requested`` is shown (see the module docstring)."""
    if not requested or _QUIET[0]:
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress_bar(requested: bool = True, **kwargs: Any) -> Any:
    """A ``tqdm`` bar on standard error, or ``None`` when no bar is to be shown."""
    if not bars_enabled(requested):
        return None
    from tqdm.auto import tqdm

    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(**kwargs)
