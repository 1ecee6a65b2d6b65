"""Registries of models, data sets and jobs by name, with typed (frozen dataclass) configs.

A registered class declares its configuration as a frozen dataclass; building from a dictionary
(a recipe, ``--set key=value``) rejects unknown keys with an error that lists the valid ones.
Each registry fills itself on first use: asking :data:`MODELS` for its names imports
``sciml.models`` (which registers every model), :data:`DATASETS` imports ``sciml.datasets`` and
:data:`JOBS` imports ``sciml.tasks``.

This module does not import torch, so that the command line can check recipes quickly.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from sciml.errors import ConfigError

__all__ = [
    "Registry",
    "config_from_dict",
    "config_to_dict",
    "config_class_from_signature",
    "MODELS",
    "DATASETS",
    "JOBS",
    "TASKS",
]

T = TypeVar("T")
C = TypeVar("C")


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Convert YAML/CLI values to the annotated type where that is unambiguous."""
    if isinstance(annotation, str):  # unresolved forward reference: leave as is
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any or annotation is None:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(f"{where}: {value!r} matches none of {annotation}")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} values, got {value!r}")
            return tuple(_coerce(v, a, where) for v, a in zip(value, args, strict=True))
        inner = args[0] if args else Any
        out = [_coerce(v, inner, where) for v in value]
        return tuple(out) if origin is tuple else out
    if origin is dict or annotation is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if annotation is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def config_from_dict(cls: type[C], values: Mapping[str, Any] | None, where: str = "") -> C:
    """Build the frozen dataclass ``cls`` from ``values``; unknown keys are an error.

    Args:
        cls: A dataclass type.
        values: Keys and values (from YAML or ``--set``); strings are converted to the field type.
        where: Prefix for error messages (e.g. ``"model"``).
    """
    values = dict(values or {})
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - set(fields))
    prefix = f"{where}." if where else ""
    if unknown:
        raise ConfigError(
            f"unknown key {prefix}{unknown[0]} for {cls.__name__}; valid keys: "
            + ", ".join(sorted(fields))
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        kwargs[key] = _coerce(value, hints.get(key, Any), f"{prefix}{key}")
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"missing key {prefix}{missing[0]} for {cls.__name__}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{prefix.rstrip('.') or cls.__name__}: {e}") from e


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain dictionary of a config dataclass (tuples become lists, for YAML and checkpoints)."""

    def plain(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config)}


class Registry(Generic[T]):
    """Named constructors of one kind (models, data sets, jobs), each with a config dataclass.

    Args:
        kind: What the entries are, for messages (``"model"``).
        fill: The module whose import registers the built-in entries; imported the first time
            the registry is read (names, lookups), not when it is written to.
    """

    def __init__(self, kind: str, fill: str | None = None) -> None:
        self.kind = kind
        self._fill_module = fill
        self._filled = fill is None
        self._entries: dict[str, tuple[Callable[..., T], type | None, str]] = {}

    def _fill(self) -> None:
        if not self._filled:
            self._filled = True  # before importing: the module reads the registry as it loads
            import importlib

            try:
                importlib.import_module(self._fill_module)
            except BaseException:
                self._filled = False
                raise

    def register(self, name: str, config: type | None = None, help: str = "") -> Callable:
        """Class or function decorator registering ``name`` with its config dataclass."""

        def deco(obj: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            doc = help or (obj.__doc__ or "").strip().splitlines()[0:1]
            self._entries[name] = (obj, config, doc if isinstance(doc, str) else "".join(doc))
            return obj

        return deco

    def names(self) -> list[str]:
        self._fill()
        return sorted(self._entries)

    def describe(self) -> dict[str, str]:
        return {n: self._entries[n][2] for n in self.names()}

    def get(self, name: str) -> tuple[Callable[..., T], type | None]:
        self._fill()
        if name not in self._entries:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; valid {self.kind}s: " + ", ".join(self.names())
            )
        obj, cfg, _ = self._entries[name]
        return obj, cfg

    def config(self, name: str, values: Mapping[str, Any] | None = None, where: str = "") -> Any:
        _, cfg = self.get(name)
        if cfg is None:
            if values:
                raise ConfigError(
                    f"{self.kind} {name!r} takes no configuration, got {dict(values)}"
                )
            return None
        return config_from_dict(cfg, values, where or self.kind)

    def build(
        self, name: str, values: Mapping[str, Any] | None = None, *, where: str = "", **extra: Any
    ) -> T:
        """Build ``name`` from config values; ``extra`` are keyword arguments known only at run time
        (e.g. the number of nodes of a data set); ``where`` prefixes key names in errors."""
        obj, cfg = self.get(name)
        if cfg is None:
            if values:
                raise ConfigError(
                    f"{self.kind} {name!r} takes no configuration, got {dict(values)}"
                )
            return obj(**extra)
        return obj(config_from_dict(cfg, values, where or self.kind), **extra)

    def __contains__(self, name: str) -> bool:
        self._fill()
        return name in self._entries


MODELS: Registry = Registry("model", fill="sciml.models")
DATASETS: Registry = Registry("dataset", fill="sciml.datasets")
#: Jobs by name (``forecasting``, ``operator``, ...): what a recipe's ``task:`` key names.
JOBS: Registry = Registry("job", fill="sciml.tasks")
TASKS = JOBS  # the registry's name before it was named for what it holds


def config_class_from_signature(fn: Callable[..., Any], name: str | None = None) -> type:
    """A frozen dataclass whose fields are the keyword parameters of ``fn`` (with their defaults
    and annotations), so that a plain loader function gets a typed, key-checked config."""
    import inspect

    sig = inspect.signature(fn)
    hints = typing.get_type_hints(fn)
    fields = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = hints.get(p.name, Any)
        if p.default is inspect.Parameter.empty:
            fields.append((p.name, ann))
        elif isinstance(p.default, (list, dict, set)):
            fields.append((p.name, ann, dataclasses.field(default_factory=lambda d=p.default: d)))
        else:
            fields.append((p.name, ann, dataclasses.field(default=p.default)))
    cls_name = name or "".join(w.title() for w in fn.__name__.split("_")) + "Config"
    return dataclasses.make_dataclass(cls_name, fields, frozen=True)
