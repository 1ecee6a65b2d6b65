"""Recipes: YAML files naming a job with its data, model, training and evaluation settings.

The shipped recipes lie in this folder (``sciml list`` shows them); a recipe can also be any YAML
file. :func:`load_recipe` reads one and applies overrides::

    recipe = sciml.load_recipe("darcy-mgno", overrides=["train.max_epochs=5"])
    recipe = sciml.load_recipe("my.yaml", overrides={"model.width": 16})

This module does not import torch: the command line reads and checks recipes before it loads the
numerical libraries, so that a mistyped key is reported at once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sciml.errors import ConfigError

__all__ = ["Recipe", "recipe_names", "load_recipe", "apply_overrides", "parse_override",
           "read_yaml", "read_yaml_text", "yaml_error_message"]


class Recipe(dict):
    """A recipe: the mapping ``{task, data | problem, model, train, eval, ...}`` with its name.

    It is a plain ``dict`` (equal to any dict with the same content); ``name`` is the shipped
    recipe's name or the file's stem and becomes the default run folder ``runs/<name>``.
    """

    def __init__(self, content: Mapping[str, Any] | None = None, name: str = "recipe",
                 source: str | None = None) -> None:
        super().__init__(copy.deepcopy(dict(content or {})))
        self.name = name
        self.source = source

    def __repr__(self) -> str:
        return f"Recipe({self.name!r}, {dict.__repr__(self)})"

    def copy(self) -> Recipe:  # type: ignore[override]
        return Recipe(self, self.name, self.source)

    def with_overrides(self, overrides: Iterable[str] | Mapping[str, Any]) -> Recipe:
        """A copy with ``overrides`` applied (see :func:`apply_overrides`)."""
        return Recipe(apply_overrides(self, overrides), self.name, self.source)


def _recipe_dir():
    return resources.files("sciml.recipes")


def recipe_names() -> list[str]:
    """Names of the shipped recipes."""
    return sorted(p.name[:-5] for p in _recipe_dir().iterdir() if p.name.endswith(".yaml"))


def yaml_error_message(e: yaml.YAMLError) -> str:
    """One line: what is wrong and where (line and column, counted from 1)."""
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(e, "context", None)
    return f"not valid YAML{where}: {problem}" + (f" ({context})" if context else "")


def read_yaml_text(text: str, where: str) -> Any:
    """Parse YAML ``text``; a syntax error is a :class:`ConfigError` naming ``where``, line and
    column."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: {yaml_error_message(e)}") from e


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; an unreadable file or a syntax error is one line naming the file (and
    the line and column)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from e
    return read_yaml_text(text, str(path))


def load_recipe(name_or_path: str | Path,
                overrides: Iterable[str] | Mapping[str, Any] | None = None) -> Recipe:
    """Read a shipped recipe (by name) or a YAML file (by path) and apply ``overrides``.

    Args:
        name_or_path: A name from :func:`recipe_names` or the path of a YAML file.
        overrides: ``["train.max_epochs=5", ...]`` (values parsed as YAML, as ``--set``) or
            ``{"train.max_epochs": 5, ...}``; dotted keys reach into sections.

    Returns:
        The :class:`Recipe`; its keys are checked when a job is made from it (``sciml.fit``).

    Raises:
        ConfigError: an unknown recipe name, a missing file, invalid YAML (with line and
            column), a recipe that is not a mapping with a ``task`` key, a malformed override.
    """
    text_name = str(name_or_path)
    path = Path(name_or_path)
    if text_name.endswith((".yaml", ".yml")) or path.is_file():
        if path.is_dir():
            raise ConfigError(f"recipe file {path} is a folder, not a YAML file")
        if not path.is_file():
            raise ConfigError(f"recipe file {path} does not exist")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read recipe file {path}: {e.strerror or e}") from e
        name, source = path.stem, str(path)
    else:
        entry = _recipe_dir() / f"{text_name}.yaml"
        if not entry.is_file():
            raise ConfigError(
                f"unknown recipe {text_name!r}; valid recipes: " + ", ".join(recipe_names())
            )
        text = entry.read_text(encoding="utf-8")
        name, source = text_name, None
    content = read_yaml_text(text, f"recipe {text_name}")
    if not isinstance(content, dict) or "task" not in content:
        raise ConfigError(f"recipe {text_name}: expected a mapping with a 'task' key")
    recipe = Recipe(content, name, source)
    return recipe.with_overrides(overrides) if overrides else recipe


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"model.hidden_size=32"`` → ``(["model", "hidden_size"], 32)`` (value parsed as YAML)."""
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise ConfigError(f"--set: malformed key {key!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def apply_overrides(recipe: Mapping[str, Any],
                    overrides: Iterable[str] | Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``recipe`` with each override set.

    ``overrides`` is a list of ``"key.path=value"`` strings or a mapping of dotted keys to values.
    Missing sections are created; setting a key under a value that is not a section is an error.
    """
    out = copy.deepcopy(dict(recipe))
    if isinstance(overrides, Mapping):
        items = []
        for key, value in overrides.items():
            parts = [p.strip() for p in str(key).split(".")]
            if not all(parts):
                raise ConfigError(f"override: malformed key {key!r}")
            items.append((f"{key}={value!r}", parts, copy.deepcopy(value)))
    elif isinstance(overrides, str):
        raise ConfigError(f"overrides must be a list of 'key=value' strings or a mapping, got "
                          f"the string {overrides!r}")
    else:
        items = [(text, *parse_override(text)) for text in overrides]
    for text, parts, value in items:
        node = out
        for i, p in enumerate(parts[:-1]):
            child = node.get(p)
            if child is None:
                child = node[p] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text}: {'.'.join(parts[: i + 1])} is not a section")
            node = child
        node[parts[-1]] = value
    return out
