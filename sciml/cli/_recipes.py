"""Finding recipes (by name or path) and applying ``--set key=value`` overrides."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sciml.errors import ConfigError

__all__ = ["recipe_names", "load_recipe", "apply_overrides", "parse_override"]


def _recipe_dir():
    return resources.files("sciml.recipes")


def recipe_names() -> list[str]:
    return sorted(p.name[:-5] for p in _recipe_dir().iterdir() if p.name.endswith(".yaml"))


def load_recipe(name_or_path: str) -> tuple[str, dict[str, Any]]:
    """Return ``(name, recipe)`` for a shipped recipe name or a YAML file path."""
    path = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise ConfigError(f"recipe file {path} does not exist")
        text = path.read_text()
        name = path.stem
    else:
        entry = _recipe_dir() / f"{name_or_path}.yaml"
        if not entry.is_file():
            raise ConfigError(
                f"unknown recipe {name_or_path!r}; valid recipes: " + ", ".join(recipe_names())
            )
        text = entry.read_text()
        name = name_or_path
    try:
        recipe = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"recipe {name_or_path}: not valid YAML ({e})") from e
    if not isinstance(recipe, dict) or "task" not in recipe:
        raise ConfigError(f"recipe {name_or_path}: expected a mapping with a 'task' key")
    return name, recipe


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"model.hidden_size=32"`` → ``(["model", "hidden_size"], 32)`` (value parsed as YAML)."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".")]
    if not all(parts):
        raise ConfigError(f"--set: malformed key {key!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def apply_overrides(recipe: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of ``recipe`` with each ``key.path=value`` set (sections must exist or be known)."""
    out = copy.deepcopy(recipe)
    for text in overrides:
        parts, value = parse_override(text)
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
