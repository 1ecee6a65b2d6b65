"""A static description of the registries (jobs, models, data sets and their config keys).

The command line answers ``sciml list``, ``sciml data generate NAME --help`` and every recipe
mistake (unknown job, section, key, model or data set, a value of the wrong type) from
``catalog.json`` beside this module, without importing torch: those answers come in well under a
second instead of the 6-10 s that loading the numerical stack takes.

The file is generated from the live registries with ``python -m sciml._catalog --write`` and a
test checks that it equals what the registries say, so it cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sciml.errors import ConfigError

__all__ = ["CATALOG_PATH", "build_catalog", "load_catalog", "check_recipe", "dataset_help",
           "job_entry"]

CATALOG_PATH = Path(__file__).with_name("catalog.json")

_NAMESPACE: dict[str, Any] = {
    "int": int, "float": float, "str": str, "bool": bool, "dict": dict, "list": list,
    "tuple": tuple, "None": None, "Any": Any, "Literal": typing.Literal,
    "Optional": typing.Optional, "Union": typing.Union, "Sequence": Sequence,
    "Mapping": Mapping,
}


def _annotation_text(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("collections.abc.", "")


def _plain(value: Any) -> Any:
    """A JSON value for a default (tuples as lists); other objects as their repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


def _fields(cls: type | None) -> dict[str, Any] | None:
    """``{"class": name, "fields": {key: {"type": text, "default": value?}}}`` of a config."""
    if cls is None:
        return None
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        entry: dict[str, Any] = {"type": _annotation_text(f.type)}
        if f.default is not dataclasses.MISSING:
            entry["default"] = _plain(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            entry["default"] = _plain(f.default_factory())
        else:
            entry["required"] = True
        fields[f.name] = entry
    return {"class": cls.__name__, "fields": fields}


def build_catalog() -> dict[str, Any]:
    """The catalog of the live registries (imports every job, model and data set)."""
    from sciml.registry import DATASETS, JOBS, MODELS

    def entries(registry) -> dict[str, Any]:
        out = {}
        for name, doc in registry.describe().items():
            _, cfg = registry.get(name)
            out[name] = {"help": doc, "config": _fields(cfg)}
        return out

    jobs = {}
    for name, doc in JOBS.describe().items():
        cls, _ = JOBS.get(name)
        jobs[name] = {
            "help": doc,
            "sections": list(cls.sections),
            "configs": {section: _fields(config) for section, (_, config) in
                        sorted(cls.configs.items())},
            "data_section": cls.data_section,
            "models": list(cls.models) if cls.models is not None else None,
        }
    return {"jobs": jobs, "models": entries(MODELS), "datasets": entries(DATASETS)}


@functools.lru_cache(maxsize=1)
def load_catalog() -> dict[str, Any]:
    """The committed catalog (``catalog.json``)."""
    return json.loads(CATALOG_PATH.read_text(encoding="utf-8"))


def _annotation(text: str) -> Any:
    try:
        return eval(text, {"__builtins__": {}}, _NAMESPACE)  # noqa: S307 (our own type texts)
    except Exception:
        return None  # a type this static check does not know: left to the full check


def _check_section(values: Any, config: dict[str, Any] | None, where: str, what: str) -> None:
    """Unknown keys, missing keys and simple type errors of one config section."""
    from sciml.registry import _coerce

    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"recipe key {where} must be a mapping, got {values!r}")
    if config is None:
        if values:
            raise ConfigError(f"{what} takes no configuration, got {dict(values)}")
        return
    fields = config["fields"]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown key {where}.{unknown[0]} for {config['class']}; valid keys: "
                          + ", ".join(sorted(fields)))
    for key, value in values.items():
        annotation = _annotation(fields[key]["type"])
        if annotation is not None:
            _coerce(value, annotation, f"{where}.{key}")
    missing = [k for k, f in fields.items() if f.get("required") and k not in values]
    if missing:
        raise ConfigError(f"missing key {where}.{missing[0]} for {config['class']}")


