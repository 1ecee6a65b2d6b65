"""Atomic file writes: a reader sees the old file or the complete new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "atomic_torch_save", "write_json", "write_yaml"]


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back (no other thread writes
    # files between the two calls in this process's startup-time use, and the value is cached).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _no_space(e: OSError, path: Path) -> OSError:
    """A full disk reported as one line naming the file that could not be written."""
    return OSError(errno.ENOSPC, f"no space left on device while writing {path}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    The temporary file lives in the same folder (so the rename is atomic on POSIX) and is
    removed if the block raises, so a failed or interrupted write leaves no partial file. The
    file gets the permissions of a plain ``open(path, "w")`` under the user's umask (a bare
    temporary file would be 0600). A full disk raises ``OSError`` ("no space left on device
    while writing PATH").

    Example:
        >>> with atomic_write("out.h5") as tmp:
        ...     write_something(tmp)
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(f"cannot write {path}: {path.parent} is a file, not a "
                                 "folder") from None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except PermissionError:
        raise PermissionError(f"cannot write {path}: no permission to write in "
                              f"{path.parent}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            raise _no_space(e, path) from e
        raise


def atomic_torch_save(obj: object, path: str | os.PathLike) -> None:
    """``torch.save`` through :func:`atomic_write`."""
    import torch

    with atomic_write(path) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError as e:  # torch's zip writer reports a failed write this way
            if "write" not in str(e):
                raise
            import shutil

            if shutil.disk_usage(Path(tmp).parent).free < 1 << 20:
                raise OSError(errno.ENOSPC, f"no space left on device while writing "
                                            f"{path}") from e
            raise OSError(f"cannot write {path}: {str(e).splitlines()[0]}") from e


def _plain(data: Any) -> Any:
    """Plain dicts and lists (YAML's safe dumper knows no dict or list subclasses)."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    return data


def write_yaml(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as YAML (keys in their order), atomically."""
    import yaml

    with atomic_write(path) as tmp:
        tmp.write_text(yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True),
                       encoding="utf-8")


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON with sorted keys, atomically."""
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