def job_entry(name: Any) -> dict[str, Any]:
    """The catalog entry of job ``name``; ConfigError listing the jobs if there is none."""
    jobs = load_catalog()["jobs"]
    if not isinstance(name, str) or name not in jobs:
        raise ConfigError(f"unknown job {name!r} (recipe key task); valid jobs: "
                          + ", ".join(sorted(jobs)))
    return jobs[name]


def check_recipe(recipe: Mapping[str, Any]) -> None:
    """Check a recipe against the catalog: the job, its sections, each section's keys, the model
    and the data set with their keys, and values of simple types (numbers, strings, lists).

    Checks that need the numerical code (value ranges, the data themselves) come later, when the
    job is made; this one is quick and runs before torch is imported.

    Raises:
        ConfigError: the first problem found, naming the key and the valid choices.
    """
    catalog = load_catalog()
    job = job_entry(recipe.get("task"))
    sections = job["sections"]
    unknown = sorted(set(recipe) - {"task", *sections})
    if unknown:
        raise ConfigError(f"unknown recipe key {unknown[0]}; valid keys: task, "
                          + ", ".join(sections))
    for section, config in job["configs"].items():
        _check_section(recipe.get(section), config, section, section)
    if "model" in sections:
        model = recipe.get("model") or {}
        if not isinstance(model, Mapping):
            raise ConfigError(f"recipe key model must be a mapping, got {model!r}")
        models = catalog["models"]
        if "name" not in model:
            raise ConfigError("recipe key model.name is missing; valid models: "
                              + ", ".join(sorted(job["models"] or models)))
        name = model["name"]
        if not isinstance(name, str) or name not in models:
            raise ConfigError(f"unknown model {name!r}; valid models: "
                              + ", ".join(sorted(models)))
        if job["models"] is not None and name not in job["models"]:
            raise ConfigError(f"model.name must be one of {job['models']} for a "
                              f"{recipe['task']} recipe, got {name!r}")
        values = {k: v for k, v in model.items() if k != "name"}
        _check_section(values, models[name]["config"], "model", f"model {name!r}")
    data_section = job["data_section"]
    if data_section is not None:
        data = recipe.get(data_section) or {}
        name = data.get("name", (job["configs"].get(data_section) or {}).get("fields", {})
                        .get("name", {}).get("default"))
        datasets = catalog["datasets"]
        if name not in datasets:
            raise ConfigError(f"unknown dataset {name!r}; valid datasets: "
                              + ", ".join(sorted(datasets)))
        _check_section(data.get("options"), datasets[name]["config"], f"{data_section}.options",
                       f"dataset {name!r}")


def dataset_help(name: str) -> str:
    """What ``sciml data generate NAME --help`` prints: the data set and each of its options."""
    datasets = load_catalog()["datasets"]
    if name not in datasets:
        raise ConfigError(f"unknown dataset {name!r}; valid datasets: "
                          + ", ".join(sorted(datasets)))
    entry = datasets[name]
    lines = [f"usage: sciml data generate {name} [--OPTION VALUE ...] [--set KEY=VALUE ...]",
             "", f"{name}: {entry['help']}", "", "options:"]
    fields = (entry["config"] or {"fields": {}})["fields"]
    if not fields:
        lines.append("  (none)")
    for key, f in fields.items():
        flag = "--" + key.replace("_", "-")
        default = "required" if f.get("required") else f"default {json.dumps(f.get('default'))}"
        lines.append(f"  {flag:<24} {f['type']}  ({default})")
    return "\n".join(lines)


def _main(argv: list[str]) -> int:
    if argv == ["--write"]:
        text = json.dumps(build_catalog(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        CATALOG_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {CATALOG_PATH}")
        return 0
    print("usage: python -m sciml._catalog --write", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
